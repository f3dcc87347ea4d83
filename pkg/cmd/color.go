package cmd

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// colorFlag is --color: auto colours and symbols only on a terminal.
type colorFlag struct{ mode string }

func (c *colorFlag) validate() error {
	switch c.mode {
	case "auto", "always", "never":
		return nil
	}
	return fmt.Errorf("invalid --color %q: use auto, always or never", c.mode)
}

// enabled tells whether output to w gets colour and symbols.
func (c *colorFlag) enabled(w io.Writer) bool {
	switch c.mode {
	case "always":
		return true
	case "never":
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == ""
}

// style renders outcome marks: ASCII for pipes and files, coloured symbols
// on a terminal.
type style struct{ color bool }

const (
	ansiReset  = "\x1b[0m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiRed    = "\x1b[31m"
	ansiGrey   = "\x1b[90m"
)

func (s style) mark(outcome string) string {
	if !s.color {
		return map[string]string{"pass": "[ok]  ", "warn": "[warn]", "fail": "[FAIL]", "skip": "[skip]"}[outcome]
	}
	return map[string]string{
		"pass": ansiGreen + "√" + ansiReset,
		"warn": ansiYellow + "‼" + ansiReset,
		"fail": ansiRed + "×" + ansiReset,
		"skip": ansiGrey + "-" + ansiReset,
	}[outcome]
}

// hintIndent lines the hint up under the check's name.
func (s style) hintIndent() string {
	if s.color {
		return "    "
	}
	return "       "
}
