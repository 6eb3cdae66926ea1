package config

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// errLayout is a file laid out in a way the line edit does not handle; [rewriteYAML] does it.
var errLayout = errors.New("config file layout the line edit does not handle")

// editYAML returns data with the key at path set to value (removed when value is nil), changing
// only that key's lines: a YAML encoder would drop blank lines and realign comments, and the
// file is its owner's. A new key goes after the last entry of its mapping, indented like its
// siblings; a removed key takes with it the mappings it leaves empty. list asks for a flow list
// ([a, b]) when the key is new or is a list already. It fails with errLayout where it cannot
// tell which lines are the key's (flow mappings, aliases, quoted keys); the caller also checks
// that the result reads back as intended.
func editYAML(data []byte, path []string, list bool, value *string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if value != nil && strings.ContainsAny(*value, "\r\n") {
		return nil, errLayout
	}
	t := newYAMLText(data, &doc)
	m := documentMap(&doc)
	if m != nil && (m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0) {
		return nil, errLayout
	}
	step := t.step(m)
	type level struct{ m, k, v *yaml.Node }
	var levels []level
	for i, seg := range path {
		k, v := findKey(m, seg)
		switch {
		case k == nil && value == nil:
			return data, nil
		case k == nil:
			at, indent := len(t.lines), ""
			if m != nil && len(m.Content) > 0 {
				_, at = t.span(m.Content[len(m.Content)-2], m.Content[len(m.Content)-1])
				var err error
				if indent, err = t.indentOf(m.Content[0]); err != nil {
					return nil, err
				}
			} else if i > 0 {
				parent := levels[i-1]
				_, at = t.span(parent.k, parent.v)
				pi, err := t.indentOf(parent.k)
				if err != nil {
					return nil, err
				}
				indent = pi + strings.Repeat(" ", step)
			}
			return t.insert(at, chain(path[i:], indent, step, renderValue(*value, list))), nil
		case k.Kind != yaml.ScalarNode || k.Style != 0 || v.Kind == yaml.AliasNode || v.Style&yaml.FlowStyle != 0 && v.Kind == yaml.MappingNode:
			return nil, errLayout
		}
		levels = append(levels, level{m, k, v})
		if i == len(path)-1 {
			break
		}
		switch {
		case v.Kind == yaml.MappingNode:
			m = v
		case isNull(v) && v.Value == "":
			m = nil // "staging:" with nothing under it yet
		default:
			return nil, errLayout
		}
	}
	last := levels[len(levels)-1]
	if value == nil {
		// The emptied mappings go too, up to the top.
		for len(levels) > 1 && len(levels[len(levels)-1].m.Content) == 2 {
			levels = levels[:len(levels)-1]
		}
		gone := levels[len(levels)-1]
		first, end := t.span(gone.k, gone.v)
		return t.replace(first, end, ""), nil
	}
	if last.v.Kind == yaml.MappingNode {
		return nil, errLayout
	}
	first, end := t.span(last.k, last.v)
	indent, err := t.indentOf(last.k)
	if err != nil {
		return nil, err
	}
	line := indent + last.k.Value + ": " + renderValue(*value, list && (isNull(last.v) || last.v.Kind == yaml.SequenceNode))
	return t.replace(first, end, line+t.trailingComment(last.k, last.v)+"\n"), nil
}

// yamlText is a YAML file as lines, with where its nodes start.
type yamlText struct {
	lines  []string // each with its line ending
	starts []int    // the line of every node, sorted
}

func newYAMLText(data []byte, doc *yaml.Node) *yamlText {
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	t := &yamlText{lines: lines}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind != yaml.DocumentNode {
			t.starts = append(t.starts, n.Line)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(doc)
	slices.Sort(t.starts)
	return t
}

// span is the lines (1-based, inclusive) of the mapping entry k: v, without the blank and comment
// lines after it, which belong to what follows (the comment above the next key, say).
func (t *yamlText) span(k, v *yaml.Node) (first, last int) {
	end := max(k.Line, lastLine(v))
	i, _ := slices.BinarySearch(t.starts, end+1)
	last = len(t.lines)
	if i < len(t.starts) {
		last = t.starts[i] - 1
	}
	for last > end && blankOrComment(t.lines[last-1]) {
		last--
	}
	return k.Line, last
}

func lastLine(n *yaml.Node) int {
	line := n.Line
	for _, c := range n.Content {
		line = max(line, lastLine(c))
	}
	return line
}

func blankOrComment(line string) bool {
	s := strings.TrimSpace(line)
	return s == "" || strings.HasPrefix(s, "#")
}

// indentOf is the spaces before the key k, which must start its line.
func (t *yamlText) indentOf(k *yaml.Node) (string, error) {
	line := t.lines[k.Line-1]
	if k.Column-1 > len(line) || strings.TrimLeft(line[:k.Column-1], " ") != "" {
		return "", errLayout
	}
	return line[:k.Column-1], nil
}

// step is how far the file indents a mapping under its key: 2 unless it says otherwise.
func (t *yamlText) step(top *yaml.Node) int {
	if top == nil || top.Kind != yaml.MappingNode {
		return 2
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if v.Kind == yaml.MappingNode && len(v.Content) > 0 && v.Content[0].Column > k.Column {
			return v.Content[0].Column - k.Column
		}
	}
	return 2
}

// trailingComment is the comment at the end of the entry's first line, with the spaces before
// it, so that an aligned comment stays where it was.
func (t *yamlText) trailingComment(k, v *yaml.Node) string {
	comment := v.LineComment
	if comment == "" {
		comment = k.LineComment
	}
	line := strings.TrimRight(t.lines[k.Line-1], "\r\n")
	i := strings.LastIndex(line, comment)
	if comment == "" || i < 0 {
		return ""
	}
	for i > 0 && (line[i-1] == ' ' || line[i-1] == '\t') {
		i--
	}
	return line[i:]
}

// replace returns the file with lines first to last (1-based, inclusive) replaced by text.
func (t *yamlText) replace(first, last int, text string) []byte {
	var b bytes.Buffer
	for _, l := range t.lines[:first-1] {
		b.WriteString(l)
	}
	b.WriteString(text)
	for _, l := range t.lines[last:] {
		b.WriteString(l)
	}
	return b.Bytes()
}

// insert returns the file with text after line at (0: at the start).
func (t *yamlText) insert(at int, text string) []byte {
	var b bytes.Buffer
	for _, l := range t.lines[:at] {
		b.WriteString(l)
	}
	if at > 0 && !strings.HasSuffix(t.lines[at-1], "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(text)
	for _, l := range t.lines[at:] {
		b.WriteString(l)
	}
	return b.Bytes()
}

// chain is the lines that set the key at path to value, each level indented step further.
func chain(path []string, indent string, step int, value string) string {
	var b strings.Builder
	for i, seg := range path {
		b.WriteString(indent + strings.Repeat(" ", i*step) + seg + ":")
		if i == len(path)-1 {
			b.WriteString(" " + value)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// findKey is the entry of the mapping m whose key is name, regardless of case.
func findKey(m *yaml.Node, name string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if strings.EqualFold(m.Content[i].Value, name) {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

var plainListItem = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_:./-]*$`)

// renderValue is value as YAML on one line: a flow list ([users:read, export-jobs:read]) when
// list, else a scalar, quoted only where YAML needs it.
func renderValue(value string, list bool) string {
	if !list {
		out, _ := yaml.Marshal(value)
		return strings.TrimSuffix(string(out), "\n")
	}
	items := splitScopes(value)
	for i, it := range items {
		if !plainListItem.MatchString(it) {
			items[i] = renderValue(it, false)
		}
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// rewriteYAML sets or removes the key at path in the parsed file and writes the file anew, for
// the layouts [editYAML] leaves alone. Comments stay where YAML keeps them; blank lines go.
func rewriteYAML(data []byte, path []string, list bool, value *string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode {
		doc = yaml.Node{Kind: yaml.DocumentNode}
	}
	if documentMap(&doc) == nil {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	maps := []*yaml.Node{resolveAlias(doc.Content[0])}
	for i, seg := range path {
		m := maps[len(maps)-1]
		k, v := findKey(m, seg)
		if i == len(path)-1 {
			switch {
			case value == nil && k != nil:
				m.Content = slices.DeleteFunc(m.Content, func(n *yaml.Node) bool { return n == k || n == v })
			case value != nil:
				node := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: *value}
				if list {
					node = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
					for _, s := range splitScopes(*value) {
						node.Content = append(node.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s})
					}
				}
				if k == nil {
					m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: seg}, node)
				} else {
					node.LineComment = v.LineComment
					*v = *node
				}
			}
			break
		}
		switch {
		case k == nil && value == nil:
			return data, nil
		case k == nil:
			v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: seg}, v)
		case isNull(resolveAlias(v)):
			*v = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", LineComment: v.LineComment}
		}
		v = resolveAlias(v)
		if v.Kind != yaml.MappingNode {
			return nil, errors.New(strings.Join(path[:i+1], ".") + " is not a mapping")
		}
		maps = append(maps, v)
	}
	// The mappings a removal left empty go too.
	for i := len(maps) - 1; i > 0 && len(maps[i].Content) == 0; i-- {
		parent := maps[i-1]
		k, v := findKey(parent, path[i-1])
		parent.Content = slices.DeleteFunc(parent.Content, func(n *yaml.Node) bool { return n == k || n == v })
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}
