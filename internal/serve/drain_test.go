package serve

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/loopback"
	"github.com/pleoauth/pleoauth/internal/store"
)

// TestServeLetsARefreshInFlightFinish: Serve answers on every listener, and when its context
// ends (^C) it stops taking requests but lets one in flight finish — the token source's
// context is not cancelled with it, so a refresh already sent is seen through and saved — and
// then returns.
func TestServeLetsARefreshInFlightFinish(t *testing.T) {
	ls, hosts, err := Listen(":0")
	if err != nil {
		t.Fatal(err)
	}
	asked, release := make(chan struct{}, 1), make(chan struct{})
	sourceCtx := make(chan error, 1)
	h := Handler(Options{Key: testKey, Env: "local", Log: io.Discard, Now: time.Now,
		Token: func(ctx context.Context, _ time.Duration) (*store.Bundle, bool, string, error) {
			asked <- struct{}{}
			<-release
			sourceCtx <- ctx.Err()
			return &store.Bundle{AccessToken: "ory_at_refreshed"}, true, "", nil
		},
		WriteToken: func(w io.Writer, b *store.Bundle) error {
			return json.NewEncoder(w).Encode(map[string]string{"access_token": b.AccessToken})
		},
		Explain: func(err error) string { return err.Error() },
	}, hosts)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ls, h, time.Minute) }()

	get := func(base, path string) (*http.Response, error) {
		r, _ := http.NewRequest(http.MethodGet, base+path, nil)
		r.Header.Set("Authorization", "Bearer "+testKey)
		return (&http.Client{Timeout: 10 * time.Second}).Do(r)
	}
	for _, l := range ls {
		resp, err := get("http://"+l.Addr().String(), "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz on %s: %v %v; want 200", l.Addr(), resp, err)
		}
		resp.Body.Close()
	}
	answer := make(chan *http.Response, 1)
	go func() {
		resp, err := get("http://"+ls[0].Addr().String(), "/token")
		if err != nil {
			t.Error(err)
		}
		answer <- resp
	}()
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the token request did not reach the source in 10 s")
	}
	stop()
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-sourceCtx; err != nil {
		t.Errorf("the token source's context ended with serve's: %v", err)
	}
	if resp := <-answer; resp == nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the request in flight when serve stopped: %v; want 200", resp)
	} else {
		resp.Body.Close()
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v; want nil after a clean stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10 s of its last request")
	}
	for _, l := range ls {
		if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
			c.Close()
			t.Errorf("%s still accepts after Serve returned", l.Addr())
		}
	}
}

// TestListenDefaultsToPLEO: with no --addr serve listens on both loopbacks at DefaultPort, 7536
// (P-L-E-O on a phone keypad) — or, when that port is taken, says so for that port.
func TestListenDefaultsToPLEO(t *testing.T) {
	ls, hosts, err := Listen("")
	if err != nil {
		var inUse *loopback.PortInUseError
		if !errors.As(err, &inUse) || !strings.HasSuffix(inUse.Addr, ":7536") {
			t.Fatalf("Listen(\"\") = %v; want port 7536 or that it is in use", err)
		}
		return
	}
	closeAll(ls)
	for _, l := range ls {
		if port := l.Addr().(*net.TCPAddr).Port; port != 7536 {
			t.Errorf("Listen(\"\") listened on %s; want port 7536", l.Addr())
		}
	}
	if len(hosts) < 2 || hosts[0] != "127.0.0.1:7536" || hosts[1] != "localhost:7536" {
		t.Errorf("Listen(\"\") allows hosts %v; want 127.0.0.1:7536 and localhost:7536 first", hosts)
	}
}
