package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/viper"
)

// Setting is one resolved value and where it came from.
type Setting struct {
	Key    string
	Value  string
	Source string // "flag", "env PLEOAUTH_…", "file", "built-in", "derived" or "default"
}

// envKeys are the per-environment settings, in the order they are listed.
var envKeys = []string{
	"auth_server_url", "authorize_url", "token_url", "introspect_url", "api_url",
	"client_id", "redirect_uri", "scopes", "client_auth", "on_rotate", "ca_file", "issuer",
}

// Settings lists the selected environment's settings with their sources. The client secret is
// listed only as set or not.
func (c *Config) Settings() ([]Setting, error) {
	e, err := c.Environment()
	if err != nil {
		return nil, err
	}
	out := []Setting{
		{Key: "env", Value: c.Env, Source: c.sourceOfTop("env", "default_env", c.fileDefaultEnv != "")},
		{Key: "store", Value: c.Store, Source: c.sourceOfTop("store", "store", c.fileStore != "")},
		{Key: "min_ttl", Value: c.MinTTL.String(), Source: c.sourceOfTop("min-ttl", "", false)},
	}
	builtin, isBuiltin := builtins()[e.Name]
	file := c.fileEnvs[e.Name]
	for _, k := range envKeys {
		v := e.get(k)
		var src string
		switch {
		case c.overrides.get(k) != "":
			src = c.overrideSource(k)
		case file.get(k) != "":
			src = "file"
		case isBuiltin && builtin.get(k) != "":
			src = "built-in"
		case v == "":
			src = "unset"
		case (strings.HasSuffix(k, "_url") && k != "auth_server_url" && k != "api_url") || k == "issuer":
			src = "derived from auth_server_url"
		default:
			src = "default"
		}
		out = append(out, Setting{Key: k, Value: v, Source: src})
	}
	secret := Setting{Key: "client_secret", Value: "(not set here)", Source: "PLEOAUTH_CLIENT_SECRET, the keychain or a prompt"}
	if e.ClientSecret != "" {
		secret = Setting{Key: "client_secret", Value: "(set, not shown)", Source: "env PLEOAUTH_CLIENT_SECRET"}
	}
	return append(out, secret), nil
}

func (e Environment) get(key string) string {
	switch key {
	case "auth_server_url":
		return e.AuthServerURL
	case "authorize_url":
		return e.AuthorizeURL
	case "token_url":
		return e.TokenURL
	case "introspect_url":
		return e.IntrospectURL
	case "api_url":
		return e.APIURL
	case "client_id":
		return e.ClientID
	case "redirect_uri":
		return e.RedirectURI
	case "scopes":
		return strings.Join(e.Scopes, " ")
	case "client_auth":
		return e.ClientAuth
	case "on_rotate":
		return e.OnRotate
	case "ca_file":
		return e.CAFile
	case "issuer":
		return e.Issuer
	}
	return ""
}

func (c *Config) overrideSource(key string) string {
	flag := map[string]string{"scopes": "scope", "on_rotate": "on-rotate"}[key]
	if flag != "" && flagChanged(c.flags, flag) {
		return "flag --" + flag
	}
	return "env PLEOAUTH_" + strings.ToUpper(key)
}

func (c *Config) sourceOfTop(flag, fileKey string, inFile bool) string {
	switch {
	case flagChanged(c.flags, flag):
		return "flag --" + flag
	case os.Getenv("PLEOAUTH_"+strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))) != "":
		return "env PLEOAUTH_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
	case inFile:
		return "file (" + fileKey + ")"
	default:
		return "default"
	}
}

// Get returns one setting of the selected environment.
func (c *Config) Get(key string) (Setting, error) {
	all, err := c.Settings()
	if err != nil {
		return Setting{}, err
	}
	for _, s := range all {
		if s.Key == key {
			return s, nil
		}
	}
	return Setting{}, &UsageError{fmt.Sprintf("unknown setting %q; known: %s", key, strings.Join(settingNames(), ", "))}
}

func settingNames() []string {
	return append([]string{"env", "store", "min_ttl", "default_env", "client_secret"}, envKeys...)
}

// Set writes key = value into the config file: default_env and store at the top, the others
// under the selected environment. The value is checked first, the client secret refused, and
// the file replaced atomically with mode 0600.
func (c *Config) Set(key, value string) (string, error) {
	var path string
	switch {
	case key == "client_secret":
		return "", &UsageError{"the client secret is never written to the config file; set PLEOAUTH_CLIENT_SECRET, or let \"pleoauth login\" ask for it and keep it in the keychain"}
	case key == "default_env":
		path = "default_env"
	case key == "store":
		if value != StoreKeyring && value != StoreFile {
			return "", &UsageError{fmt.Sprintf("store %q is not %q or %q", value, StoreKeyring, StoreFile)}
		}
		path = "store"
	case slices.Contains(envKeys, key):
		if err := checkValue(key, value); err != nil {
			return "", &UsageError{fmt.Sprintf("%s: %v", key, err)}
		}
		path = "environments." + c.Env + "." + key
	default:
		return "", &UsageError{fmt.Sprintf("unknown setting %q; known: %s", key, strings.Join(settingNames(), ", "))}
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
	if err := os.MkdirAll(c.Home, 0o700); err != nil {
		return "", err
	}
	tmp := filepath.Join(c.Home, ".config.tmp.yaml") // viper picks the format by extension
	if err := f.WriteConfigAs(tmp); err != nil {
		return "", fmt.Errorf("write %s: %w", c.File, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, c.File); err != nil {
		return "", fmt.Errorf("write %s: %w", c.File, err)
	}
	return path, nil
}

func checkValue(key, value string) error {
	switch key {
	case "auth_server_url", "authorize_url", "token_url", "introspect_url", "api_url":
		return CheckServerURL(value)
	case "redirect_uri":
		_, err := ParseRedirectURI(value)
		return err
	case "client_auth":
		if value != ClientAuthBasic && value != ClientAuthBody {
			return fmt.Errorf("%q is not %q or %q", value, ClientAuthBasic, ClientAuthBody)
		}
	}
	return nil
}
