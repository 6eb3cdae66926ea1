package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/viper"

	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// fileConfig is what config.yaml says, decoded through the table of [Specs].
type fileConfig struct {
	top  map[string]string      // top-level settings by key
	envs map[string]Environment // environments.<name>, as written (no built-ins merged)
}

func homeDir(getenv func(string) string) (string, error) {
	if h := getenv("PLEOAUTH_HOME"); h != "" {
		return filepath.Abs(h)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the per-user config folder: %w; set PLEOAUTH_HOME", err)
	}
	return filepath.Join(dir, "pleoauth"), nil
}

// readFile decodes the config file strictly, so that a misspelt key is an error rather than a
// silently ignored setting. A missing file is an empty configuration. The file is read once,
// here, and viper is set up only when there is one to decode: a run without config.yaml (the
// built-in environments and PLEOAUTH_* variables) starts no viper at all.
func readFile(path string) (fileConfig, error) {
	fc := fileConfig{top: map[string]string{}, envs: map[string]Environment{}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fc, nil
	case err != nil:
		return fc, fileError(path, oneLine(err.Error()))
	}
	v := viper.New() // a fresh viper per run, never the global one (spf13/viper#233)
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return fc, fileError(path, oneLine(err.Error()))
	}
	for key, raw := range v.AllSettings() {
		if key == "environments" {
			continue
		}
		s, ok := lookup(key)
		if ok && s.NotInFile {
			return fc, fmt.Errorf("%s: %s is not allowed in a config file; remove it and set %s", path, key, s.Var)
		}
		if !ok || s.PerEnv || s.fileKey() != key {
			return fc, fileError(path, fmt.Sprintf("unknown key %q (top-level keys: %s)", key, strings.Join(topFileKeys(), ", ")))
		}
		value, ok := scalar(raw)
		if !ok {
			return fc, fileError(path, fmt.Sprintf("%s must be a single value", key))
		}
		fc.top[s.Key] = value
	}
	envs, ok := v.Get("environments").(map[string]any)
	if v.IsSet("environments") && !ok {
		return fc, fileError(path, "environments must map names to settings")
	}
	for name, raw := range envs {
		settings, ok := raw.(map[string]any)
		if !ok {
			return fc, fileError(path, fmt.Sprintf("environments.%s must be a map of settings", name))
		}
		e := Environment{Name: name}
		for key, rawValue := range settings {
			s, ok := lookup(key)
			switch {
			case ok && s.NotInFile:
				return fc, fmt.Errorf("%s: environments.%s.%s is not allowed in a config file; remove it and set %s, or let the login prompt ask for it", path, name, key, s.Var)
			case !ok || !s.PerEnv:
				return fc, fileError(path, fmt.Sprintf("unknown key %q under environments.%s (known: %s)", key, name, strings.Join(envFileKeys(), ", ")))
			}
			value, ok := scalar(rawValue)
			if !ok && key == "scopes" {
				value, ok = list(rawValue)
			}
			if !ok {
				return fc, fileError(path, fmt.Sprintf("environments.%s.%s must be a single value", name, key))
			}
			s.set(&e, value)
		}
		fc.envs[name] = e
	}
	return fc, nil
}

func fileError(path, msg string) error {
	return fmt.Errorf("read %s: %s; fix the file or move it away", path, msg)
}

// scalar is a YAML scalar as the text a variable would give.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int, int64, float64, bool:
		return fmt.Sprint(v), true
	case nil:
		return "", true
	}
	return "", false
}

// list joins a YAML list of scalars with spaces, the form OAuth uses for scopes on the wire
// (RFC 6749 §3.3).
func list(v any) (string, bool) {
	items, ok := v.([]any)
	if !ok {
		return "", false
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := scalar(it)
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
		if !s.PerEnv {
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

// Set writes key = value into the config file: top-level settings at the top, the others under
// the selected environment. The value is checked first with the same check as every other
// source, the client secret refused, and the file replaced through [privatefile.Write], as the
// token stores are: mode 0600, synced, renamed into place, so a crash leaves the old file or the
// new one and no temporary file is left for a second writer to trip on. A config.yaml that is a
// symbolic link is refused rather than replaced by a plain file behind its owner's back.
func (c *Config) Set(key, value string) (string, error) {
	s, ok := lookup(key)
	switch {
	case !ok:
		return "", &UsageError{fmt.Sprintf("unknown setting %q; known: %s", key, strings.Join(keys(), ", "))}
	case s.NotInFile:
		return "", &UsageError{fmt.Sprintf("the %s is never written to the config file; set %s, or let the login prompt ask for it and keep it in the keychain", strings.ReplaceAll(s.Key, "_", " "), s.Var)}
	}
	if s.check != nil {
		if err := s.check(value); err != nil {
			return "", &UsageError{fmt.Sprintf("%s: %v", s.Key, err)}
		}
	}
	path := s.fileKey()
	if s.PerEnv {
		// A misspelt --env must not create an environment; a new one starts with its server.
		if _, known := c.environments[c.Env]; !known && s.Key != "auth_server_url" && s.Key != "authorize_url" && s.Key != "token_url" {
			return "", &UsageError{fmt.Sprintf("unknown environment %q%s; to add a new one, set its auth_server_url first (pleoauth config set auth_server_url https://… --env %s)", c.Env, didYouMean(c.Env, c.Names()), c.Env)}
		}
		path = "environments." + c.Env + "." + s.Key
	}
	if err := c.checkWritable(); err != nil {
		return "", err
	}
	f := viper.New()
	f.SetConfigType("yaml")
	f.SetConfigFile(c.File)
	if err := f.ReadInConfig(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %s; fix the file first", c.File, oneLine(err.Error()))
	}
	if key == "scopes" {
		f.Set(path, splitScopes(value))
	} else {
		f.Set(path, value)
	}
	var data bytes.Buffer
	if err := f.WriteConfigTo(&data); err != nil {
		return "", fmt.Errorf("write %s: %w", c.File, err)
	}
	if err := privatefile.Write(c.File, data.Bytes()); err != nil {
		return "", err
	}
	return path, nil
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
