package config

import (
	"fmt"
)

// Setting is one resolved value and where it came from.
type Setting struct {
	Key    string
	Value  string
	Source string // "flag --…", "env PLEOAUTH_…", "file", "built-in", "derived from auth_server_url", "default" or "unset"
}

// Settings lists the selected environment's settings with their sources, in the table's
// order. The client secret is listed only as set or not.
func (c *Config) Settings() ([]Setting, error) {
	e, err := c.Environment()
	if err != nil {
		return nil, err
	}
	builtin, isBuiltin := builtins()[e.Name]
	var out []Setting
	for _, s := range Specs() {
		if !s.PerEnv {
			v, src := c.resolve(s, "")
			switch {
			case s.Key == "env":
				v = c.Env
			case s.NotInFile && v != "":
				v = "(set, not shown)"
			case s.NotInFile:
				v, src = "(not set)", s.Var+" only"
			case s.Key == "redis_url" && v != "":
				v = RedactURL(v)
			}
			out = append(out, Setting{Key: s.Key, Value: v, Source: src})
			continue
		}
		if s.NotInFile {
			secret := Setting{Key: s.Key, Value: "(not set here)", Source: s.Var + ", the keychain or a prompt"}
			if s.get(e) != "" {
				secret = Setting{Key: s.Key, Value: "(set, not shown)", Source: "env " + s.Var}
			}
			out = append(out, secret)
			continue
		}
		v := s.get(e)
		_, src := c.resolve(s, c.Env)
		switch {
		case src != "":
		case isBuiltin && s.get(builtin) != "":
			src = "built-in"
		case v == "":
			src = "unset"
		case s.Derived:
			src = "derived from auth_server_url"
		default:
			src = "default"
		}
		out = append(out, Setting{Key: s.Key, Value: v, Source: src})
	}
	return out, nil
}

// Get returns one setting of the selected environment.
func (c *Config) Get(key string) (Setting, error) {
	spec, ok := lookup(key)
	if !ok {
		return Setting{}, unknownSetting(key)
	}
	all, err := c.Settings()
	if err != nil {
		return Setting{}, err
	}
	for _, s := range all {
		if s.Key == spec.Key {
			return s, nil
		}
	}
	return Setting{}, &UsageError{fmt.Sprintf("unknown setting %q", key)}
}
