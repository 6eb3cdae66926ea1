package grant

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/httpclient"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// withAuthServer points g at a devserver that approves every authorization at once (the
// "browser" of a test follows its redirects to g's loopback redirect URI), with the client
// secret from PLEOAUTH_CLIENT_SECRET.
func withAuthServer(t *testing.T, g *Grant) *devserver.Server {
	t.Helper()
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", oauthtest.FreePort(t))
	dev, err := devserver.New(devserver.Options{ClientID: "c", ClientSecret: "s", RedirectURIs: []string{redirect},
		AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(dev)
	t.Cleanup(hs.Close)
	g.Env.AuthorizeURL, g.Env.TokenURL = hs.URL+"/oauth/authorize", hs.URL+"/oauth/token"
	g.Env.ClientID, g.Env.ClientSecret, g.Env.RedirectURI = "c", "s", redirect
	g.d.HTTPClient = func() *http.Client { return &http.Client{Timeout: 10 * time.Second} }
	g.caPool = func() (*x509.CertPool, error) { return httpclient.RootCAs(g.Env.Name, g.Env.CAFile, "the test") }
	return dev
}

// loginNow runs g's login with a browser that follows the redirects, bounded in time.
func loginNow(t *testing.T, g *Grant, o LoginOptions) (*store.Bundle, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o.OpenBrowser = oauthtest.FollowRedirects
	return g.Login(ctx, o)
}

// codesExchanged is how many authorization codes the server was asked to exchange.
func codesExchanged(dev *devserver.Server) int {
	return dev.Stats().TokenRequests["authorization_code"]
}

// TestLoginRecordsTheSpendThenKeepsTheTokens: a login takes the lock only once the redirect
// came, records in the store that its code is being spent before it is exchanged (a login
// being replaced stays usable and names the spend), keeps the tokens the code brought, and
// releases the lock. Its messages go to the writer the command line gave.
func TestLoginRecordsTheSpendThenKeepsTheTokens(t *testing.T) {
	for _, stored := range []*store.Bundle{nil, bundle("a1", "r1", time.Hour)} {
		t.Run(fmt.Sprintf("stored %v", stored != nil), func(t *testing.T) {
			st := &memStore{b: stored}
			f := newFixture(t, st)
			dev := withAuthServer(t, f.g)
			exchangedAtWrite := []int{}
			st.failWrite = func(int, *store.Bundle) error {
				exchangedAtWrite = append(exchangedAtWrite, codesExchanged(dev))
				return nil
			}
			var out syncBuffer
			kept, err := loginNow(t, f.g, LoginOptions{Stderr: &out})
			if err != nil {
				t.Fatalf("Login = %v", err)
			}
			got := st.stored()
			if kept == nil || got == nil || kept.AccessToken == "" || got.AccessToken != kept.AccessToken || got.RefreshToken != kept.RefreshToken || got.Spent != nil || got.Replacing != nil {
				t.Fatalf("Login kept %+v, store %+v; want the new tokens saved, no spend left", kept, got)
			}
			if len(st.writes) != 2 || exchangedAtWrite[0] != 0 || exchangedAtWrite[1] != 1 {
				t.Fatalf("%d writes, codes exchanged at each %v; want the spend written before the exchange, the tokens after", len(st.writes), exchangedAtWrite)
			}
			marker := st.writes[0]
			switch {
			case stored == nil && (marker.Spent == nil || marker.Spent.Grant != store.SpendCode || marker.AccessToken != ""):
				t.Errorf("first write %+v; want only the spend of a code", marker)
			case stored != nil && (marker.Replacing == nil || marker.Replacing.Grant != store.SpendCode || marker.Spent != nil || marker.AccessToken != "a1"):
				t.Errorf("first write %+v; want the working login still usable, naming the code's spend", marker)
			}
			if f.lock.taken != 1 || f.lock.held != 0 {
				t.Errorf("lock taken %d times, %d holds left; want one, released", f.lock.taken, f.lock.held)
			}
			if f.g.journal.Holds("staging") {
				t.Error("the journal still holds a saved answer")
			}
			if !strings.Contains(out.String(), "Open this URL") || f.stderr.String() != "" {
				t.Errorf("login said %q on its writer and %q on stderr; want its messages on its writer only", out.String(), f.stderr.String())
			}
		})
	}
}

// TestLoginRefusals: a login that cannot keep what its code brings stops before the code is
// exchanged (the code is spent by the exchange, RFC 6749 §4.1.2); one whose exchange fails
// leaves the store as it was; one whose answer the store refused keeps it in the journal and
// leaves the spend recorded, for the next run here to save.
func TestLoginRefusals(t *testing.T) {
	storeDown := func(n int, _ *store.Bundle) error {
		if n >= 2 {
			return errors.New("redis: connection refused")
		}
		return nil
	}
	tests := []struct {
		name   string
		stored *store.Bundle
		setup  func(f *fixture)
		want   string
		// exchanged: the code was sent to the token endpoint.
		exchanged bool
		// after is what the store holds: "unchanged", or "spent" (the spend of the code still
		// recorded, its answer in the journal).
		after string
	}{
		{name: "no client secret", setup: func(f *fixture) { f.g.Env.ClientSecret = "" },
			want: "has no client secret", after: "unchanged"},
		{name: "an unreadable ca_file", setup: func(f *fixture) { f.g.Env.CAFile = filepath.Join(f.g.cfg.Home, "missing.pem") },
			want: "missing.pem", after: "unchanged"},
		{name: "the lock cannot be had", stored: bundle("a1", "r1", time.Hour), setup: func(f *fixture) { f.lock.err = errors.New("lock_timeout passed") },
			want: "env staging: lock_timeout passed", after: "unchanged"},
		{name: "a login sealed under another store key, without --force",
			setup: func(f *fixture) { f.st.loadErr = &store.WrongKeyError{Have: "k1", Want: "k2"} },
			want:  "sealed under store key k1", after: "unchanged"},
		{name: "the journal cannot be sealed", stored: bundle("a1", "r1", time.Hour), setup: func(f *fixture) { f.st.journalKeyErr = errors.New("keychain locked") },
			want: "tokens cannot be stored: keychain locked", after: "unchanged"},
		{name: "the spend cannot be recorded", stored: bundle("a1", "r1", time.Hour),
			setup: func(f *fixture) {
				f.st.failWrite = func(int, *store.Bundle) error { return errors.New("disk full") }
			},
			want: "tokens cannot be stored: disk full", after: "unchanged"},
		{name: "the code is refused, nothing stored before", setup: func(f *fixture) { f.g.Env.ClientSecret = "wrong" },
			want: "invalid_client", exchanged: true, after: "unchanged"},
		{name: "the code is refused, a login stored before", stored: bundle("a1", "r1", time.Hour), setup: func(f *fixture) { f.g.Env.ClientSecret = "wrong" },
			want: "invalid_client", exchanged: true, after: "unchanged"},
		{name: "the store refuses the answer", setup: func(f *fixture) { f.st.failWrite = storeDown },
			want: "the login worked but the tokens could not be stored", exchanged: true, after: "spent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before *store.Bundle
			if tt.stored != nil {
				c := *tt.stored
				before = &c
			}
			f := newFixture(t, &memStore{b: tt.stored})
			dev := withAuthServer(t, f.g)
			tt.setup(f)
			kept, err := loginNow(t, f.g, LoginOptions{})
			if err == nil || kept != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Login = %+v, %v; want an error saying %q", kept, err, tt.want)
			}
			if got := codesExchanged(dev); got != 0 != tt.exchanged {
				t.Errorf("%d codes exchanged; want exchanged %v", got, tt.exchanged)
			}
			got := f.st.stored()
			switch tt.after {
			case "unchanged":
				if (got == nil) != (before == nil) || got != nil && *got != *before {
					t.Errorf("store %+v; want %+v, as before the login", got, before)
				}
				if f.g.journal.Holds("staging") {
					t.Error("the journal holds an answer")
				}
			case "spent":
				if got == nil || got.Spent == nil || got.Spent.Grant != store.SpendCode || !f.g.journal.Holds("staging") {
					t.Errorf("store %+v, journal held %v; want the code's spend recorded and the answer journalled", got, f.g.journal.Holds("staging"))
				}
			}
			if f.lock.held != 0 {
				t.Errorf("%d holds of the lock left", f.lock.held)
			}
		})
	}
}

// TestLoginHandsTheRefreshTokenToOnRotate: a login's refresh token reaches on_rotate, after it
// was saved (a CI job keeps it in its secret store); a command that fails says the login
// worked but was not written back, and the tokens are kept.
func TestLoginHandsTheRefreshTokenToOnRotate(t *testing.T) {
	written := filepath.Join(t.TempDir(), "secret")
	f := newFixture(t, &memStore{})
	withAuthServer(t, f.g)
	f.g.Env.OnRotate = "cat > " + written
	kept, err := loginNow(t, f.g, LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(written); string(data) != kept.RefreshToken+"\n" || kept.RefreshToken == "" {
		t.Errorf("on_rotate got %q; want the login's refresh token %q", data, kept.RefreshToken)
	}

	f = newFixture(t, &memStore{})
	withAuthServer(t, f.g)
	f.g.Env.OnRotate = "exit 3"
	kept, err = loginNow(t, f.g, LoginOptions{})
	if err == nil || !strings.Contains(err.Error(), "logged in, but the on_rotate command failed") || kept == nil || f.st.stored() == nil || f.st.stored().AccessToken != kept.AccessToken {
		t.Errorf("Login = %+v, %v; store %+v; want the tokens kept and the failed write-back said", kept, err, f.st.stored())
	}
}

// failingKeeper is a keychain that takes no secret.
type failingKeeper struct{ saved []string }

func (k *failingKeeper) Load(string) (string, error) { return "", store.ErrNotFound }
func (k *failingKeeper) Save(_, secret string) error {
	k.saved = append(k.saved, secret)
	return errors.New("keychain locked")
}
func (k *failingKeeper) Delete(string) error { return nil }

// TestLoginKeepsAPipedSecretOnlyOnceItWorked: a client secret piped at login is kept where the
// store keeps secrets only after the login worked; one that cannot be kept leaves the tokens
// kept and says refreshes need PLEOAUTH_CLIENT_SECRET.
func TestLoginKeepsAPipedSecretOnlyOnceItWorked(t *testing.T) {
	f := newFixture(t, &memStore{})
	withAuthServer(t, f.g)
	f.g.Env.ClientSecret = ""
	k := &failingKeeper{}
	f.g.secrets = &keptSecret{keeper: k, key: "staging", where: "the keychain"}
	kept, err := loginNow(t, f.g, LoginOptions{SecretIn: bufio.NewReader(strings.NewReader("wrong\n"))})
	if err == nil || len(k.saved) != 0 {
		t.Fatalf("a refused login: %v, secrets saved %q; want an error and nothing kept", err, k.saved)
	}
	kept, err = loginNow(t, f.g, LoginOptions{SecretIn: bufio.NewReader(strings.NewReader("s\n"))})
	if err == nil || !strings.Contains(err.Error(), "refreshing needs PLEOAUTH_CLIENT_SECRET") || kept == nil || f.st.stored().AccessToken != kept.AccessToken {
		t.Errorf("Login = %+v, %v; want the tokens kept and the secret said unkept", kept, err)
	}
	if len(k.saved) != 1 || k.saved[0] != "s" {
		t.Errorf("secrets saved %q; want the piped one, once", k.saved)
	}
}

// TestLoginRemovesTheLoginOfTheOtherStore: a login lives in one store, so that commands
// without --store find the one in use: a login kept in the keychain store removes the one
// the file store held, with its kept client secret and journal, and says so.
func TestLoginRemovesTheLoginOfTheOtherStore(t *testing.T) {
	home := t.TempDir()
	plant(t, home, "local")
	files := store.File{Dir: filepath.Join(home, "tokens")}
	if err := (store.FileSecret{Dir: files.Dir}).Save("local", "kept-secret"); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	g := openIn(t, home, config.Config{Store: config.StoreKeyring, StoreChosen: true, StoreFrom: "--store", LockTimeout: time.Second}, "", &oauthtest.Keychain{}, nil, &stderr)
	key, err := files.JournalKey("local")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.journalOf(files).Write("local", key, &store.JournalEntry{Answers: "s", Bundle: bundle("a0", "r0", time.Hour)}); err != nil {
		t.Fatal(err)
	}
	withAuthServer(t, g)
	if _, err := loginNow(t, g, LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := files.Load("local"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the file store's login: %v; want it removed", err)
	}
	if s, _ := (store.FileSecret{Dir: files.Dir}).Load("local"); s != "" {
		t.Errorf("the file store's client secret %q is still kept", s)
	}
	if g.journalOf(files).Holds("local") {
		t.Error("the file store's journal still holds an answer of the removed login")
	}
	if want := "the earlier login in the file store is removed; this one in the keyring store replaces it"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q; want %q", stderr.String(), want)
	}
	if b := mustLoad(t, g); b.AccessToken == "" || b.Spent != nil {
		t.Errorf("the keyring store holds %+v; want the new login", b)
	}
}
