package grant

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

// TestRefreshAgainstTheServer: a refresh sent to a real token endpoint (RFC 6749 §6, the
// client authenticated as the environment says) rotates the refresh token and keeps both; a
// refresh token the server does not know is refused and the refusal recorded; a refresh that
// cannot be sent for want of a client secret or of a readable ca_file sends nothing, leaves
// the refresh token good, and names the setting to fix without another "refresh:" before it.
func TestRefreshAgainstTheServer(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(g *Grant)
		bogus   bool // the stored refresh token is not the server's
		want    string
		kind    failure.Kind
		after   string // "rotated", "refused" or "unchanged"
		refresh int    // refresh requests the server saw
	}{
		{name: "rotated", after: "rotated", refresh: 1},
		{name: "an unknown refresh token is refused", bogus: true, want: "refresh token refused (invalid_grant", kind: failure.LoginRequired, after: "refused", refresh: 1},
		{name: "no client secret", setup: func(g *Grant) { g.Env.ClientSecret = "" },
			want: "env staging: no client secret to refresh the token with; set PLEOAUTH_CLIENT_SECRET (the memory store keeps no client secret)", after: "unchanged"},
		{name: "an unreadable ca_file", setup: func(g *Grant) { g.Env.CAFile = filepath.Join(g.cfg.Home, "missing.pem") },
			want: "env staging: ca_file", after: "unchanged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &memStore{})
			dev := withAuthServer(t, f.g)
			f.g.send = f.g.sendRefresh
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			tok, err := oauthtest.Login(ctx, tokenendpoint.OAuth2Config(f.g.Env, "s"))
			if err != nil {
				t.Fatal(err)
			}
			stored := bundle(tok.AccessToken, tok.RefreshToken, 0)
			if tt.bogus {
				stored.RefreshToken = "not-the-servers"
			}
			f.st.b = stored
			if tt.setup != nil {
				tt.setup(f.g)
			}
			res, err := f.g.TokenResult(ctx, Request{MinTTL: time.Minute})
			if tt.want == "" && err != nil {
				t.Fatalf("Token = %v", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || tt.kind != 0 && failure.KindOf(err) != tt.kind) {
				t.Fatalf("Token = %v (kind %v); want kind %v saying %q", err, failure.KindOf(err), tt.kind, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "refresh: ") {
				t.Errorf("Token = %v; want no layer label before the advice", err)
			}
			got := f.st.stored()
			switch tt.after {
			case "rotated":
				if !res.Refreshed || got.AccessToken == tok.AccessToken || got.RefreshToken == tok.RefreshToken || got.RefreshToken == "" || got.Spent != nil {
					t.Errorf("store %+v; want new access and refresh tokens from the server", got)
				}
			case "refused":
				if got.Refused == nil || !strings.HasPrefix(got.Refused.Reason, "invalid_grant") {
					t.Errorf("store %+v; want the refusal recorded", got)
				}
			case "unchanged":
				if *got != *stored {
					t.Errorf("store %+v; want %+v, the refresh token still good", got, stored)
				}
			}
			if n := dev.Stats().TokenRequests["refresh_token"]; n != tt.refresh {
				t.Errorf("%d refresh requests reached the server; want %d", n, tt.refresh)
			}
		})
	}
}

// TestOnRotateFailureAfterARefresh: the new refresh token is saved here before on_rotate runs;
// a command that fails says the write-back did not happen. An answer that brings no new
// refresh token (RFC 6749 §6: the server may keep the old one) rotated nothing, so on_rotate
// does not run.
func TestOnRotateFailureAfterARefresh(t *testing.T) {
	f := newFixture(t, &memStore{b: bundle("a1", "r1", 0)}, issued("a2", "r2", 900))
	f.g.Env.OnRotate = "exit 3"
	_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "env staging: tokens refreshed and saved here, but the on_rotate command failed") {
		t.Fatalf("Token = %v; want the failed write-back said", err)
	}
	if got := f.st.stored(); got.AccessToken != "a2" || got.RefreshToken != "r2" || got.Spent != nil {
		t.Errorf("store %+v; want a2/r2 saved before on_rotate ran", got)
	}

	f = newFixture(t, &memStore{b: bundle("a1", "r1", 0)}, issued("a2", "", 900))
	f.g.Env.OnRotate = "exit 3"
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Errorf("Token = %v; want no on_rotate run for a refresh token that did not change", err)
	}
}

// TestUnreadableJournalIsSetAside: an answer in the journal that does not open with this
// machine's key is moved aside, never deleted, and said; the login goes on from the store.
func TestUnreadableJournalIsSetAside(t *testing.T) {
	f := newFixture(t, &memStore{b: bundle("a1", "r1", 10*time.Minute)})
	path := filepath.Join(f.g.journal.Dir, "staging")
	if err := os.MkdirAll(f.g.journal.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("sealed under another key"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Bundle.AccessToken != "a1" {
		t.Fatalf("Token = %+v, %v; want the stored a1", res.Bundle, err)
	}
	aside := path + ".unreadable-20261129T120000Z"
	if data, err := os.ReadFile(aside); err != nil || string(data) != "sealed under another key" {
		t.Errorf("set aside: %q, %v; want the entry kept at %s", data, err, aside)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the unreadable entry is still in place: %v", err)
	}
	if want := fmt.Sprintf("pleoauth: env staging: the journal %s does not open with this machine's key; moved to %s\n", path, aside); f.stderr.String() != want {
		t.Errorf("stderr %q; want %q", f.stderr.String(), want)
	}
}

// TestTokenWarnsOnStderr: a token valid for less than --min-ttl, because the server issues no
// longer-lived ones, is handed out with one warning line on stderr (stdout carries the token
// only).
func TestTokenWarnsOnStderr(t *testing.T) {
	f := newFixture(t, &memStore{b: bundle("a1", "r1", 10*time.Minute)})
	b, err := f.g.Token(context.Background(), Request{MinTTL: 20 * time.Minute})
	if err != nil || b.AccessToken != "a1" {
		t.Fatalf("Token = %+v, %v; want a1", b, err)
	}
	want := "pleoauth: env staging: the server issues access tokens valid for 15m0s, less than --min-ttl 20m0s; this one is valid until 2026-11-29T12:10:00Z (lower --min-ttl to silence this)\n"
	if got := f.stderr.String(); got != want {
		t.Errorf("stderr %q; want %q", got, want)
	}

	// Valid long enough, or for exactly --min-ttl from a server that issues tokens that long:
	// nothing is said.
	exact := &store.Bundle{AccessToken: "a1", RefreshToken: "r1", ObtainedAt: t0, Expiry: t0.Add(20 * time.Minute)}
	for _, b := range []*store.Bundle{bundle("a1", "r1", time.Hour), exact} {
		f := newFixture(t, &memStore{b: b})
		if got, err := f.g.Token(context.Background(), Request{MinTTL: 20 * time.Minute}); err != nil || got.AccessToken != "a1" || f.stderr.String() != "" {
			t.Errorf("Token(valid until %s) = %+v, %v, stderr %q; want a1 and nothing said", b.Expiry, got, err, f.stderr.String())
		}
	}
}

// TestWaitingForTheLockIsSaid: a command held by another's lock says so, naming the holder's
// process when the lock file tells it, so a person is never left staring at a silent command.
func TestWaitingForTheLockIsSaid(t *testing.T) {
	home := t.TempDir()
	cfg := config.Config{Store: config.StoreFile, StoreChosen: true, LockTimeout: 10 * time.Second}
	holder := openIn(t, home, cfg, "", &oauthtest.Keychain{}, nil, io.Discard)
	var stderr syncBuffer
	waiter := openIn(t, home, cfg, "", &oauthtest.Keychain{}, nil, &stderr)
	fl := waiter.locks.(store.FileLock)
	fl.NoticeAfter = time.Millisecond
	waiter.locks = fl

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	unlock, err := holder.locks.Lock(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		unlock, err := waiter.locks.Lock(ctx, "local")
		if err == nil {
			unlock()
		}
		got <- err
	}()
	want := fmt.Sprintf("pleoauth: waiting for another pleoauth (pid %d) to finish refreshing env local…\n", os.Getpid())
	for stderr.String() == "" && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("the waiting command: %v; want the lock once released", err)
	}
	if stderr.String() != want {
		t.Errorf("stderr %q; want %q", stderr.String(), want)
	}

	var unknown syncBuffer
	waiter = openIn(t, home, cfg, "", &oauthtest.Keychain{}, nil, &unknown)
	waiter.locks.(store.FileLock).Waiting(0)
	if want := "pleoauth: waiting for another pleoauth to finish refreshing env local…\n"; unknown.String() != want {
		t.Errorf("with the holder unknown: %q; want %q", unknown.String(), want)
	}
}

// TestProbeStore: the doctor's round trip through the redis store (lock, sealed write, read
// back, removal) passes against a live Redis and fails against one that is gone; other stores
// have nothing to probe.
func TestProbeStore(t *testing.T) {
	r := oauthtest.StartRedis(t)
	vars := map[string]string{"PLEOAUTH_HOME": t.TempDir(), "PLEOAUTH_ENV": "local", "PLEOAUTH_STORE": "redis",
		"PLEOAUTH_REDIS_URL": strings.Replace(r.URL(), "redis://", "redis://:not-asked@", 1), "PLEOAUTH_STORE_KEY": store.NewStoreKey()}
	getenv := func(k string) string { return vars[k] }
	cfg, err := config.Load(pflag.NewFlagSet("test", pflag.ContinueOnError), getenv)
	if err != nil {
		t.Fatal(err)
	}
	env, err := cfg.Environment()
	if err != nil {
		t.Fatal(err)
	}
	g, err := Open(cfg, env, Deps{Stderr: io.Discard, Getenv: getenv, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	rs := g.store.(*store.Redis)
	if from := rs.PasswordFrom; from != "the password in PLEOAUTH_REDIS_URL" {
		t.Errorf("a refused password would name %q; want the password in PLEOAUTH_REDIS_URL", from)
	}
	// A compare-and-set the client resent after a lost reply would be refused as a conflict
	// although it was applied: the protocol above decides what to retry, never the client.
	// (go-redis reads MaxRetries -1 as none and keeps it as 0; an unset 0 would mean 3.)
	if n := rs.Client.Options().MaxRetries; n != 0 {
		t.Errorf("the Redis client retries %d times; want none", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.ProbeStore(ctx); err != nil {
		t.Fatalf("ProbeStore against a live Redis: %v", err)
	}
	if _, err := g.store.Load(probeName); err == nil {
		t.Error("the probe's bundle was left in Redis")
	}
	r.Stop()
	if err := g.ProbeStore(ctx); err == nil {
		t.Error("ProbeStore against a stopped Redis succeeded")
	}
	file := openIn(t, t.TempDir(), config.Config{Store: config.StoreFile, StoreChosen: true}, "", &oauthtest.Keychain{}, nil, io.Discard)
	if err := file.ProbeStore(ctx); err != nil {
		t.Errorf("ProbeStore of the file store = %v; want nothing to probe", err)
	}
}

// TestScopeKeptWhenTheAnswerNamesNone: an answer naming no scope granted the scope unchanged
// (RFC 6749 §5.1); with no scopes configured to fall back on, the login's recorded scope stays.
func TestScopeKeptWhenTheAnswerNamesNone(t *testing.T) {
	b := bundle("a1", "r1", 0)
	b.Scope = "users:read export-jobs:read"
	f := newFixture(t, &memStore{b: b}, issued("a2", "r2", 900))
	f.g.Env.Scopes = nil
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := f.st.stored().Scope; got != b.Scope {
		t.Errorf("stored scope %q; want %q kept", got, b.Scope)
	}
}
