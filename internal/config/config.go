// Package config resolves pleoauth's settings: command-line flag, then PLEOAUTH_* environment
// variable, then the config file, then the built-in default. It is the only package that knows
// about viper; the rest of the program sees a typed [Config].
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Config is the resolved configuration of one run.
type Config struct {
	// Home is the per-user folder: config file, token files and locks (PLEOAUTH_HOME).
	Home string
	// File is the config file's path; it need not exist.
	File string
	// Env is the name of the environment this run works on.
	Env string
	// Store is the token store backend: "keyring" (the default) or "file".
	Store string
	// StoreChosen tells whether Store was set by flag, variable or file rather than defaulted;
	// only a defaulted store may fall back to the file store in CI.
	StoreChosen bool
	// MinTTL is how long a printed token must stay valid (--min-ttl, PLEOAUTH_MIN_TTL).
	MinTTL time.Duration
	// LockTimeout bounds the wait for another process's refresh (--lock-timeout,
	// PLEOAUTH_LOCK_TIMEOUT, lock_timeout).
	LockTimeout time.Duration
	// OnRotateTimeout bounds the on_rotate command, which runs while the refresh lock is held
	// (PLEOAUTH_ON_ROTATE_TIMEOUT, on_rotate_timeout).
	OnRotateTimeout time.Duration

	environments map[string]Environment
	// fileEnvs, fileDefaultEnv and fileStore are what config.yaml itself says, for Settings.
	fileEnvs       map[string]Environment
	fileDefaultEnv string
	fileStore      string
	flags          *pflag.FlagSet
	// overrides are the per-environment settings given by flag or environment variable; they
	// apply to whichever environment is selected.
	overrides Environment
}

// fileConfig is the shape of config.yaml.
type fileConfig struct {
	DefaultEnv      string                     `mapstructure:"default_env"`
	Store           string                     `mapstructure:"store"`
	LockTimeout     string                     `mapstructure:"lock_timeout"`
	OnRotateTimeout string                     `mapstructure:"on_rotate_timeout"`
	Environments    map[string]fileEnvironment `mapstructure:"environments"`
}

type fileEnvironment struct {
	Environment `mapstructure:",squash"`
	// ClientSecret is accepted by the decoder only to refuse it with a clear message.
	ClientSecret string `mapstructure:"client_secret"`
}

// overrideKeys are the per-environment settings that PLEOAUTH_<KEY> (and some flags) override.
var overrideKeys = []string{
	"auth_server_url", "authorize_url", "token_url", "introspect_url", "api_url",
	"client_id", "client_secret", "redirect_uri", "scopes", "client_auth", "on_rotate", "ca_file", "issuer",
}

// Store backends.
const (
	StoreKeyring = "keyring"
	StoreFile    = "file"
)

// Durations unless told otherwise.
const (
	// DefaultMinTTL is how long a printed token stays valid.
	DefaultMinTTL = 60 * time.Second
	// DefaultLockTimeout is how long a command waits for another process's refresh: far longer
	// than a refresh with its retries, so only a stuck holder makes a waiter give up.
	DefaultLockTimeout = 2 * time.Minute
	// DefaultOnRotateTimeout bounds the on_rotate command.
	DefaultOnRotateTimeout = time.Minute
)

// Load resolves the configuration. flags may be nil; the flags it reads when present are "env",
// "scope", "store" and "min-ttl".
func Load(flags *pflag.FlagSet) (*Config, error) {
	home, err := homeDir()
	if err != nil {
		return nil, err
	}
	file := filepath.Join(home, "config.yaml")
	fc, err := readFile(file)
	if err != nil {
		return nil, err
	}

	// A fresh viper per run, never the global one (spf13/viper#233).
	v := viper.New()
	v.SetEnvPrefix("PLEOAUTH")
	for _, k := range []string{"env", "store", "min_ttl", "lock_timeout", "on_rotate_timeout"} {
		if err := v.BindEnv(k); err != nil {
			return nil, err
		}
	}
	for _, k := range overrideKeys {
		if err := v.BindEnv(k); err != nil {
			return nil, err
		}
	}
	if flags != nil {
		for flag, key := range map[string]string{"env": "env", "scope": "scopes", "store": "store", "min-ttl": "min_ttl", "on-rotate": "on_rotate", "lock-timeout": "lock_timeout"} {
			if f := flags.Lookup(flag); f != nil {
				if err := v.BindPFlag(key, f); err != nil {
					return nil, err
				}
			}
		}
	}
	v.SetDefault("env", "staging")
	if fc.DefaultEnv != "" {
		v.SetDefault("env", fc.DefaultEnv)
	}

	if fc.Store != "" {
		v.SetDefault("store", fc.Store)
	}
	v.SetDefault("lock_timeout", fc.LockTimeout)
	v.SetDefault("on_rotate_timeout", fc.OnRotateTimeout)
	c := &Config{Home: home, File: file, Env: strings.ToLower(v.GetString("env")), environments: builtins(),
		fileEnvs: map[string]Environment{}, fileDefaultEnv: fc.DefaultEnv, fileStore: fc.Store, flags: flags}
	c.StoreChosen = fc.Store != "" || os.Getenv("PLEOAUTH_STORE") != "" || flagChanged(flags, "store")
	c.Store = v.GetString("store")
	switch c.Store {
	case "":
		c.Store = StoreKeyring
	case StoreKeyring, StoreFile:
	default:
		return nil, &UsageError{fmt.Sprintf("store %q is not %q or %q; use --store keyring, --store file, or fix PLEOAUTH_STORE / store: in %s", c.Store, StoreKeyring, StoreFile, file)}
	}
	c.MinTTL = DefaultMinTTL
	if raw := v.GetString("min_ttl"); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 {
			return nil, &UsageError{fmt.Sprintf("min-ttl %q is not a duration such as 90s or 5m (--min-ttl, PLEOAUTH_MIN_TTL)", raw)}
		}
		c.MinTTL = d
	}
	for _, t := range []struct {
		key, flag string
		dst       *time.Duration
		def       time.Duration
	}{
		{"lock_timeout", "--lock-timeout, PLEOAUTH_LOCK_TIMEOUT or lock_timeout in " + file, &c.LockTimeout, DefaultLockTimeout},
		{"on_rotate_timeout", "PLEOAUTH_ON_ROTATE_TIMEOUT or on_rotate_timeout in " + file, &c.OnRotateTimeout, DefaultOnRotateTimeout},
	} {
		*t.dst = t.def
		if raw := v.GetString(t.key); raw != "" {
			d, err := time.ParseDuration(raw)
			if err != nil || d <= 0 {
				return nil, &UsageError{fmt.Sprintf("%s %q is not a positive duration such as 30s or 2m (%s)", t.key, raw, t.flag)}
			}
			*t.dst = d
		}
	}
	for name, fe := range fc.Environments {
		if fe.ClientSecret != "" {
			return nil, fmt.Errorf("%s: environments.%s.client_secret is not allowed in a config file; remove it and set PLEOAUTH_CLIENT_SECRET, or let \"pleoauth login\" ask for it", file, name)
		}
		e := fe.Environment
		e.Name = name
		c.fileEnvs[name] = e
		if base, ok := c.environments[name]; ok {
			e = e.mergeOnto(base)
		}
		c.environments[name] = e
	}
	o := Environment{
		AuthServerURL: v.GetString("auth_server_url"),
		AuthorizeURL:  v.GetString("authorize_url"),
		TokenURL:      v.GetString("token_url"),
		IntrospectURL: v.GetString("introspect_url"),
		APIURL:        v.GetString("api_url"),
		ClientID:      v.GetString("client_id"),
		ClientSecret:  v.GetString("client_secret"),
		RedirectURI:   v.GetString("redirect_uri"),
		ClientAuth:    v.GetString("client_auth"),
		OnRotate:      v.GetString("on_rotate"),
		CAFile:        v.GetString("ca_file"),
		Issuer:        v.GetString("issuer"),
		Scopes:        splitScopes(v.GetString("scopes")),
	}
	c.overrides = o
	return c, nil
}

// Names lists the known environments, sorted.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.environments))
	for n := range c.environments {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Environment returns the selected environment with flags and environment variables applied and
// derived URLs filled in. It fails with an [UnknownEnvError] for a name nobody configured.
func (c *Config) Environment() (Environment, error) {
	e, ok := c.environments[c.Env]
	if !ok {
		return Environment{}, &UnknownEnvError{Name: c.Env, Known: c.Names(), File: c.File}
	}
	return c.overrides.mergeOnto(e).withDefaults(), nil
}

// LoginEnvironment is [Config.Environment] checked for everything a login needs.
func (c *Config) LoginEnvironment() (Environment, error) {
	e, err := c.Environment()
	if err != nil {
		return e, err
	}
	return e, e.validateForLogin(c.File)
}

// UsageError reports a setting given on the command line or in the environment that makes no
// sense.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func flagChanged(flags *pflag.FlagSet, name string) bool {
	if flags == nil {
		return false
	}
	f := flags.Lookup(name)
	return f != nil && f.Changed
}

// UnknownEnvError reports an environment name that is neither built in nor in the config file.
type UnknownEnvError struct {
	Name  string
	Known []string
	File  string
}

func (e *UnknownEnvError) Error() string {
	return fmt.Sprintf("unknown environment %q (known: %s); add it under environments: in %s", e.Name, strings.Join(e.Known, ", "), e.File)
}

func homeDir() (string, error) {
	if h := os.Getenv("PLEOAUTH_HOME"); h != "" {
		return filepath.Abs(h)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the per-user config folder: %w; set PLEOAUTH_HOME", err)
	}
	return filepath.Join(dir, "pleoauth"), nil
}

// readFile decodes the config file strictly, so that a misspelt key is an error rather than a
// silently ignored setting. A missing file is an empty configuration.
func readFile(path string) (fileConfig, error) {
	var fc fileConfig
	f := viper.New()
	f.SetConfigFile(path)
	f.SetConfigType("yaml")
	if err := f.ReadInConfig(); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fc, nil
		}
		return fc, fmt.Errorf("read %s: %s; fix the file or move it away", path, oneLine(err.Error()))
	}
	if err := f.UnmarshalExact(&fc, viper.DecodeHook(scopesHook)); err != nil {
		return fc, fmt.Errorf("read %s: %s; fix the file or move it away", path, oneLine(err.Error()))
	}
	return fc, nil
}

// scopesHook lets scopes be written as a YAML list or as one space-separated string, the form
// OAuth uses on the wire (RFC 6749 §3.3).
func scopesHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() == reflect.String && to == reflect.TypeFor[[]string]() {
		return splitScopes(data.(string)), nil
	}
	return data, nil
}

var _ mapstructure.DecodeHookFuncType = scopesHook

func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
