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

// TestEnvironmentNames: an environment names its token files and keychain accounts, so --env
// takes 1 to 64 characters of a-z, 0-9, '.', '_' and '-', not starting with '.', '_' or '-'
// (no hidden file, nothing read as a flag). Each character class is tried at its edges.
func TestEnvironmentNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"z", true},
		{"0", true},
		{"9", true},
		{"a.b", true},
		{"a_b", true},
		{"a-b", true},
		{strings.Repeat("z", 64), true},
		{strings.Repeat("z", 65), false},
		{".a", false},
		{"_a", false},
		{"-a", false},
		{"`", false}, // the byte before 'a'
		{"{", false}, // after 'z'
		{"/", false}, // before '0'
		{":", false}, // after '9'
		{"a/b", false},
		{"a b", false},
		{"a\x00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := setHome(t, "")
			c, err := Load(flagSet("--env", tc.name), v.get)
			if tc.ok {
				if err != nil || c.Env != tc.name {
					t.Fatalf("--env %q = %v, %v; want it accepted", tc.name, c, err)
				}
				return
			}
			var usage *UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), "--env") {
				t.Fatalf("--env %q: got %v; want a usage error that says to fix --env", tc.name, err)
			}
		})
	}
}

// TestProfileNameEdges: the character classes of a profile name, tried at their edges.
func TestProfileNameEdges(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"z", true}, {"0", true}, {"9", true}, {"_", true}, {"-", true},
		{"`", false}, {"{", false}, {"/", false}, {":", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := setHome(t, "")
			v["PLEOAUTH_PROFILE"] = tc.name
			c, err := Load(nil, v.get)
			if tc.ok && (err != nil || c.Profile != tc.name) {
				t.Errorf("profile %q = %v; want it accepted", tc.name, err)
			}
			var usage *UsageError
			if !tc.ok && !errors.As(err, &usage) {
				t.Errorf("profile %q: got %v; want a usage error", tc.name, err)
			}
		})
	}
}
