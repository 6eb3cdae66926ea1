package grant

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
	"golang.org/x/oauth2"
)

// fileLogin is env local's login in home's file store, with a secret typed or piped at login
// kept as a login that worked keeps it.
func fileLogin(t *testing.T, home string, stderr *syncBuffer) *Grant {
	t.Helper()
	plant(t, home, "local")
	g := openIn(t, home, config.Config{Store: config.StoreFile, StoreChosen: true, StoreFrom: "--store", LockTimeout: time.Second}, "", &oauthtest.Keychain{}, nil, stderr)
	if err := g.keepSecret("typed-secret", true); err != nil {
		t.Fatal(err)
	}
	return g
}

// Without a keychain the file store keeps a secret that came in at login beside the login,
// 0600, says so once with the way to avoid it, and refreshes with it — through rotations, and
// with no --store once the login is found there — until logout removes it.
func TestFileStoreKeepsTheSecretWithTheLogin(t *testing.T) {
	home := t.TempDir()
	var stderr syncBuffer
	fileLogin(t, home, &stderr)
	path := filepath.Join(home, "tokens", "local.client-secret")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kept secret %s: %v; want a 0600 file", path, err)
	}
	said := stderr.String()
	for _, w := range []string{path, "0600", "set PLEOAUTH_CLIENT_SECRET instead"} {
		if !strings.Contains(said, w) {
			t.Errorf("login said %q; want it to say %q", said, w)
		}
	}
	if strings.Contains(said, "typed-secret") {
		t.Errorf("login printed the secret: %q", said)
	}

	// Found with no --store, the keychain absent: each refresh sends the kept secret.
	kc := &oauthtest.Keychain{}
	kc.Fail(noKeychain)
	plain := openIn(t, home, config.Config{Store: config.StoreKeyring, LockTimeout: time.Second}, "", kc, nil, &stderr)
	var sent []string
	n := 0
	plain.send = func(ctx context.Context, rt string) (*oauth2.Token, error) {
		s, err := plain.refreshSecret()
		if err != nil {
			return nil, err
		}
		sent = append(sent, s)
		n++
		return &oauth2.Token{AccessToken: "at" + itoa(n), RefreshToken: "rt" + itoa(n), TokenType: "bearer", ExpiresIn: 900}, nil
	}
	for range 2 {
		if _, err := plain.Token(context.Background(), Request{Force: true}); err != nil {
			t.Fatalf("forced refresh: %v", err)
		}
	}
	if strings.Join(sent, " ") != "typed-secret typed-secret" {
		t.Errorf("secrets sent = %q; want the kept one on each refresh", sent)
	}
	if nr := plain.NextRefresh(mustLoad(t, plain)); !nr.OK || nr.Why != "client secret from the file store" {
		t.Errorf("NextRefresh = %+v; want OK from the file store", nr)
	}

	if err := plain.Logout(context.Background(), false, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("after logout %s: %v; want it gone", path, err)
	}
}

func mustLoad(t *testing.T, g *Grant) *store.Bundle {
	t.Helper()
	b, err := g.store.Load(g.Name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func itoa(n int) string { return string(rune('0' + n)) }

// PLEOAUTH_CLIENT_SECRET wins over a kept secret, and a login made with it keeps none (and
// forgets the one kept with the login it replaced).
func TestVariableWinsAndKeepsNothing(t *testing.T) {
	home := t.TempDir()
	var stderr syncBuffer
	g := fileLogin(t, home, &stderr)
	g.Env.ClientSecret = "from-the-variable"
	if s, err := g.refreshSecret(); s != "from-the-variable" || err != nil {
		t.Errorf("refreshSecret = %q, %v; want the variable's", s, err)
	}
	if src := g.SecretSource(); src != "PLEOAUTH_CLIENT_SECRET" {
		t.Errorf("SecretSource = %q; want PLEOAUTH_CLIENT_SECRET", src)
	}
	secret, fresh, err := g.loginSecret(context.Background(), nil)
	if err != nil || fresh {
		t.Fatalf("loginSecret = %q, %v, %v; want the variable's, not fresh", secret, fresh, err)
	}
	if err := g.keepSecret(secret, fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, "tokens", "local.client-secret")); !os.IsNotExist(err) {
		t.Errorf("a login with PLEOAUTH_CLIENT_SECRET left a kept secret: %v", err)
	}
	if said := stderr.String(); strings.Contains(said, "could not be removed") {
		t.Errorf("stderr %q; want the earlier secret forgotten quietly", said)
	}
}

// A secret from both PLEOAUTH_CLIENT_SECRET and stdin is a usage error: neither is picked, and
// stdin is not read, so the piped line can never be taken for a pasted address.
func TestSecretFromVariableAndStdin(t *testing.T) {
	g := fileLogin(t, t.TempDir(), &syncBuffer{})
	g.Env.ClientSecret = "from-the-variable"
	stdin := bufio.NewReader(strings.NewReader("piped-secret\n"))
	s, _, err := g.loginSecret(context.Background(), stdin)
	if !errors.Is(err, ErrTwoSecrets) || failure.KindOf(err) != failure.Usage || s != "" {
		t.Fatalf("loginSecret = %q, %v; want the usage error %v", s, err, ErrTwoSecrets)
	}
	if strings.Contains(err.Error(), "piped-secret") || strings.Contains(err.Error(), "from-the-variable") {
		t.Errorf("the error shows a secret: %v", err)
	}
	if rest, _ := stdin.ReadString('\n'); rest != "piped-secret\n" {
		t.Errorf("stdin was read: %q left", rest)
	}
}

// A secret piped with --client-secret-stdin is kept as a typed one is; the prompt's answer too.
func TestSecretsThatCameInAtLoginAreFresh(t *testing.T) {
	g := fileLogin(t, t.TempDir(), &syncBuffer{})
	if s, fresh, err := g.loginSecret(context.Background(), bufio.NewReader(strings.NewReader("piped\n"))); s != "piped" || !fresh || err != nil {
		t.Errorf("from stdin: %q, %v, %v; want piped, fresh", s, fresh, err)
	}
	if s, fresh, err := g.loginSecret(context.Background(), nil); s != "typed-secret" || fresh || err != nil {
		t.Errorf("kept: %q, %v, %v; want the kept one, not fresh", s, fresh, err)
	}
	g.secrets = nil
	g.d.Interactive = func() bool { return true }
	g.d.ReadSecret = func(context.Context, string) (string, error) { return " asked \n", nil }
	if s, fresh, err := g.loginSecret(context.Background(), nil); s != "asked" || !fresh || err != nil {
		t.Errorf("prompt: %q, %v, %v; want asked, fresh", s, fresh, err)
	}
}

// At the prompt, an empty answer says nothing was typed (not "log in from a terminal", where
// the person is), and Ctrl-C — the context ending while the prompt waits — ends the login
// with the context's error, which the command line maps to 130.
func TestPromptAnswers(t *testing.T) {
	tests := []struct {
		name   string
		answer func(ctx context.Context) (string, error)
		want   string
		cause  error
	}{
		{"nothing typed", func(context.Context) (string, error) { return "  \n", nil }, "no client secret was typed", nil},
		{"interrupted", func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() }, "read the client secret", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := fileLogin(t, t.TempDir(), &syncBuffer{})
			g.secrets = nil
			g.d.Interactive = func() bool { return true }
			g.d.ReadSecret = func(ctx context.Context, _ string) (string, error) { return tt.answer(ctx) }
			ctx, cancel := context.WithCancel(context.Background())
			if tt.cause != nil {
				cancel()
			}
			defer cancel()
			s, _, err := g.loginSecret(ctx, nil)
			if s != "" || err == nil || !strings.Contains(err.Error(), tt.want) || (tt.cause != nil && !errors.Is(err, tt.cause)) {
				t.Errorf("loginSecret = %q, %v; want an error with %q (cause %v)", s, err, tt.want, tt.cause)
			}
		})
	}
}

// The redis store keeps no secret: a login says so and what to set, and a refresh without
// PLEOAUTH_CLIENT_SECRET says the same.
func TestRedisKeepsNoSecret(t *testing.T) {
	f := newFixture(t, &memStore{name: config.StoreRedis})
	if err := f.g.keepSecret("typed", true); err != nil {
		t.Fatal(err)
	}
	if said := f.stderr.String(); !strings.Contains(said, "the client secret is not kept") || !strings.Contains(said, "set PLEOAUTH_CLIENT_SECRET on each machine") {
		t.Errorf("login said %q; want the secret not kept and PLEOAUTH_CLIENT_SECRET", said)
	}
	if _, err := f.g.refreshSecret(); err == nil || !strings.Contains(err.Error(), "set PLEOAUTH_CLIENT_SECRET (the redis store keeps no client secret)") {
		t.Errorf("refreshSecret = %v; want the redis advice", err)
	}
}

// NextRefresh says whether the next refresh can be sent and, when not, why and what to do.
func TestNextRefresh(t *testing.T) {
	live := &store.Bundle{AccessToken: "at", RefreshToken: "rt"}
	tests := []struct {
		name     string
		b        *store.Bundle
		variable string
		kept     bool
		storeIs  string
		ok       bool
		why, fix string
	}{
		{"kept in the file store", live, "", true, config.StoreFile, true, "client secret from the file store", ""},
		{"the variable", live, "s", false, config.StoreFile, true, "client secret from PLEOAUTH_CLIENT_SECRET", ""},
		{"no secret, file store", live, "", false, config.StoreFile, false, "no client secret", "or log in again (pleoauth login --env staging) from a terminal or with --client-secret-stdin to keep it in the file store"},
		{"no secret, keychain", live, "", false, config.StoreKeyring, false, "no client secret", "to keep it in the keychain"},
		{"no refresh token", &store.Bundle{AccessToken: "at"}, "s", false, config.StoreFile, false, "no refresh token is held", "run pleoauth login --env staging"},
		{"refused", &store.Bundle{AccessToken: "at", RefreshToken: "rt", Refused: &store.Refusal{}}, "s", false, config.StoreFile, false, "the server refused the refresh token", "run pleoauth login"},
		{"not logged in", nil, "s", false, config.StoreFile, false, "not logged in", "run pleoauth login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &memStore{name: tt.storeIs})
			f.g.Env.ClientSecret = tt.variable
			kc := &oauthtest.Keychain{}
			f.g.d.Keychain = kc
			f.g.secrets = f.g.keptSecretOf(f.st)
			if tt.kept {
				if err := f.g.secrets.keeper.Save(f.g.secrets.key, "kept"); err != nil {
					t.Fatal(err)
				}
			}
			got := f.g.NextRefresh(tt.b)
			if got.OK != tt.ok || got.Why != tt.why || !strings.Contains(got.Fix, tt.fix) || (tt.fix == "") != (got.Fix == "") {
				t.Errorf("NextRefresh = %+v; want OK %v, why %q, fix containing %q", got, tt.ok, tt.why, tt.fix)
			}
		})
	}
}

// No keychain answering the keyring store (the default): the check a login makes before it
// asks for anything or opens a browser names every way out.
func TestNoKeychainNamesTheWaysOut(t *testing.T) {
	kc := &oauthtest.Keychain{}
	kc.Fail(noKeychain)
	g := openIn(t, t.TempDir(), config.Config{Store: config.StoreKeyring}, "", kc, nil, &syncBuffer{})
	err := g.Check()
	if err == nil {
		t.Fatal("Check = nil; want the keychain missing")
	}
	for _, w := range []string{"env local", "the OS keychain is not available", "--store file", "0600 files", "PLEOAUTH_CLIENT_SECRET", "start a Secret Service"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Check = %q; want it to say %q", err, w)
		}
	}
}

// The keychain store keeps a secret that came in at login in the keychain, per environment,
// quietly; logout keeps it for the next login unless told to forget it.
func TestKeychainKeepsTheSecretUntilForgotten(t *testing.T) {
	home := t.TempDir()
	kc := &oauthtest.Keychain{}
	var stderr syncBuffer
	g := openIn(t, home, config.Config{Store: config.StoreKeyring, LockTimeout: time.Second}, "", kc, nil, &stderr)
	if err := g.keepSecret("typed", true); err != nil {
		t.Fatal(err)
	}
	if s, _ := g.clientSecrets().Load("local"); s != "typed" || stderr.String() != "" {
		t.Errorf("keychain holds %q, login said %q; want typed, said nothing", s, stderr.String())
	}
	if src := g.SecretSource(); src != "the keychain" {
		t.Errorf("SecretSource = %q; want the keychain", src)
	}
	_ = g.Logout(context.Background(), false, false)
	if s, _ := g.clientSecrets().Load("local"); s != "typed" {
		t.Errorf("after logout the keychain holds %q; want the secret kept", s)
	}
	if where := g.SecretKeptAfterLogout(); where != "the keychain" {
		t.Errorf("SecretKeptAfterLogout = %q; want the keychain, for logout to say so", where)
	}
	if err := g.Logout(context.Background(), true, false); err != nil {
		t.Fatal(err)
	}
	if s, _ := g.clientSecrets().Load("local"); s != "" {
		t.Errorf("after logout --forget-secret the keychain holds %q; want nothing", s)
	}
	if where := g.SecretKeptAfterLogout(); where != "" {
		t.Errorf("SecretKeptAfterLogout = %q after --forget-secret; want none", where)
	}
}

// Moving the login out (export-refresh-token without --keep) takes the secret kept with it too;
// with --keep both stay.
func TestExportForgetsTheSecretWithTheLogin(t *testing.T) {
	for _, keep := range []bool{true, false} {
		home := t.TempDir()
		g := fileLogin(t, home, &syncBuffer{})
		if err := g.Export(context.Background(), keep, func(string) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if where := g.SecretKeptAfterLogout(); where != "" {
			t.Errorf("SecretKeptAfterLogout = %q for the file store; want none (its secret goes with the login)", where)
		}
		_, err := os.Stat(filepath.Join(home, "tokens", "local.client-secret"))
		if kept := err == nil; kept != keep {
			t.Errorf("export keep=%v: secret kept %v; want %v", keep, kept, keep)
		}
	}
}

// A refresh with no client secret says so once, naming the login and the next step: the
// refresh's own wording adds no second "env staging: refresh:" before the secret's message
// (token, import-refresh-token and logout --revoke print it as it is).
func TestNoSecretIsSaidOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(g *Grant) error
	}{
		{"token", func(g *Grant) error { _, err := g.Token(context.Background(), Request{Force: true}); return err }},
		{"refresh", func(g *Grant) error { _, err := g.refresh(context.Background(), bundle("a1", "r1", 0)); return err }},
	} {
		f := newFixture(t, &memStore{name: config.StoreRedis, b: bundle("a1", "r1", 0)})
		f.g.send = f.g.sendRefresh
		err := tc.run(f.g)
		want := "env staging: no client secret to refresh the token with; set PLEOAUTH_CLIENT_SECRET (the redis store keeps no client secret)"
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v; want %q", tc.name, err, want)
		}
	}
}
