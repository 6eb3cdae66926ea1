package grant

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

// TestConcurrentGoroutines is the process storm in one process: 32 goroutines, each with its
// own Grant (so each takes the flock through its own file descriptor), over 5 expiry rounds
// against the devserver with replay detection. One refresh per round, one token per round.
// The goroutines share a clock that each round moves past the token's expiry, so a round
// starts with every goroutine seeing an expired token without the test waiting it out.
func TestConcurrentGoroutines(t *testing.T) {
	const redirect = "http://localhost:18999/callback"
	dev, err := devserver.New(devserver.Options{ClientID: "c", ClientSecret: "s", RedirectURIs: []string{redirect},
		AccessTTL: 2 * time.Second, RefreshTTL: time.Hour, AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(dev)
	defer hs.Close()
	cfg := &oauth2.Config{ClientID: "c", ClientSecret: "s", RedirectURL: redirect, Scopes: []string{"users:read"},
		Endpoint: oauth2.Endpoint{AuthURL: hs.URL + "/oauth/authorize", TokenURL: hs.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}

	var clock atomic.Pointer[time.Time]
	start := time.Now()
	clock.Store(&start)
	now := func() time.Time { return *clock.Load() }
	home := t.TempDir()
	st := store.File{Dir: filepath.Join(home, "tokens")}
	if err := st.Save("local", NewBundle(mustLogin(t, cfg), now(), cfg.Scopes)); err != nil {
		t.Fatal(err)
	}
	newLogin := func() *Grant {
		g := &Grant{
			Env: config.Environment{Name: "local"}, Name: "local", cfg: &config.Config{Home: home},
			store: st, locks: store.FileLock{Dir: filepath.Join(home, "locks")},
			journal: store.Journal{Dir: filepath.Join(home, "journal", "file")}, spent: store.Spent{Dir: filepath.Join(home, "journal")},
			self: thisProcess, backoff: DefaultBackoff,
			d: Deps{Stderr: io.Discard, Getenv: func(string) string { return "" }, Now: now},
		}
		g.send = func(ctx context.Context, rt string) (*oauth2.Token, error) {
			tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
			if err != nil {
				return nil, tokenendpoint.Classify(cfg.Endpoint.TokenURL, err)
			}
			return tok, nil
		}
		return g
	}
	for round := 1; round <= 5; round++ {
		b, err := st.Load("local")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		expired := b.Expiry
		clock.Store(&expired)
		before := dev.Stats().TokensIssued["refresh_token"]
		var wg sync.WaitGroup
		tokens := make([]string, 32)
		errs := make([]error, 32)
		for i := range tokens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := newLogin().TokenResult(context.Background(), Request{MinTTL: 100 * time.Millisecond})
				if err == nil {
					tokens[i] = res.Bundle.AccessToken
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: goroutine %d: %v", round, i, err)
			}
			if tokens[i] != tokens[0] {
				t.Errorf("round %d: goroutine %d got another token", round, i)
			}
		}
		s := dev.Stats()
		if got := s.TokensIssued["refresh_token"] - before; got != 1 || s.FamiliesRevoked != 0 {
			t.Fatalf("round %d: %d refreshes, %d families revoked; want 1 and 0", round, got, s.FamiliesRevoked)
		}
	}
}

func mustLogin(t *testing.T, cfg *oauth2.Config) *oauth2.Token {
	t.Helper()
	tok, err := oauthtest.Login(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
