package docs

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// page is a markdown file of the repository, read once.
type page struct {
	name  string // slash path from the repository root, e.g. docs/status.md
	lines []string
}

func readPage(root, name string) (page, error) {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		return page{}, err
	}
	return page{name: name, lines: strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")}, nil
}

// proseLines calls fn for each line outside fenced code blocks, with its
// 1-based number: links and headings in code are not links or headings.
func (p page) proseLines(fn func(n int, line string)) {
	fence := ""
	for i, line := range p.lines {
		trimmed := strings.TrimLeft(line, " ")
		if fence == "" {
			if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
				fence = trimmed[:3]
				continue
			}
			fn(i+1, line)
		} else if strings.HasPrefix(trimmed, fence) {
			fence = ""
		}
	}
}

var headingLine = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)

// heading is an ATX heading: its level and its text as written.
type heading struct {
	level int
	text  string
}

func (p page) headings() []heading {
	var hs []heading
	p.proseLines(func(_ int, line string) {
		if m := headingLine.FindStringSubmatch(line); m != nil {
			hs = append(hs, heading{len(m[1]), m[2]})
		}
	})
	return hs
}

// anchors are the fragment IDs GitHub gives the page's headings; a repeated
// slug gets -1, -2, … as GitHub numbers them.
func (p page) anchors() map[string]bool {
	seen := map[string]int{}
	anchors := map[string]bool{}
	for _, h := range p.headings() {
		s := slug(h.text)
		if n := seen[s]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			anchors[s] = true
		}
		seen[s]++
	}
	return anchors
}

var (
	inlineLink = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]*)[^)]*\)`)
	emphasis   = regexp.MustCompile(`[*]`)
)

// slug is GitHub's anchor for a heading: the rendered text (code spans and
// links reduced to their text) lowercased, every character other than a
// letter, a digit, a space, '-' or '_' dropped, spaces turned into '-'.
func slug(text string) string {
	text = inlineLink.ReplaceAllString(text, "$1")
	text = strings.ReplaceAll(text, "`", "")
	text = emphasis.ReplaceAllString(text, "")
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(text)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	codeSpan      = regexp.MustCompile("`+[^`]*`+")
	referenceLink = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s+(\S+)`)
)

// link is a link target written in a page, with the line it is on.
type link struct {
	line   int
	target string
}

// links are the targets of the page's inline and reference links, outside
// code.
func (p page) links() []link {
	var ls []link
	p.proseLines(func(n int, line string) {
		if m := referenceLink.FindStringSubmatch(line); m != nil {
			ls = append(ls, link{n, m[1]})
			return
		}
		for _, m := range inlineLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
			ls = append(ls, link{n, m[2]})
		}
	})
	return ls
}

// brokenLinks lists the links of the page that lead nowhere: a file of the
// repository that does not exist, or an anchor its page does not have.
// External links (a scheme such as https:) are not followed.
func brokenLinks(root string, p page) []string {
	var problems []string
	for _, l := range p.links() {
		if l.target == "" || regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`).MatchString(l.target) {
			continue
		}
		file, fragment, _ := strings.Cut(l.target, "#")
		target := p.name
		if file != "" {
			target = path.Clean(path.Join(path.Dir(p.name), file))
			if target == ".." || strings.HasPrefix(target, "../") {
				problems = append(problems, fmt.Sprintf("%s:%d: %s leaves the repository", p.name, l.line, l.target))
				continue
			}
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); err != nil {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: no file %s", p.name, l.line, l.target, target))
				continue
			}
		}
		if fragment == "" {
			continue
		}
		if !strings.HasSuffix(target, ".md") {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: an anchor into a file that is not markdown", p.name, l.line, l.target))
			continue
		}
		linked, err := readPage(root, target)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: %v", p.name, l.line, l.target, err))
			continue
		}
		if !linked.anchors()[fragment] {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: %s has no heading with anchor #%s", p.name, l.line, l.target, target, fragment))
		}
	}
	return problems
}
