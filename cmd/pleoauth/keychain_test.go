package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/keychaintest"
)

// TestKeychainLoginTokenLogout: the default store against a real Secret Service — login, token,
// status, logout — with no token text in any file under PLEOAUTH_HOME.
func TestKeychainLoginTokenLogout(t *testing.T) {
	kc := keychaintest.Require(t)
	w := newWorld(t, 15*time.Minute, kc.Env...)
	w.login()

	r := w.run("token")
	if r.code != 0 {
		t.Fatalf("token: %v", r)
	}
	access := strings.TrimSpace(r.stdout)
	st, sr := w.status()
	if sr.code != 0 || st["store"] != "keyring" || st["logged_in"] != true || st["refresh_token"] != true {
		t.Fatalf("status: %v", sr)
	}
	if files := w.filesContaining(access); len(files) > 0 {
		t.Errorf("the access token is in plaintext in %v", files)
	}
	if files := w.filesContaining("ory_rt_"); len(files) > 0 {
		t.Errorf("a refresh token is in plaintext in %v", files)
	}
	// A forced refresh goes through the keychain store too.
	if r := w.run("token", "--force-refresh"); r.code != 0 || strings.TrimSpace(r.stdout) == access {
		t.Fatalf("token --force-refresh: %v", r)
	}

	if r := w.run("logout"); r.code != 0 || !strings.Contains(r.stderr, "Logged out of local, profile default (keyring store)") {
		t.Fatalf("logout: %v", r)
	}
	if r := w.run("token"); r.code != 4 || !strings.Contains(r.stderr, `run "pleoauth login --env local"`) {
		t.Errorf("token after logout: %v; want exit 4", r)
	}
	if _, r := w.status(); r.code != 4 {
		t.Errorf("status after logout: %v; want exit 4", r)
	}
}

// TestKeychainUnavailable: without a keychain the default store is an error that names
// --store file — except in CI, where it falls back to the file store and says so.
func TestKeychainUnavailable(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus")
	r := w.run("login", "--no-browser", "--timeout", "5s")
	if r.code != 1 || !strings.Contains(r.stderr, "OS keychain is not available") || !strings.Contains(r.stderr, "--store file") {
		t.Errorf("login without a keychain: %v", r)
	}
	if strings.Contains(r.stderr, "Open this URL") {
		t.Error("the login started although its tokens could not be stored")
	}

	ci := newWorld(t, 15*time.Minute, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus", "CI=true", "BROWSER=true")
	if r := ci.run("token"); r.code != 4 || !strings.Contains(r.stderr, "using the file store") {
		t.Errorf("token in CI without a keychain: %v; want the file store notice and exit 4", r)
	}
	// Chosen explicitly, the keychain store does not fall back.
	if r := ci.run("login", "--store", "keyring"); r.code != 1 || !strings.Contains(r.stderr, "not available") {
		t.Errorf("login --store keyring in CI without a keychain: %v", r)
	}
}
