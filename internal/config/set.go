package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"

	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// Set writes key = value into the config file: top-level settings at the top, the others under
// the selected environment. The value is checked first with the same check as every other
// source, and the client secret refused. Only the setting's line changes: comments, blank lines
// and the order of the other keys stay as their owner wrote them, and a new key goes at the end
// of its mapping. The file is replaced through [privatefile.Write], as the token stores are:
// mode 0600, synced, renamed into place, so a crash leaves the old file or the new one and no
// temporary file is left for a second writer to trip on. A config.yaml that is a symbolic link
// is refused rather than replaced by a plain file behind its owner's back. Set returns the key's
// path in the file (environments.staging.client_id).
func (c *Config) Set(key, value string) (string, error) {
	s, err := fileSpec(key)
	if err != nil {
		return "", err
	}
	if s.check != nil {
		if err := s.check(value); err != nil {
			return "", &UsageError{fmt.Sprintf("%s: %v", s.Key, err)}
		}
	}
	if s.PerEnv {
		// A misspelt --env must not create an environment; a new one starts with its server.
		if _, known := c.environments[c.Env]; !known && s.Key != "auth_server_url" && s.Key != "authorize_url" && s.Key != "token_url" {
			return "", &UsageError{fmt.Sprintf("unknown environment %q%s; to add a new one, set its auth_server_url first (pleoauth config set auth_server_url https://… --env %s)", c.Env, didYouMean(c.Env, c.Names()), c.Env)}
		}
	}
	path := c.filePath(s)
	if err := c.edit(path, s, &value); err != nil {
		return "", err
	}
	return strings.Join(path, "."), nil
}

// Unset removes key from the config file, the way [Config.Set] writes it: nothing else changes,
// and a mapping left empty (an environment with no settings) goes with it. It returns the key's
// path in the file and whether the file set it.
func (c *Config) Unset(key string) (string, bool, error) {
	s, err := fileSpec(key)
	if err != nil {
		return "", false, err
	}
	path := c.filePath(s)
	joined := strings.Join(path, ".")
	if !c.fileSets(s) {
		return joined, false, nil
	}
	return joined, true, c.edit(path, s, nil)
}

// fileSpec is the setting key names, if config.yaml may hold it.
func fileSpec(key string) (Spec, error) {
	s, ok := lookup(key)
	switch {
	case !ok:
		return Spec{}, unknownSetting(key)
	case s.NotInFile:
		return Spec{}, &UsageError{fmt.Sprintf("the %s is never written to the config file; set %s, or let the login prompt ask for it and keep it in the keychain", strings.ReplaceAll(s.Key, "_", " "), s.Var)}
	}
	return s, nil
}

// unknownSetting names the setting key is a typo of, or else every setting.
func unknownSetting(key string) error {
	if hint := didYouMean(key, keys()); hint != "" {
		return &UsageError{fmt.Sprintf("unknown setting %q%s", key, hint)}
	}
	return &UsageError{fmt.Sprintf("unknown setting %q; known: %s", key, strings.Join(keys(), ", "))}
}

// filePath is where s lives in config.yaml for the selected environment.
func (c *Config) filePath(s Spec) []string {
	if s.PerEnv {
		return []string{"environments", c.Env, s.Key}
	}
	return []string{s.fileKey()}
}

// fileSets tells whether config.yaml, as loaded, sets s.
func (c *Config) fileSets(s Spec) bool {
	if s.PerEnv {
		e, ok := c.file.envs[c.Env]
		return ok && s.get(e) != ""
	}
	_, ok := c.file.top[s.Key]
	return ok
}

// edit sets (value non-nil) or removes the key at path, rereading the file so that a change made
// since this run loaded it is kept.
func (c *Config) edit(path []string, s Spec, value *string) error {
	if err := c.checkWritable(); err != nil {
		return err
	}
	data, err := os.ReadFile(c.File)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &FileError{Path: c.File, Msg: oneLine(err.Error())}
	}
	before, err := decodeBytes(c.File, data)
	if err != nil {
		return err
	}
	want := before.with(s, path, value)
	edited, err := editYAML(data, path, s.Key == "scopes", value)
	if err == nil {
		// The line edit is kept only if the file then reads as the change says, and nothing else
		// moved; a file laid out in a way it does not foresee (flow mappings, a value over several
		// lines) is rewritten whole instead, comments kept where YAML keeps them.
		if got, err := decodeBytes(c.File, edited); err != nil || !reflect.DeepEqual(got, want) {
			edited = nil
		}
	}
	if edited == nil {
		if edited, err = rewriteYAML(data, path, s.Key == "scopes", value); err != nil {
			return &FileError{Path: c.File, Msg: oneLine(err.Error())}
		}
	}
	return privatefile.Write(c.File, edited)
}

// decodeBytes is [readFile] of data already read.
func decodeBytes(path string, data []byte) (fileConfig, error) {
	doc, err := parseYAML(path, data)
	if err != nil {
		return fileConfig{}, err
	}
	return decodeFile(path, doc)
}

// with is fc with the setting s at path set to value, or removed when value is nil.
func (fc fileConfig) with(s Spec, path []string, value *string) fileConfig {
	out := fileConfig{top: map[string]string{}, envs: map[string]Environment{}}
	for k, v := range fc.top {
		out.top[k] = v
	}
	for k, v := range fc.envs {
		out.envs[k] = v
	}
	if !s.PerEnv {
		if value == nil {
			delete(out.top, s.Key)
		} else {
			out.top[s.Key] = *value
		}
		return out
	}
	env := path[1]
	e, ok := out.envs[env]
	if !ok {
		e = Environment{Name: env}
	}
	if value == nil {
		s.set(&e, "")
	} else {
		s.set(&e, *value)
	}
	if value == nil && reflect.DeepEqual(e, Environment{Name: env}) {
		delete(out.envs, env) // its last setting gone, the environment goes too
		return out
	}
	out.envs[env] = e
	return out
}
