package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestProfileNames: a profile names a token file, a keychain account and a Redis key, so a name
// that could climb out of its folder ("..", "a/b") or is not plain is a usage error when the
// configuration loads, from the flag, the variable or config.yaml alike.
func TestProfileNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"default", true},
		{"ci-bot_2", true},
		{strings.Repeat("a", 64), true},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"../x", false},
		{"a\\b", false},
		{".hidden", false},
		{"a.b", false},
		{"Upper", false},
		{"a b", false},
		{"a\x00", false},
		{strings.Repeat("a", 65), false},
	} {
		for _, source := range []string{"flag", "variable", "config.yaml"} {
			t.Run(source+"/"+tc.name, func(t *testing.T) {
				yaml, fix := "", "--profile"
				switch source {
				case "variable":
					fix = "PLEOAUTH_PROFILE"
				case "config.yaml":
					yaml, fix = "default_profile: \""+strings.ReplaceAll(strings.ReplaceAll(tc.name, "\\", "\\\\"), "\x00", "\\0")+"\"\n", "default_profile in "
				}
				v := setHome(t, yaml)
				fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
				AddFlags(fs, "profile")
				if source == "flag" {
					if err := fs.Parse([]string{"--profile", tc.name}); err != nil {
						t.Fatal(err)
					}
				}
				if source == "variable" {
					v["PLEOAUTH_PROFILE"] = tc.name
				}
				c, err := Load(fs, v.get)
				if tc.ok {
					if err != nil {
						t.Fatalf("profile %q refused: %v", tc.name, err)
					}
					if c.Profile != tc.name {
						t.Fatalf("profile %q loaded as %q", tc.name, c.Profile)
					}
					return
				}
				var usage *UsageError
				if !errors.As(err, &usage) {
					t.Fatalf("profile %q: got %v; want a usage error", tc.name, err)
				}
				if !strings.Contains(err.Error(), fix) {
					t.Errorf("profile %q: error %q does not say to fix %s", tc.name, err, fix)
				}
			})
		}
	}
}
