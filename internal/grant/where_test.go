package grant

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// noKeychain is what go-keyring answers on a machine without a Secret Service.
var noKeychain = errors.New("The name org.freedesktop.secrets was not provided by any .service files")

// openIn opens env local's login (profile, "" for the default) in home as cfg's store
// settings say, with keychain as the OS keychain and getenv as the environment.
func openIn(t *testing.T, home string, st config.Config, profile string, keychain store.Keychain, getenv func(string) string, stderr io.Writer) *Grant {
	t.Helper()
	cfg := st
	cfg.Home, cfg.Profile = home, profile
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	g, err := Open(&cfg, config.Environment{Name: "local"}, Deps{Stderr: stderr, Getenv: getenv, Now: time.Now, Keychain: keychain})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// plant puts a login in home's file store (as "login --store file" leaves it).
func plant(t *testing.T, home, name string) {
	t.Helper()
	b := &store.Bundle{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)}
	if err := (store.File{Dir: filepath.Join(home, "tokens")}).Save(name, b); err != nil {
		t.Fatal(err)
	}
}

// A login is found where it is when no flag, variable or config.yaml names a store; a store
// named is used as named; in CI with nothing stored and no keychain, the file store.
func TestLoginIsFoundWhereItIs(t *testing.T) {
	chosen := func(s string) config.Config { return config.Config{Store: s, StoreChosen: true, StoreFrom: "--store"} }
	dflt := config.Config{Store: config.StoreKeyring}
	tests := []struct {
		name    string
		files   []string // logins planted in the file store
		sealed  bool     // a login of the default profile in the keychain store
		cfg     config.Config
		profile string
		ci      bool
		want    string
	}{
		{"nothing stored: the default", nil, false, dflt, "", false, "keyring"},
		{"after login --store file", []string{"local"}, false, dflt, "", false, "file"},
		{"a profile after login --store file", []string{"local@acme"}, false, dflt, "acme", false, "file"},
		{"another profile's file login is not this one's", []string{"local@acme"}, false, dflt, "", false, "keyring"},
		{"in the keychain store", nil, true, dflt, "", false, "keyring"},
		{"named by a flag", []string{"local"}, false, chosen(config.StoreKeyring), "", false, "keyring"},
		{"named file", nil, true, chosen(config.StoreFile), "", false, "file"},
		{"CI, nothing stored, no keychain", nil, false, dflt, "", true, "file"},
		{"CI, in the keychain store", nil, true, dflt, "", true, "keyring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			kc := &oauthtest.Keychain{}
			for _, name := range tt.files {
				plant(t, home, name)
			}
			if tt.sealed {
				k := store.Keyring{Dir: filepath.Join(home, "tokens"), Scope: home, Keychain: kc}
				if err := k.Save("local", &store.Bundle{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			kc.Fail(noKeychain) // only CI's probe may ask it, and finds none
			getenv := func(k string) string {
				if k == "CI" && tt.ci {
					return "true"
				}
				return ""
			}
			if got := openIn(t, home, tt.cfg, tt.profile, kc, getenv, io.Discard).StoreName(); got != tt.want {
				t.Errorf("store = %q; want %q", got, tt.want)
			}
		})
	}
}

// In CI, a home that holds nothing goes to the keychain store when a keychain answers: the file
// store (plain 0600 files) is taken only where no keychain can keep the tokens' key.
func TestCIWithAKeychainKeepsTheDefault(t *testing.T) {
	ci := func(k string) string {
		if k == "CI" {
			return "true"
		}
		return ""
	}
	g := openIn(t, t.TempDir(), config.Config{Store: config.StoreKeyring}, "", &oauthtest.Keychain{}, ci, io.Discard)
	if got := g.StoreName(); got != config.StoreKeyring {
		t.Errorf("store = %q; want keyring", got)
	}
}

// A store named by a flag, variable or config.yaml that holds no login, while the other store
// here does, is a usage error naming both stores, what named it and what to run — from every
// command that reads the login — rather than "not logged in".
func TestOtherStoreNamedSaysWhereTheLoginIs(t *testing.T) {
	tests := []struct {
		by, profile string
		want        []string
	}{
		{"--store", "", []string{"env local: the login is in the file store, not the keyring store named by --store", "drop --store", `"pleoauth login --env local --store keyring"`}},
		{"PLEOAUTH_STORE", "", []string{"named by PLEOAUTH_STORE", "unset PLEOAUTH_STORE"}},
		{"store: in /h/config.yaml", "", []string{"named by store: in /h/config.yaml", "remove store: in /h/config.yaml"}},
		{"--store", "acme", []string{"env local@acme: the login is in the file store", `"pleoauth login --env local --profile acme --store keyring"`}},
	}
	for _, tt := range tests {
		t.Run(tt.by+tt.profile, func(t *testing.T) {
			home := t.TempDir()
			plant(t, home, LoginName("local", tt.profile))
			g := openIn(t, home, config.Config{Store: config.StoreKeyring, StoreChosen: true, StoreFrom: tt.by, LockTimeout: time.Second}, tt.profile, &oauthtest.Keychain{}, nil, io.Discard)
			ctx := context.Background()
			_, tokenErr := g.Token(ctx, Request{})
			_, statusErr := g.Status(ctx)
			logoutErr := g.Logout(ctx, false, false)
			exportErr := g.Export(ctx, false, func(string) error { t.Error("exported"); return nil })
			for cmd, err := range map[string]error{"token": tokenErr, "status": statusErr, "logout": logoutErr, "export": exportErr} {
				var other *OtherStoreError
				if !errors.As(err, &other) || failure.KindOf(err) != failure.Usage {
					t.Errorf("%s: %v; want a usage OtherStoreError", cmd, err)
					continue
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %q does not say %q", cmd, err, w)
					}
				}
			}
			if _, err := os.Stat(filepath.Join(home, "tokens", LoginName("local", tt.profile)+".json")); err != nil {
				t.Errorf("the login in the file store is gone: %v", err)
			}
		})
	}
}

// With no other store holding the login, or a redis store named (a fleet's choice, never
// second-guessed by what this machine holds), "not logged in" stays what it was.
func TestNotLoggedInAnywhere(t *testing.T) {
	home := t.TempDir()
	g := openIn(t, home, config.Config{Store: config.StoreFile, StoreChosen: true, StoreFrom: "--store"}, "", &oauthtest.Keychain{}, nil, io.Discard)
	if _, err := g.Token(context.Background(), Request{}); failure.KindOf(err) != failure.LoginRequired {
		t.Errorf("token with nothing stored: %v; want login required", err)
	}
	plant(t, home, "local")
	f := newFixture(t, &memStore{name: config.StoreRedis})
	f.g.cfg = &config.Config{Home: home, Store: config.StoreRedis, StoreChosen: true, StoreFrom: "store: in config.yaml"}
	if _, err := f.g.Token(context.Background(), Request{}); failure.KindOf(err) != failure.LoginRequired {
		t.Errorf("redis store, a local login here: %v; want login required", err)
	}
}

// A store nobody named lists the logins of both stores here, as each is found where it is.
func TestProfilesOfBothLocalStores(t *testing.T) {
	home := t.TempDir()
	kc := &oauthtest.Keychain{}
	plant(t, home, "local@acme")
	k := store.Keyring{Dir: filepath.Join(home, "tokens"), Scope: home, Keychain: kc}
	if err := k.Save("local", &store.Bundle{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	g := openIn(t, home, config.Config{Store: config.StoreKeyring}, "", kc, nil, io.Discard)
	logins, err := g.AllProfiles()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range logins {
		got = append(got, l.Profile+":"+l.StoreName())
	}
	if want := "default:keyring acme:file"; strings.Join(got, " ") != want {
		t.Errorf("logins = %q; want %q", strings.Join(got, " "), want)
	}
	named := openIn(t, home, config.Config{Store: config.StoreKeyring, StoreChosen: true, StoreFrom: "--store"}, "", kc, nil, io.Discard)
	if p, _ := named.Profiles(); strings.Join(p, " ") != "default" {
		t.Errorf("profiles of the keyring store named = %q; want only default", p)
	}
}
