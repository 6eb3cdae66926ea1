// Package config resolves pleoauth's settings: command-line flag, then PLEOAUTH_* environment
// variable, then the config file, then the built-in default, each checked the same way
// whatever its source. Every setting is described once, in the table of [Specs]. It is the only
// package that reads or writes config.yaml; the rest of the program sees a typed [Config].
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// Config is the resolved configuration of one run.
type Config struct {
	// Home is the per-user folder: config file, token files and locks (PLEOAUTH_HOME).
	Home string
	// RealHome is Home with its symbolic links resolved, once, when the configuration is
	// loaded: the keychain names its items after it, so that one folder reached by two paths
	// is one login, not two.
	RealHome string
	// File is the config file's path; it need not exist.
	File string
	// Env is the name of the environment this run works on.
	Env string
	// Profile names the login of that environment this run works on ([DefaultProfile] unless
	// told otherwise); ProfileChosen tells whether a flag, variable or file chose it.
	Profile       string
	ProfileChosen bool
	// Store is the token store backend: "keyring" (the default), "file" or "redis".
	Store string
	// StoreChosen tells whether Store was set by flag, variable or file rather than defaulted;
	// only a defaulted store follows a login to the store that holds it, or falls back to the
	// file store in CI. StoreFrom names what chose it, for messages: "--store",
	// "PLEOAUTH_STORE" or "store: in <config file>" ("" when defaulted).
	StoreChosen bool
	StoreFrom   string
	// MinTTL is how long a token handed out must stay valid.
	MinTTL time.Duration
	// LockTimeout bounds the wait for another process's refresh.
	LockTimeout time.Duration
	// UnsavedTimeout is how long a refresh token another process spent may stay without its
	// answer in the store before the login is said to be lost (rather than "not saved yet").
	UnsavedTimeout time.Duration
	// OnRotateTimeout bounds the on_rotate command, which runs while the refresh lock is held.
	OnRotateTimeout time.Duration
	// Redis is the redis store's server and its settings.
	Redis RedisSettings

	environments map[string]Environment // built-in, with config.yaml's settings merged on
	file         fileConfig
	flags        *pflag.FlagSet
	getenv       func(string) string
}

// DefaultProfile is the profile of a login made without --profile, and of every login stored
// before profiles existed.
const DefaultProfile = "default"

// Store backends.
const (
	StoreKeyring = "keyring"
	StoreFile    = "file"
	StoreRedis   = "redis"
)

// RedisSettings are what the redis store needs.
type RedisSettings struct {
	URL      string
	Password string // PLEOAUTH_REDIS_PASSWORD only
	Prefix   string
	Timeout  time.Duration
	LockTTL  time.Duration
	// StoreKey seals the bundles (PLEOAUTH_STORE_KEY only), base64.
	StoreKey string
}

// Durations unless told otherwise.
const (
	// DefaultMinTTL is how long a printed token stays valid.
	DefaultMinTTL = 60 * time.Second
	// DefaultLockTimeout is how long a command waits for another process's refresh: far longer
	// than a refresh with its retries, so only a stuck holder makes a waiter give up.
	DefaultLockTimeout = 2 * time.Minute
	// DefaultUnsavedTimeout: a machine paused or cut off for longer than this is taken as gone,
	// so its unsaved refresh as lost; when it comes back, its journal still saves the answer
	// if no new login replaced it meanwhile.
	DefaultUnsavedTimeout = 10 * time.Minute
	// DefaultOnRotateTimeout bounds the on_rotate command.
	DefaultOnRotateTimeout = time.Minute
	// DefaultLockTTL is the life of the redis store's lock: longer than the longest refresh (a
	// 30-second HTTP timeout, retries and their waits), and extended while a refresh runs.
	DefaultLockTTL = 2 * time.Minute
)

// Load resolves the configuration from flags (which may be nil; it reads the flags of the
// settings that have one), getenv and the config file in PLEOAUTH_HOME.
func Load(flags *pflag.FlagSet, getenv func(string) string) (*Config, error) {
	home, err := homeDir(getenv)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(home); err == nil && !fi.IsDir() {
		return nil, &UsageError{fmt.Sprintf("PLEOAUTH_HOME %s is a file, not a folder; point PLEOAUTH_HOME at a folder (it holds config.yaml, tokens and locks)", home)}
	}
	c := &Config{Home: home, RealHome: realPath(home), File: filepath.Join(home, "config.yaml"), flags: flags, getenv: getenv, environments: builtins()}
	if c.file, err = readFile(c.File); err != nil {
		return nil, err
	}
	for name, e := range c.file.envs {
		if base, ok := c.environments[name]; ok {
			e = e.mergeOnto(base)
		}
		c.environments[name] = e
	}
	top, source := map[string]string{}, map[string]string{}
	for _, s := range Specs() {
		if s.PerEnv {
			continue
		}
		v, src := c.resolve(s, "")
		if s.Key == "env" {
			v = strings.ToLower(v)
		}
		if err := c.checkValue(s, v, src, ""); err != nil {
			return nil, err
		}
		top[s.Key], source[s.Key] = v, src
	}
	c.Env, c.Store, c.Profile = top["env"], top["store"], top["profile"]
	c.ProfileChosen = source["profile"] != "default"
	c.StoreChosen = source["store"] != "default"
	c.StoreFrom = c.chosenBy(source["store"], "store")
	c.MinTTL, _ = time.ParseDuration(top["min_ttl"])
	c.LockTimeout, _ = time.ParseDuration(top["lock_timeout"])
	c.OnRotateTimeout, _ = time.ParseDuration(top["on_rotate_timeout"])
	c.UnsavedTimeout, _ = time.ParseDuration(top["unsaved_timeout"])
	c.Redis = RedisSettings{URL: top["redis_url"], Password: top["redis_password"], Prefix: top["redis_prefix"], StoreKey: top["store_key"]}
	c.Redis.Timeout, _ = time.ParseDuration(top["redis_timeout"])
	c.Redis.LockTTL, _ = time.ParseDuration(top["lock_ttl"])
	// A password belongs in a variable, never in a file or on a command line others can read.
	if strings.HasPrefix(source["redis_url"], "file") {
		if _, err := url.Parse(c.Redis.URL); err == nil && RedactURL(c.Redis.URL) != c.Redis.URL {
			return nil, &UsageError{fmt.Sprintf("redis_url in %s holds a password; remove it and set PLEOAUTH_REDIS_PASSWORD (or give the whole URL in PLEOAUTH_REDIS_URL)", c.File)}
		}
	}
	return c, nil
}

// resolve returns the value of s and where it came from: flag > variable > file > default.
// For a per-environment setting, env names the environment and the file's value is that
// environment's; built-in values are merged in by [Config.Environment].
func (c *Config) resolve(s Spec, env string) (value, source string) {
	if s.Flag != "" && c.flags != nil {
		if f := c.flags.Lookup(s.Flag); f != nil && f.Changed {
			return f.Value.String(), "flag --" + s.Flag
		}
	}
	if v := c.getenv(s.Var); v != "" {
		return v, "env " + s.Var
	}
	if s.PerEnv {
		if e, ok := c.file.envs[env]; ok && s.get(e) != "" {
			return s.get(e), "file"
		}
		return "", ""
	}
	if v := c.file.top[s.Key]; v != "" {
		return v, "file (" + s.fileKey() + ")"
	}
	return s.Default, "default"
}

// chosenBy names, for a message, what set the top-level setting key, from the source
// [Config.resolve] gave: the flag, the variable, or the key in the config file; "" for the
// built-in default.
func (c *Config) chosenBy(source, key string) string {
	for _, s := range Specs() {
		if s.Key != key {
			continue
		}
		switch {
		case strings.HasPrefix(source, "flag "):
			return "--" + s.Flag
		case strings.HasPrefix(source, "env "):
			return s.Var
		case strings.HasPrefix(source, "file"):
			return s.fileKey() + ": in " + c.File
		}
	}
	return ""
}

// checkValue refuses a value of s that makes no sense, naming where to fix it.
func (c *Config) checkValue(s Spec, value, source, env string) error {
	if value == "" || s.check == nil {
		return nil
	}
	err := s.check(value)
	if err == nil {
		return nil
	}
	var where string
	switch {
	case strings.HasPrefix(source, "flag "):
		where = "fix " + strings.TrimPrefix(source, "flag ")
	case strings.HasPrefix(source, "env "):
		where = "fix " + s.Var
	case s.PerEnv:
		where = fmt.Sprintf("fix environments.%s.%s in %s", env, s.fileKey(), c.File)
	default:
		where = fmt.Sprintf("fix %s in %s", s.fileKey(), c.File)
	}
	prefix := s.Key
	if env != "" {
		prefix = "env " + env + ": " + s.Key
	}
	return &UsageError{fmt.Sprintf("%s %v; %s", prefix, err, where)}
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

// Environment returns the selected environment with flags and environment variables applied,
// derived URLs filled in, and every value checked. It fails with an [UnknownEnvError] for a
// name nobody configured.
func (c *Config) Environment() (Environment, error) {
	e, ok := c.environments[c.Env]
	if !ok {
		return Environment{}, &UnknownEnvError{Name: c.Env, Known: c.Names(), File: c.File}
	}
	for _, s := range Specs() {
		if !s.PerEnv {
			continue
		}
		v, src := c.resolve(s, c.Env)
		if strings.HasPrefix(src, "flag ") || strings.HasPrefix(src, "env ") {
			s.set(&e, v)
		}
		if err := c.checkValue(s, s.get(e), src, c.Env); err != nil {
			return Environment{}, err
		}
	}
	return e.withDefaults(), nil
}

// Configured returns the environment name as the built-ins and config.yaml define it, without
// the flags and variables that override the selected one: what "pleoauth env" lists.
func (c *Config) Configured(name string) (Environment, bool) {
	e, ok := c.environments[name]
	return e.withDefaults(), ok
}

// LoginEnvironment is [Config.Environment] checked for everything a login needs.
func (c *Config) LoginEnvironment() (Environment, error) {
	e, err := c.Environment()
	if err != nil {
		return e, err
	}
	return e, e.validateForLogin(c.File)
}

// MarkUsage marks the usage errors of the configuration — an unknown environment, a setting
// that makes no sense, a config file that cannot be read as written — as [failure.Usage]
// (exit code 2): retrying cannot help, the setting must be fixed. Other errors pass as they are.
func MarkUsage(err error) error {
	var unknown *UnknownEnvError
	var usage *UsageError
	var file *FileError
	if errors.As(err, &unknown) || errors.As(err, &usage) || errors.As(err, &file) {
		return failure.Wrap(failure.Usage, err)
	}
	return err
}

// UsageError reports a setting that makes no sense, naming where to fix it.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// UnknownEnvError reports an environment name that is neither built in nor in the config file.
type UnknownEnvError struct {
	Name  string
	Known []string
	File  string
}

func (e *UnknownEnvError) Error() string {
	return fmt.Sprintf("unknown environment %q%s (known: %s); add it under environments: in %s", e.Name, didYouMean(e.Name, e.Known), strings.Join(e.Known, ", "), e.File)
}

// DidYouMean is ` (did you mean "x"?)` for the known name x closest to name, when one is a typo
// away (an edit distance of at most 2), and "" when none is.
func DidYouMean(name string, known []string) string { return didYouMean(name, known) }

func didYouMean(name string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// splitScopes splits a scope list at spaces or commas; none is nil, as for a key not given.
func splitScopes(s string) []string {
	scopes := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
	if len(scopes) == 0 {
		return nil
	}
	return scopes
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Origin names, for a message, where the selected environment's setting key comes from, so that
// a person knows what to fix: the flag ("--store"), the variable ("PLEOAUTH_CA_FILE"), the key
// in config.yaml ("environments.staging.ca_file in /home/x/.config/pleoauth/config.yaml"), or
// "the default" / "the built-in environment" when nobody set it.
func (c *Config) Origin(key string) string {
	s, ok := lookup(key)
	if !ok {
		return key
	}
	env := ""
	if s.PerEnv {
		env = c.Env
	}
	_, src := c.resolve(s, env)
	switch {
	case strings.HasPrefix(src, "flag "):
		return strings.TrimPrefix(src, "flag ")
	case strings.HasPrefix(src, "env "):
		return s.Var
	case src == "file":
		return fmt.Sprintf("environments.%s.%s in %s", c.Env, s.fileKey(), c.File)
	case strings.HasPrefix(src, "file"):
		return fmt.Sprintf("%s in %s", s.fileKey(), c.File)
	case s.PerEnv:
		return "the built-in environment " + c.Env
	}
	return "the default"
}
