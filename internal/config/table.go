package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"
)

// Spec describes one setting once: its key, the PLEOAUTH_* variable and flag that may give it,
// its default, how its value is checked, and its help. Everything that reads, lists, writes or
// documents settings — config.yaml decoding, the variables, the flags, "config get/set/list",
// the help text and the tests — goes through this table, so a setting is spelled in one place
// and checked the same way whatever its source.
type Spec struct {
	// Key names the setting in "config get/set/list" and, unless FileKey says otherwise, in
	// config.yaml.
	Key     string
	FileKey string
	// PerEnv settings live under environments.<name> in config.yaml and apply to the selected
	// environment; the others are top-level.
	PerEnv bool
	// Var is the environment variable that gives it; Flag the command-line flag ("" for none),
	// Short the flag's one-letter form.
	Var   string
	Flag  string
	Short string
	// Default is the value when no source gives one ("" for none; per-environment defaults
	// come from the built-in environments).
	Default string
	Help    string
	// NotInFile settings are never read from or written to config.yaml (the client secret).
	NotInFile bool
	// Derived settings default to a URL built from auth_server_url.
	Derived bool
	// Choices are the values it takes, when they can be listed (for completion); Type is what
	// a flag's help says it takes: "string" or "duration".
	Choices []string
	Type    string
	// check refuses a value that makes no sense; nil accepts any.
	check func(string) error
	// get and set reach the field of an [Environment] (PerEnv settings only).
	get func(Environment) string
	set func(*Environment, string)
}

// fileKey is the setting's key in config.yaml.
func (s Spec) fileKey() string {
	if s.FileKey != "" {
		return s.FileKey
	}
	return s.Key
}

// Specs is the table of every setting, in the order "config list" shows them. It is built once,
// when first needed, and shared: flags, lookups and loading all read it, and building it for
// each of them was a measurable part of every start-up. Callers must not modify it.
func Specs() []Spec { return specTable() }

var specTable = sync.OnceValue(buildSpecs)

func buildSpecs() []Spec {
	str := func(f func(*Environment) *string) (func(Environment) string, func(*Environment, string)) {
		return func(e Environment) string { return *f(&e) }, func(e *Environment, v string) { *f(e) = v }
	}
	perEnv := func(key, help string, check func(string) error, field func(*Environment) *string) Spec {
		get, set := str(field)
		return Spec{Key: key, PerEnv: true, Var: envVar(key), Help: help, check: check, get: get, set: set}
	}
	specs := []Spec{
		{Key: "env", FileKey: "default_env", Var: "PLEOAUTH_ENV", Flag: "env", Short: "e", Default: "staging",
			Help: "environment to use (staging, production, local or one from config.yaml)", check: checkEnvName},
		{Key: "profile", FileKey: "default_profile", Var: "PLEOAUTH_PROFILE", Flag: "profile", Default: DefaultProfile,
			Help: "which login of the environment to use: one per Pleo company, say (lower-case letters, digits, - and _)", check: checkProfile},
		{Key: "store", Var: "PLEOAUTH_STORE", Flag: "store", Default: StoreKeyring,
			Help: `where tokens are kept: "keyring" (the OS keychain), "file", or "redis" (shared by a fleet)`, Choices: []string{StoreKeyring, StoreFile, StoreRedis}},
		{Key: "min_ttl", Var: "PLEOAUTH_MIN_TTL", Flag: "min-ttl", Default: DefaultMinTTL.String(),
			Help: "the token handed out stays valid at least this long", check: duration(0)},
		{Key: "lock_timeout", Var: "PLEOAUTH_LOCK_TIMEOUT", Flag: "lock-timeout", Default: DefaultLockTimeout.String(),
			Help: "how long to wait for another pleoauth's refresh of the same login", check: duration(time.Nanosecond)},
		{Key: "unsaved_timeout", Var: "PLEOAUTH_UNSAVED_TIMEOUT", Default: DefaultUnsavedTimeout.String(),
			Help: "how long a refresh sent by another machine may stay unsaved before this one says the login must be renewed", check: duration(time.Second)},
		{Key: "on_rotate_timeout", Var: "PLEOAUTH_ON_ROTATE_TIMEOUT", Default: DefaultOnRotateTimeout.String(),
			Help: "how long the on_rotate command may run", check: duration(time.Nanosecond)},
		{Key: "redis_url", Var: "PLEOAUTH_REDIS_URL", Help: "the Redis server of the redis store: redis://host:6379/0, rediss://… (TLS), or unix:///path", check: checkRedisURL},
		{Key: "redis_prefix", Var: "PLEOAUTH_REDIS_PREFIX", Default: "pleoauth:", Help: "the prefix of every key the redis store writes"},
		{Key: "redis_timeout", Var: "PLEOAUTH_REDIS_TIMEOUT", Default: "5s", Help: "how long a Redis call may take", check: duration(time.Millisecond)},
		{Key: "lock_ttl", Var: "PLEOAUTH_LOCK_TTL", Default: DefaultLockTTL.String(),
			Help: "how long the redis store's lock lives unless its holder extends it (longer than a refresh with its retries)", check: duration(time.Second)},
		{Key: "redis_password", Var: "PLEOAUTH_REDIS_PASSWORD", NotInFile: true, Help: "the Redis password (never on the command line, never in config.yaml)"},
		{Key: "store_key", Var: "PLEOAUTH_STORE_KEY", NotInFile: true, Help: `the key that seals bundles in Redis: 32 bytes, base64 ("pleoauth store-key" makes one)`},
		perEnv("auth_server_url", "authorization server; the endpoint URLs derive from it", CheckServerURL, func(e *Environment) *string { return &e.AuthServerURL }),
		derived(perEnv("authorize_url", "authorization endpoint (default: {auth_server_url}/oauth/authorize)", CheckServerURL, func(e *Environment) *string { return &e.AuthorizeURL })),
		derived(perEnv("token_url", "token endpoint (default: {auth_server_url}/oauth/token)", CheckServerURL, func(e *Environment) *string { return &e.TokenURL })),
		derived(perEnv("introspect_url", "introspection endpoint (default: {auth_server_url}/oauth/token/introspect)", CheckServerURL, func(e *Environment) *string { return &e.IntrospectURL })),
		perEnv("api_url", "API base URL", CheckServerURL, func(e *Environment) *string { return &e.APIURL }),
		perEnv("client_id", "client ID (Pleo sends it when it registers your client)", nil, func(e *Environment) *string { return &e.ClientID }),
		perEnv("redirect_uri", "redirect URI, exactly as registered: http://localhost:<port>/<path> to receive it here, or an https page (Postman's https://oauth.pstmn.io/v1/callback) whose address you paste back", checkRedirectURI, func(e *Environment) *string { return &e.RedirectURI }),
		{Key: "scopes", PerEnv: true, Var: "PLEOAUTH_SCOPES", Flag: "scope", Help: "space-separated scopes to ask for",
			get: func(e Environment) string { return strings.Join(e.Scopes, " ") },
			set: func(e *Environment, v string) { e.Scopes = splitScopes(v) }},
		withChoices([]string{ClientAuthBasic, ClientAuthBody}, perEnv("client_auth", `client authentication: "basic" (client_secret_basic, Pleo's) or "body"`, nil, func(e *Environment) *string { return &e.ClientAuth })),
		withFlag("on-rotate", perEnv("on_rotate", "shell command that gets each new refresh token on stdin, after it is stored", nil, func(e *Environment) *string { return &e.OnRotate })),
		perEnv("ca_file", "PEM file of extra certificate authorities for this environment's servers", nil, func(e *Environment) *string { return &e.CAFile }),
		derived(perEnv("issuer", `issuer checked against a redirect's "iss" (RFC 9207; default: auth_server_url)`, nil, func(e *Environment) *string { return &e.Issuer })),
	}
	for i, sp := range specs {
		switch {
		case sp.Choices != nil:
			specs[i].check = oneOf(sp.Choices...)
		case strings.HasSuffix(sp.Key, "_ttl") || strings.HasSuffix(sp.Key, "_timeout"):
			specs[i].Type = "duration"
		}
	}
	secret := perEnv("client_secret", "client secret (never on the command line, never in config.yaml)", nil, func(e *Environment) *string { return &e.ClientSecret })
	secret.NotInFile = true
	return append(specs, secret)
}

func derived(s Spec) Spec {
	s.Derived = true
	return s
}

func withChoices(choices []string, s Spec) Spec {
	s.Choices = choices
	return s
}

func withFlag(flag string, s Spec) Spec {
	s.Flag = flag
	return s
}

// lookup returns the setting named key (or its config.yaml key).
func lookup(key string) (Spec, bool) {
	for _, s := range Specs() {
		if s.Key == key || s.fileKey() == key {
			return s, true
		}
	}
	return Spec{}, false
}

func keys() []string {
	var out []string
	for _, s := range Specs() {
		out = append(out, s.Key)
		if s.FileKey != "" {
			out = append(out, s.FileKey)
		}
	}
	return out
}

// Variables lists every PLEOAUTH_* variable pleoauth reads, PLEOAUTH_HOME and
// PLEOAUTH_REFRESH_TOKEN included (for the help text, and for tests to clear).
func Variables() []string {
	vars := []string{"PLEOAUTH_HOME"}
	for _, s := range Specs() {
		vars = append(vars, s.Var)
	}
	return append(vars, "PLEOAUTH_REFRESH_TOKEN", "PLEOAUTH_DEBUG", "PLEOAUTH_SERVE_KEY")
}

// AddFlags registers the flags of the named settings on fs, with the table's help and the
// variable that also gives each. A flag holds its text as given: it is checked with every other
// source's value when the configuration is loaded, so that a flag and its variable fail the same
// way; its help still says what it takes (a duration) and its default.
func AddFlags(fs *pflag.FlagSet, keys ...string) {
	for _, k := range keys {
		s, ok := lookup(k)
		if !ok || s.Flag == "" {
			panic("config: no flag for setting " + k)
		}
		f := fs.VarPF(&flagText{typ: cmp.Or(s.Type, "string")}, s.Flag, s.Short, s.Help+" ("+s.Var+")")
		f.DefValue = s.Default
	}
}

// flagText is a flag's value as given on the command line.
type flagText struct{ text, typ string }

func (v *flagText) String() string     { return v.text }
func (v *flagText) Set(s string) error { v.text = s; return nil }
func (v *flagText) Type() string       { return v.typ }

// Keys lists the settings by the names "config get" takes; writable leaves out those never
// written to config.yaml (for "config set" and "config unset").
func Keys(writable bool) []string {
	var out []string
	for _, s := range Specs() {
		if !writable || !s.NotInFile {
			out = append(out, s.Key)
		}
	}
	return out
}

// Choices are the values the setting key takes, when they can be listed.
func Choices(key string) []string {
	s, _ := lookup(key)
	return s.Choices
}

// VariablesHelp is the help text's list of variables, from the table.
// It is part of the root command's help, built at every start-up, so it is written into one
// buffer sized up front rather than with fmt (a tenth of a millisecond of "pleoauth token" went
// to growing it).
func VariablesHelp() string {
	var b strings.Builder
	b.Grow(8 << 10)
	b.WriteString("Environment variables:\n")
	line := func(name, help string) {
		b.WriteString("  ")
		b.WriteString(name)
		b.WriteString(strings.Repeat(" ", max(1, 28-len(name))))
		b.WriteString(help)
		b.WriteByte('\n')
	}
	line("PLEOAUTH_HOME", "per-user folder for config.yaml, tokens and locks (default: <user config dir>/pleoauth)")
	for _, s := range Specs() {
		help := s.Help
		if s.Flag != "" {
			help += ", like --" + s.Flag
		}
		if s.PerEnv && s.Key != "client_secret" {
			help += " (selected environment)"
		}
		line(s.Var, help)
	}
	line("PLEOAUTH_REFRESH_TOKEN", "a refresh token to start from when no login is stored (CI)")
	line("PLEOAUTH_DEBUG", `"1": like --debug`)
	line("PLEOAUTH_SERVE_KEY", `the key "pleoauth serve" asks of every request (default: random for each start)`)
	line("CI", `"true", "1" or "yes": never prompt or wait for a browser; file store if no keychain`)
	line("BROWSER", "command that opens the login URL (the URL is its last argument)")
	return strings.TrimRight(b.String(), "\n")
}

func envVar(key string) string { return "PLEOAUTH_" + strings.ToUpper(key) }

func oneOf(choices ...string) func(string) error {
	return func(v string) error {
		for _, c := range choices {
			if v == c {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, quoteAll(choices))
	}
}

func duration(least time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < least {
			if least > 0 {
				return fmt.Errorf("%q is not a positive duration such as 30s or 2m", v)
			}
			return fmt.Errorf("%q is not a duration such as 90s or 5m", v)
		}
		return nil
	}
}

// checkRedisURL accepts what go-redis parses: redis://, rediss:// (TLS) and unix://.
func checkRedisURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("is not a URL") // the value may hold a password: not repeated
	}
	shown := RedactURL(v)
	switch u.Scheme {
	case "redis", "rediss":
		if u.Host == "" {
			return fmt.Errorf("%q names no host", shown)
		}
	case "unix":
		if u.Path == "" {
			return fmt.Errorf("%q names no socket", shown)
		}
	default:
		return fmt.Errorf("%q is not a redis://, rediss:// or unix:// URL", shown)
	}
	return nil
}

func checkRedirectURI(v string) error {
	_, err := ParseRedirectURI(v)
	return err
}

// checkProfile: 1 to 64 lower-case letters, digits, '-' and '_', so a profile is safe in a file
// name, a keychain account and a Redis key.
func checkProfile(v string) error {
	ok := len(v) >= 1 && len(v) <= 64
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Errorf("%q is not 1-64 lower-case letters, digits, '-' or '_'", v)
	}
	return nil
}

// checkEnvName keeps environment names usable as file names and keychain accounts.
func checkEnvName(v string) error {
	ok := len(v) >= 1 && len(v) <= 64 && v[0] != '.' && v[0] != '-' && v[0] != '_'
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Errorf("%q is not 1-64 characters of a-z, 0-9, '.', '_' or '-'", v)
	}
	return nil
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " or ")
}
