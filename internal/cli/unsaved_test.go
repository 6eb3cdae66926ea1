package cli

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/store"
)

// TestUnsavedSpendIsToldEverywhere: a refresh token another machine spent, whose answer is not
// in the store, is never sent; token, status and doctor tell the same story — temporary (exit
// 5) while that machine may still save it, login required (exit 4) after unsaved_timeout.
func TestUnsavedSpendIsToldEverywhere(t *testing.T) {
	for _, tt := range []struct {
		name   string
		age    time.Duration
		code   int
		says   string
		doctor string
	}{
		{"recent", time.Minute, exitcode.Temporary, "has not been saved yet", "WARN  token"},
		{"past unsaved_timeout", time.Hour, exitcode.LoginRequired, "was never saved", "FAIL  token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			dev, _ := h.startDevserver(devserver.Options{AutoApprove: true})
			b := &store.Bundle{AccessToken: "earlier-access", RefreshToken: "earlier-refresh", TokenType: "bearer",
				Expiry: time.Now().Add(-time.Minute), ObtainedAt: time.Now().Add(-16 * time.Minute),
				Spent: &store.Spend{ID: "s1", Grant: store.SpendRefresh, Host: "build-agent-7", PID: 4242, Home: "/elsewhere", At: time.Now().Add(-tt.age)}}
			if err := (store.File{Dir: h.home + "/tokens"}).Save("local", b); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"token", "--env", "local"}, {"token", "--env", "local", "--force-refresh"}, {"status", "--env", "local"}} {
				r := h.main(args...)
				if r.code != tt.code || !strings.Contains(r.stderr, tt.says) || !strings.Contains(r.stderr, "build-agent-7 (pid 4242") {
					t.Errorf("%v: %+v; want exit %d saying %q and naming the machine", args, r, tt.code, tt.says)
				}
			}
			if r := h.main("status", "--env", "local"); !strings.Contains(r.stdout, "unsaved:") || !strings.Contains(r.stdout, "logged in:     no") {
				t.Errorf("status: %q; want the unsaved line and logged in: no", r.stdout)
			}
			if r := h.main("doctor", "--env", "local"); !strings.Contains(r.stdout, tt.says) || !strings.Contains(r.stdout, tt.doctor) {
				t.Errorf("doctor: %q; want a %s line saying %q", r.stdout, tt.doctor, tt.says)
			}
			if data, _ := os.ReadFile(h.tokenFile("local")); !strings.Contains(string(data), `"id":"s1"`) {
				t.Errorf("the spend record was changed: %s", data)
			}
			if n := dev.Stats().TokenRequests["refresh_token"]; n != 0 {
				t.Errorf("%d refresh requests: the spent refresh token was sent", n)
			}
		})
	}
}
