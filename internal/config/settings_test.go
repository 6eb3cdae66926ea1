package config

import (
	"errors"
	"strings"
	"testing"
)

// TestDurationFloors: each duration setting has a floor that is itself allowed — min_ttl may be
// 0s (any unexpired token will do), a wait must last at least a nanosecond, a Redis call a
// millisecond, a Redis lock and an unsaved refresh a second — and a value under it is a usage
// error that names the variable to fix and asks for a positive duration only where 0 is refused.
func TestDurationFloors(t *testing.T) {
	for _, tc := range []struct {
		variable, value string
		ok              bool
	}{
		{"PLEOAUTH_MIN_TTL", "0s", true},
		{"PLEOAUTH_MIN_TTL", "-1ns", false},
		{"PLEOAUTH_MIN_TTL", "soon", false},
		{"PLEOAUTH_LOCK_TIMEOUT", "1ns", true},
		{"PLEOAUTH_LOCK_TIMEOUT", "0s", false},
		{"PLEOAUTH_REDIS_TIMEOUT", "1ms", true},
		{"PLEOAUTH_REDIS_TIMEOUT", "999us", false},
		{"PLEOAUTH_LOCK_TTL", "1s", true},
		{"PLEOAUTH_LOCK_TTL", "999ms", false},
		{"PLEOAUTH_UNSAVED_TIMEOUT", "1s", true},
		{"PLEOAUTH_UNSAVED_TIMEOUT", "999ms", false},
		{"PLEOAUTH_ON_ROTATE_TIMEOUT", "1ns", true},
		{"PLEOAUTH_ON_ROTATE_TIMEOUT", "0s", false},
	} {
		t.Run(tc.variable+"="+tc.value, func(t *testing.T) {
			v := setHome(t, "")
			v[tc.variable] = tc.value
			_, err := Load(nil, v.get)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			var usage *UsageError
			if !tc.ok && (!errors.As(err, &usage) || !strings.Contains(err.Error(), "fix "+tc.variable)) {
				t.Fatalf("got %v; want a usage error that says to fix %s", err, tc.variable)
			}
			if want := tc.variable != "PLEOAUTH_MIN_TTL"; !tc.ok && strings.Contains(err.Error(), "positive") != want {
				t.Errorf("got %v; want it to ask for a positive duration: %v", err, want)
			}
		})
	}
}

// TestDidYouMean: a name two edits from a known one is suggested, the first in the list when two
// are as close; a name three edits away gets no suggestion.
func TestDidYouMean(t *testing.T) {
	known := []string{"local", "production", "staging"}
	for _, tc := range []struct{ name, want string }{
		{"stagng", ` (did you mean "staging"?)`},
		{"stagingxy", ` (did you mean "staging"?)`},
		{"stagingxyz", ""},
		{"loca", ` (did you mean "local"?)`},
	} {
		if got := DidYouMean(tc.name, known); got != tc.want {
			t.Errorf("DidYouMean(%q) = %q; want %q", tc.name, got, tc.want)
		}
	}
	if got, want := DidYouMean("ab", []string{"aa", "bb"}), ` (did you mean "aa"?)`; got != want {
		t.Errorf("DidYouMean with a tie = %q; want the first, %q", got, want)
	}
}

// TestProfileChosen: the profile counts as chosen when a flag, a variable or config.yaml named
// it, even the default one by name, and not when nobody did.
func TestProfileChosen(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, variable string
		want                 bool
	}{
		{"nobody", "", "", false},
		{"variable", "", "default", true},
		{"config.yaml", "default_profile: ci\n", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := setHome(t, tc.yaml)
			if tc.variable != "" {
				v["PLEOAUTH_PROFILE"] = tc.variable
			}
			c, err := Load(nil, v.get)
			if err != nil {
				t.Fatal(err)
			}
			if c.ProfileChosen != tc.want {
				t.Errorf("ProfileChosen = %v; want %v", c.ProfileChosen, tc.want)
			}
		})
	}
}

// TestOriginNamesWhatToFix: a message about a setting of the selected environment names what set
// it — the variable, the key under the environment in config.yaml, or the built-in environment.
func TestOriginNamesWhatToFix(t *testing.T) {
	v := setHome(t, "environments:\n  staging:\n    client_id: abc\n")
	v["PLEOAUTH_ENV"] = "staging"
	v["PLEOAUTH_TOKEN_URL"] = "https://auth.example.com/token"
	c, err := Load(nil, v.get)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"client_id":  "environments.staging.client_id in " + c.File,
		"token_url":  "PLEOAUTH_TOKEN_URL",
		"api_url":    "the built-in environment staging",
		"store":      "the default",
		"no_such_id": "no_such_id",
	} {
		if got := c.Origin(key); got != want {
			t.Errorf("Origin(%q) = %q; want %q", key, got, want)
		}
	}
}

// TestErrorNamesTheEnvironment: a bad value of a per-environment setting says which environment
// it belongs to; a top-level one does not name any.
func TestErrorNamesTheEnvironment(t *testing.T) {
	v := setHome(t, "")
	v["PLEOAUTH_ENV"] = "local"
	v["PLEOAUTH_TOKEN_URL"] = "ftp://auth.example.com/t"
	c, err := Load(nil, v.get)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Environment(); err == nil || !strings.HasPrefix(err.Error(), "env local: token_url ") {
		t.Errorf("Environment() = %v; want an error that starts with %q", err, "env local: token_url ")
	}
	t.Run("top-level", func(t *testing.T) {
		v := setHome(t, "")
		v["PLEOAUTH_MIN_TTL"] = "soon"
		if _, err := Load(nil, v.get); err == nil || !strings.HasPrefix(err.Error(), "min_ttl ") {
			t.Errorf("Load() = %v; want an error that starts with %q", err, "min_ttl ")
		}
	})
}

// TestIssuerDefaultsToTheServer: the issuer a redirect's "iss" is checked against (RFC 9207) is
// auth_server_url unless config.yaml names another.
func TestIssuerDefaultsToTheServer(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"default", "environments:\n  x:\n    auth_server_url: https://auth.example.com/\n", "https://auth.example.com"},
		{"named", "environments:\n  x:\n    auth_server_url: https://auth.example.com/\n    issuer: https://id.example.com\n", "https://id.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := setHome(t, tc.yaml)
			v["PLEOAUTH_ENV"] = "x"
			c, err := Load(nil, v.get)
			if err != nil {
				t.Fatal(err)
			}
			e, err := c.Environment()
			if err != nil || e.Issuer != tc.want {
				t.Errorf("issuer = %q, %v; want %q", e.Issuer, err, tc.want)
			}
		})
	}
}

// TestSettingsNeverShowASecret: "pleoauth config list" says whether the client secret, the Redis
// password and the store key are set and where they come from, never what they are.
func TestSettingsNeverShowASecret(t *testing.T) {
	const secret = "s3cret-value"
	for _, tc := range []struct {
		name string
		vars map[string]string
		want map[string]Setting
	}{
		{"set", map[string]string{"PLEOAUTH_CLIENT_SECRET": secret, "PLEOAUTH_REDIS_PASSWORD": secret, "PLEOAUTH_STORE_KEY": secret}, map[string]Setting{
			"client_secret":  {Key: "client_secret", Value: "(set, not shown)", Source: "env PLEOAUTH_CLIENT_SECRET"},
			"redis_password": {Key: "redis_password", Value: "(set, not shown)", Source: "env PLEOAUTH_REDIS_PASSWORD"},
			"store_key":      {Key: "store_key", Value: "(set, not shown)", Source: "env PLEOAUTH_STORE_KEY"},
		}},
		{"not set", nil, map[string]Setting{
			"client_secret":  {Key: "client_secret", Value: "(not set here)", Source: "PLEOAUTH_CLIENT_SECRET, the keychain or a prompt"},
			"redis_password": {Key: "redis_password", Value: "(not set)", Source: "PLEOAUTH_REDIS_PASSWORD only"},
			"store_key":      {Key: "store_key", Value: "(not set)", Source: "PLEOAUTH_STORE_KEY only"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := setHome(t, "")
			v["PLEOAUTH_ENV"] = "local"
			for k, val := range tc.vars {
				v[k] = val
			}
			c, err := Load(nil, v.get)
			if err != nil {
				t.Fatal(err)
			}
			all, err := c.Settings()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range all {
				if strings.Contains(s.Value, secret) || strings.Contains(s.Source, secret) {
					t.Errorf("setting %s shows the secret: %+v", s.Key, s)
				}
				if want, ok := tc.want[s.Key]; ok && s != want {
					t.Errorf("setting = %+v; want %+v", s, want)
				}
				delete(tc.want, s.Key)
			}
			for k := range tc.want {
				t.Errorf("setting %s not listed", k)
			}
		})
	}
}
