package docs

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

const pluginCommand = "kubectl eck-metrics"

// TestCommandsInTheDocsParse: every "kubectl eck-metrics ..." command shown
// in a code block of the README or of docs/ names a subcommand and flags
// the plugin has, with values its flags take; a renamed or removed flag
// then fails here rather than in a reader's shell. The commands are parsed
// by the plugin's own root command, never run.
func TestCommandsInTheDocsParse(t *testing.T) {
	n := 0
	for _, p := range pages(t) {
		for _, c := range p.commands() {
			n++
			if err := parseCommand(c.args); err != nil {
				t.Errorf("%s:%d: %s %s: %v", p.name, c.line, pluginCommand, strings.Join(c.args, " "), err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no command found in the docs: the parser is broken")
	}
	t.Logf("%d commands parsed", n)
}

func TestWrongCommandsAreReported(t *testing.T) {
	for _, args := range [][]string{
		{"enable", "--no-such-flag"},
		{"enable", "--timeout", "soon"},
		{"no-such-command"},
		{"status", "--probe=maybe"},
	} {
		if err := parseCommand(args); err == nil {
			t.Errorf("%q parses", args)
		}
	}
	for _, args := range [][]string{
		{"enable", "--dry-run=client", "-n", "elastic-system", "-o", "yaml"},
		{"status", "--check", "rbac.binding", "--probe"},
		{"use-cert", "--secret", "s", "--cert", "tls.crt", "--key", "tls.key"},
	} {
		if err := parseCommand(args); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}

// parseCommand finds the subcommand args name and parses its flags.
func parseCommand(args []string) error {
	root := cmd.NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	c, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if c == root && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("no subcommand %q", args[0])
	}
	// Find leaves the flags in rest; ParseFlags takes the inherited ones too.
	return c.ParseFlags(rest)
}

// shownCommand is a command of the plugin written in a code block.
type shownCommand struct {
	line int
	args []string // after "kubectl eck-metrics"
}

// commands are the plugin's commands in the page's code blocks: a line
// "$ kubectl eck-metrics ..." (a transcript) or, in a sh block, a line that
// starts with "kubectl eck-metrics". Continuation lines ending in '\' are
// joined; the command ends at a pipe, a redirection, "&&" or a comment.
func (p page) commands() []shownCommand {
	var cs []shownCommand
	fence := ""
	for i := 0; i < len(p.lines); i++ {
		line := strings.TrimSpace(p.lines[i])
		if fence == "" {
			if strings.HasPrefix(line, "```") {
				fence = strings.TrimPrefix(line, "```")
				if fence == "" {
					fence = "text"
				}
			}
			continue
		}
		if strings.HasPrefix(line, "```") {
			fence = ""
			continue
		}
		text, ok := strings.CutPrefix(line, "$ ")
		if !ok && fence != "sh" {
			continue
		}
		rest, ok := strings.CutPrefix(text, pluginCommand+" ")
		if !ok {
			continue
		}
		start := i + 1
		for strings.HasSuffix(rest, `\`) && i+1 < len(p.lines) {
			i++
			rest = strings.TrimSuffix(rest, `\`) + " " + strings.TrimSpace(p.lines[i])
		}
		cs = append(cs, shownCommand{start, shellWords(rest)})
	}
	return cs
}

// shellWords splits a command line as a shell would, for what the docs
// write: single and double quotes, and the end of the command at |, >, <,
// && or #.
func shellWords(s string) []string {
	var words []string
	var word strings.Builder
	inWord := false
	quote := rune(0)
	flush := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			flush()
		case (r == '|' || r == '>' || r == '<' || r == '&' || r == '#') && !inWord:
			return words
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return words
}
