// Package eckconfig edits the operator's eck.yaml in place. It changes only
// the lines of the keys it sets, so every other key, its order and its
// comments stay byte for byte as the user wrote them (a YAML round trip
// would reformat them).
package eckconfig

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Document is an eck.yaml file: a top-level mapping of operator flags.
type Document struct {
	lines []string
	// trailingNewline remembers whether the text ended with "\n".
	trailingNewline bool
	keys            []*yaml.Node
	values          []*yaml.Node
}

// Setting is one top-level key and the scalar value it should hold.
type Setting struct {
	Key   string
	Value string
}

// Parse reads eck.yaml. It refuses anything that is not a single block
// mapping, since such a file cannot be edited line by line safely.
func Parse(text string) (*Document, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&root); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf("eck.yaml is not valid YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("eck.yaml holds more than one YAML document")
	}
	d := &Document{
		lines:           strings.Split(strings.TrimSuffix(text, "\n"), "\n"),
		trailingNewline: strings.HasSuffix(text, "\n"),
	}
	if strings.TrimSpace(text) == "" {
		d.lines = nil
	}
	if root.Kind == 0 || (root.Kind == yaml.DocumentNode && len(root.Content) == 0) {
		return d, nil // empty file: an empty mapping
	}
	m := root.Content[0]
	if m.Kind == yaml.ScalarNode && m.Tag == "!!null" {
		return d, nil // only comments
	}
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("eck.yaml is not a mapping of settings (line %d)", m.Line)
	}
	if m.Style&yaml.FlowStyle != 0 {
		return nil, fmt.Errorf("eck.yaml is a flow mapping ({...}); only block mappings can be edited safely")
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		// The operator would read only one of two equal keys; which one is
		// not ours to guess.
		if line, dup := seen[k.Value]; dup {
			return nil, fmt.Errorf("eck.yaml sets %s twice (lines %d and %d)", k.Value, line, k.Line)
		}
		seen[k.Value] = k.Line
		d.keys = append(d.keys, m.Content[i])
		d.values = append(d.values, m.Content[i+1])
	}
	return d, nil
}

func (d *Document) index(key string) int {
	for i, k := range d.keys {
		if k.Value == key {
			return i
		}
	}
	return -1
}

// Get returns the scalar value of a top-level key.
func (d *Document) Get(key string) (string, bool) {
	i := d.index(key)
	if i < 0 || d.values[i].Kind != yaml.ScalarNode {
		return "", false
	}
	return d.values[i].Value, true
}

// Apply sets each setting, editing the key's own line when it exists and
// adding new keys after the last line it set (or at the end). It returns a
// description of each change, empty when nothing changed.
func (d *Document) Apply(settings []Setting) ([]string, error) {
	var changes []string
	insertAt := -1 // line index after which new keys go
	for _, s := range settings {
		i := d.index(s.Key)
		if i < 0 {
			line := d.indent() + s.Key + ": " + s.Value
			if insertAt < 0 {
				insertAt = len(d.lines) - 1
			}
			d.lines = append(d.lines[:insertAt+1], append([]string{line}, d.lines[insertAt+1:]...)...)
			d.shiftAfter(insertAt, 1)
			insertAt++
			d.keys = append(d.keys, &yaml.Node{Kind: yaml.ScalarNode, Value: s.Key, Line: insertAt + 1, Column: len(d.indent()) + 1})
			d.values = append(d.values, &yaml.Node{Kind: yaml.ScalarNode, Value: s.Value, Line: insertAt + 1, Column: len(line) - len(s.Value) + 1})
			changes = append(changes, fmt.Sprintf("%s: %s (added)", s.Key, s.Value))
			continue
		}
		k, v := d.keys[i], d.values[i]
		if v.Kind != yaml.ScalarNode || v.Line != k.Line || v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || d.continues(k) {
			return nil, fmt.Errorf("eck.yaml: %s (line %d) is not a one-line value; fix it by hand", s.Key, k.Line)
		}
		insertAt = k.Line - 1
		if v.Value == s.Value {
			continue
		}
		line := d.lines[k.Line-1]
		comment := v.LineComment
		if comment == "" {
			comment = k.LineComment // an empty value's comment sits on the key
		}
		suffix := ""
		if comment != "" {
			suffix = " " + comment
		}
		prefix, ok := valuePrefix(line, k, v)
		if !ok {
			return nil, fmt.Errorf("eck.yaml: cannot locate the value of %s on line %d; fix it by hand", s.Key, k.Line)
		}
		d.lines[k.Line-1] = prefix + s.Value + suffix
		changes = append(changes, fmt.Sprintf("%s: %s -> %s", s.Key, displayValue(v.Value), s.Value))
		v.Value = s.Value
	}
	return changes, nil
}

// Delete removes a top-level key whose value is on its own line (a key
// enable added). It reports whether the key was there.
func (d *Document) Delete(key string) (bool, error) {
	i := d.index(key)
	if i < 0 {
		return false, nil
	}
	k, v := d.keys[i], d.values[i]
	if v.Kind != yaml.ScalarNode || v.Line != k.Line || d.continues(k) {
		return false, fmt.Errorf("eck.yaml: %s (line %d) is not a one-line value; remove it by hand", key, k.Line)
	}
	line := k.Line - 1
	d.lines = append(d.lines[:line], d.lines[line+1:]...)
	d.keys = append(d.keys[:i], d.keys[i+1:]...)
	d.values = append(d.values[:i], d.values[i+1:]...)
	d.shiftAfter(line, -1)
	return true, nil
}

// continues tells whether the value on key k's line goes on over the next
// lines (a plain or quoted scalar may): such lines are indented deeper than
// the key.
func (d *Document) continues(k *yaml.Node) bool {
	if k.Line >= len(d.lines) {
		return false
	}
	next := d.lines[k.Line]
	trimmed := strings.TrimLeft(next, " \t")
	return trimmed != "" && len(next)-len(trimmed) > k.Column-1
}

// valuePrefix is the line up to where the value starts: "key: ". An empty
// value has no start of its own, so the prefix ends after the key's colon.
func valuePrefix(line string, k, v *yaml.Node) (string, bool) {
	if v.Value != "" || v.Tag != "!!null" {
		if v.Column-1 > len(line) {
			return "", false
		}
		return line[:v.Column-1], true
	}
	colon := strings.Index(line[k.Column-1:], ":")
	if colon < 0 {
		return "", false
	}
	return line[:k.Column-1+colon+1] + " ", true
}

// indent is the indentation of the file's top-level keys.
func (d *Document) indent() string {
	if len(d.keys) == 0 {
		return ""
	}
	return strings.Repeat(" ", d.keys[0].Column-1)
}

// shiftAfter moves the recorded line numbers of nodes below an inserted line.
func (d *Document) shiftAfter(lineIndex, by int) {
	for i := range d.keys {
		if d.keys[i].Line-1 > lineIndex {
			d.keys[i].Line += by
			d.values[i].Line += by
		}
	}
}

func displayValue(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

// String returns the edited file.
func (d *Document) String() string {
	s := strings.Join(d.lines, "\n")
	if d.trailingNewline && s != "" {
		s += "\n"
	}
	return s
}
