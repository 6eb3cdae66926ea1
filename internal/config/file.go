package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// fileConfig is what config.yaml says, decoded through the table of [Specs].
type fileConfig struct {
	top  map[string]string      // top-level settings by key
	envs map[string]Environment // environments.<name>, as written (no built-ins merged)
}

func homeDir(getenv func(string) string) (string, error) {
	if h := getenv("PLEOAUTH_HOME"); h != "" {
		return checkHome(h)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the per-user config folder: %w; set PLEOAUTH_HOME", err)
	}
	return filepath.Join(dir, "pleoauth"), nil
}

// checkHome refuses a PLEOAUTH_HOME that is not an absolute path. One starting with ~ was
// quoted, so no shell expanded it, and would become a folder named "~" in the current one; a
// relative one would name another folder, with other tokens, from every folder a script runs in.
func checkHome(h string) (string, error) {
	switch {
	case strings.HasPrefix(h, "~"):
		example := "/home/you/pleoauth"
		if h == "~" || strings.HasPrefix(h, "~/") {
			example = "$HOME" + h[1:]
		}
		return "", &UsageError{fmt.Sprintf("PLEOAUTH_HOME %q starts with ~, which a shell expands only unquoted; set an absolute path, e.g. PLEOAUTH_HOME=\"%s\"", h, example)}
	case !filepath.IsAbs(h):
		return "", &UsageError{fmt.Sprintf("PLEOAUTH_HOME %q is a relative path, which names another folder from each folder pleoauth runs in; set an absolute path, e.g. PLEOAUTH_HOME=\"$PWD/%s\"", h, filepath.Clean(h))}
	}
	return filepath.Clean(h), nil
}

// realPath is path with its symbolic links resolved. Path need not exist yet (the first login
// creates PLEOAUTH_HOME): its longest existing part is resolved and the rest joined on, so that
// the name is the same before and after the folder is made.
func realPath(path string) string {
	missing := ""
	for dir := path; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, missing)
		}
		if filepath.Dir(dir) == dir {
			return path
		}
		missing = filepath.Join(filepath.Base(dir), missing)
	}
}

// readFile decodes the config file strictly, so that a misspelt key is an error rather than a
// silently ignored setting. A missing file is an empty configuration. The file is parsed into
// YAML nodes rather than maps, so that every error names the line to fix, and so that
// "config set" can change one line and leave the rest (comments, order) as written.
func readFile(path string) (fileConfig, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fileConfig{top: map[string]string{}, envs: map[string]Environment{}}, nil
	case err != nil:
		return fileConfig{}, &FileError{Path: path, Msg: oneLine(err.Error())}
	}
	doc, err := parseYAML(path, data)
	if err != nil {
		return fileConfig{}, err
	}
	return decodeFile(path, doc)
}

// FileError is a config file that cannot be used as written — a YAML syntax error, an unknown or
// misplaced key, a value of the wrong shape — with the line to fix (0 when there is none).
type FileError struct {
	Path string
	Line int
	Msg  string
	// Next is the step that gets past it; "fix the file or move it away" when empty.
	Next string
}

func (e *FileError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	next := e.Next
	if next == "" {
		next = "fix the file or move it away"
	}
	return where + ": " + e.Msg + "; " + next
}

// parseYAML parses data into its document node. yaml.v3 words a syntax error as
// "yaml: line 3: mapping values are not allowed in this context"; the line goes where a compiler
// puts it, after the file name.
func parseYAML(path string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	err := yaml.Unmarshal(data, &doc)
	if err == nil {
		return &doc, nil
	}
	msg := strings.TrimPrefix(oneLine(err.Error()), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				line, msg = l, after
			}
		}
	}
	return nil, &FileError{Path: path, Line: line, Msg: "YAML: " + msg}
}

// decodeFile reads the settings out of a parsed config file. Keys are matched without regard to
// case, as they always were.
func decodeFile(path string, doc *yaml.Node) (fileConfig, error) {
	fc := fileConfig{top: map[string]string{}, envs: map[string]Environment{}}
	top := documentMap(doc)
	if top == nil {
		return fc, nil // empty, or only comments
	}
	if top.Kind != yaml.MappingNode {
		return fc, &FileError{Path: path, Line: top.Line, Msg: "the file must map setting names to values (default_env: staging)"}
	}
	entries, err := mapEntries(path, top, "")
	if err != nil {
		return fc, err
	}
	for _, en := range entries {
		key := en.name
		if key == "environments" {
			if err := decodeEnvironments(path, en.value, fc.envs); err != nil {
				return fc, err
			}
			continue
		}
		s, ok := lookup(key)
		switch {
		case ok && s.NotInFile:
			return fc, &FileError{Path: path, Line: en.key.Line, Msg: key + " is not allowed in a config file", Next: "remove it and set " + s.Var}
		case ok && s.PerEnv:
			return fc, &FileError{Path: path, Line: en.key.Line, Msg: key + " is set per environment", Next: "move it under environments.<name>"}
		case !ok || s.fileKey() != key:
			return fc, &FileError{Path: path, Line: en.key.Line, Msg: unknownKey(key, "", topFileKeys())}
		}
		value, ok := scalarText(en.value)
		if !ok {
			return fc, &FileError{Path: path, Line: en.value.Line, Msg: key + " must be a single value"}
		}
		fc.top[s.Key] = value
	}
	return fc, nil
}

func decodeEnvironments(path string, node *yaml.Node, envs map[string]Environment) error {
	node = resolveAlias(node)
	if isNull(node) {
		return nil
	}
	if node.Kind != yaml.MappingNode {
		return &FileError{Path: path, Line: node.Line, Msg: "environments must map names to settings"}
	}
	entries, err := mapEntries(path, node, "environments.")
	if err != nil {
		return err
	}
	for _, en := range entries {
		name, settings := en.name, resolveAlias(en.value)
		e := Environment{Name: name}
		if !isNull(settings) && settings.Kind != yaml.MappingNode {
			return &FileError{Path: path, Line: settings.Line, Msg: fmt.Sprintf("environments.%s must be a map of settings", name)}
		}
		fields, err := mapEntries(path, settings, "environments."+name+".")
		if err != nil {
			return err
		}
		for _, f := range fields {
			key := f.name
			s, ok := lookup(key)
			switch {
			case ok && s.NotInFile:
				return &FileError{Path: path, Line: f.key.Line, Msg: fmt.Sprintf("environments.%s.%s is not allowed in a config file", name, key),
					Next: "remove it and set " + s.Var + ", or let the login prompt ask for it"}
			case !ok || !s.PerEnv:
				return &FileError{Path: path, Line: f.key.Line, Msg: unknownKey(key, "environments."+name, envFileKeys())}
			}
			value, ok := scalarText(f.value)
			if !ok && key == "scopes" {
				value, ok = listText(f.value)
			}
			if !ok {
				return &FileError{Path: path, Line: f.value.Line, Msg: fmt.Sprintf("environments.%s.%s must be a single value", name, key)}
			}
			s.set(&e, value)
		}
		envs[name] = e
	}
	return nil
}

// unknownKey says which key is unknown where, with the known key it is a typo of, or else the
// keys that are known there.
func unknownKey(key, under string, known []string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if under != "" {
		msg += " under " + under
	}
	if hint := didYouMean(key, known); hint != "" {
		return msg + hint
	}
	return msg + " (known: " + strings.Join(known, ", ") + ")"
}

// mapEntry is one key and its value in a YAML mapping.
type mapEntry struct {
	name       string // the key, lower case
	key, value *yaml.Node
}

// mapEntries lists the entries of the mapping m (nil or null: none), refusing a key given twice.
func mapEntries(path string, m *yaml.Node, prefix string) ([]mapEntry, error) {
	m = resolveAlias(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	seen := map[string]int{}
	var out []mapEntry
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "<<" {
			return nil, &FileError{Path: path, Line: k.Line, Msg: fmt.Sprintf("%ssettings must be plain names (no merge keys or complex keys)", prefix)}
		}
		name := strings.ToLower(k.Value)
		if line, twice := seen[name]; twice {
			return nil, &FileError{Path: path, Line: k.Line, Msg: fmt.Sprintf("%s%s is given twice (first on line %d)", prefix, name, line)}
		}
		seen[name] = k.Line
		out = append(out, mapEntry{name: name, key: k, value: resolveAlias(v)})
	}
	return out, nil
}

// documentMap is the top node of a parsed file, or nil for a file with no content.
func documentMap(doc *yaml.Node) *yaml.Node {
	if doc == nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	top := resolveAlias(doc.Content[0])
	if isNull(top) {
		return nil
	}
	return top
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// scalarText is a YAML scalar as the text a variable would give; null is empty.
func scalarText(n *yaml.Node) (string, bool) {
	switch {
	case isNull(n):
		return "", true
	case n.Kind == yaml.ScalarNode:
		return n.Value, true
	}
	return "", false
}

// listText joins a YAML list of scalars with spaces, the form OAuth uses for scopes on the wire
// (RFC 6749 §3.3).
func listText(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.SequenceNode {
		return "", false
	}
	out := make([]string, 0, len(n.Content))
	for _, it := range n.Content {
		s, ok := scalarText(resolveAlias(it))
		if !ok {
			return "", false
		}
		out = append(out, s)
	}
	return strings.Join(out, " "), true
}

func topFileKeys() []string {
	out := []string{"environments"}
	for _, s := range Specs() {
		if !s.PerEnv && !s.NotInFile {
			out = append(out, s.fileKey())
		}
	}
	sort.Strings(out)
	return out
}

func envFileKeys() []string {
	var out []string
	for _, s := range Specs() {
		if s.PerEnv && !s.NotInFile {
			out = append(out, s.Key)
		}
	}
	return out
}

// checkWritable makes sure config.yaml can be replaced as a private file: PLEOAUTH_HOME is
// created (0700) when missing, and refused when other users can write to it, as for the tokens
// (they could swap the file that says where the client secret is sent); config.yaml itself must
// not be a symbolic link, which the rename would replace by a plain file while its target kept
// the old settings.
func (c *Config) checkWritable() error {
	if _, err := os.Stat(c.Home); errors.Is(err, fs.ErrNotExist) {
		return privatefile.EnsureDir(c.Home)
	}
	if err := privatefile.CheckNotWritableByOthers(c.Home); err != nil {
		return fmt.Errorf("PLEOAUTH_HOME %w", err)
	}
	fi, err := os.Lstat(c.File)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return nil // a missing file is created; one that cannot be read fails on the read
	}
	target, _ := os.Readlink(c.File)
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(c.File), target)
	}
	return fmt.Errorf("%s is a symbolic link to %s; pleoauth config set writes only a plain file, so edit %s by hand, or replace the link with a copy of it and run the command again", c.File, target, target)
}
