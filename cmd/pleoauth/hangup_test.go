package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
)

// TestHangupDuringRefreshKeepsTheLogin: a closed terminal or a dropped SSH session sends SIGHUP.
// Arriving while a refresh is at the server — which rotates the refresh token whatever the
// client does next — it must not kill pleoauth before the answer is saved, or the login is lost.
// The signal is sent once the server holds the request (the fault delays its answer), so the
// test does not depend on catching a short window.
func TestHangupDuringRefreshKeepsTheLogin(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	w.dev.InjectFault(devserver.FaultDelay, 1, 2*time.Second)
	cmd := w.command("token", "--force-refresh")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for w.stats().FaultsShown[string(devserver.FaultDelay)] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the refresh never reached the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if s := w.stats(); s.TokensIssued["refresh_token"] != 1 {
		t.Fatalf("the server issued %d refreshes; want the one in flight", s.TokensIssued["refresh_token"])
	}
	t.Logf("pleoauth ended with %v after SIGHUP", err)

	// The rotated tokens were saved: the next refresh presents the new refresh token.
	if r := w.run("token", "--force-refresh"); r.code != 0 {
		t.Fatalf("token after SIGHUP during a refresh: %v", r)
	}
	if s := w.stats(); s.FamiliesRevoked != 0 {
		t.Errorf("%d families revoked: the refresh answered during the hangup was lost", s.FamiliesRevoked)
	}
}
