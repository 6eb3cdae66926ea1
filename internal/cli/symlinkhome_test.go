package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// TestSymlinkedHomeIsOneLogin: a keychain-store home reached through a symbolic link is the same
// login as the folder itself — a login through either path is read through the other — and a key
// kept under the link's name (as before the keychain named items after the real path) is found
// and moved to the real path's name.
func TestSymlinkedHomeIsOneLogin(t *testing.T) {
	h := newHarness(t)
	h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects
	kc := &oauthtest.Keychain{}
	h.keychain = kc
	t.Setenv("PLEOAUTH_STORE", "keyring")
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real, link := filepath.Join(base, "real"), filepath.Join(base, "link")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	keyAt := func(home string) bool {
		_, err := kc.Get(store.KeychainService, "bundle-key:local@"+home)
		return err == nil
	}

	t.Setenv("PLEOAUTH_HOME", link)
	if r := h.main("login", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("login through the link: %+v", r)
	}
	t.Setenv("PLEOAUTH_HOME", real)
	if r := h.main("token", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("token through the real path after a login through the link: %+v", r)
	}
	if !keyAt(real) || keyAt(link) {
		t.Errorf("key under the real path %t, under the link %t; want the real path's name only", keyAt(real), keyAt(link))
	}

	// A key kept under the link's name, as an earlier pleoauth named it, is found and moved.
	secret, _ := kc.Get(store.KeychainService, "bundle-key:local@"+real)
	if err := kc.Set(store.KeychainService, "bundle-key:local@"+link, secret); err != nil {
		t.Fatal(err)
	}
	if err := kc.Delete(store.KeychainService, "bundle-key:local@"+real); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLEOAUTH_HOME", link)
	if r := h.main("token", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("token through the link with the key under the link's name: %+v", r)
	}
	if !keyAt(real) || keyAt(link) {
		t.Errorf("after the move: key under the real path %t, under the link %t; want the real path's name only", keyAt(real), keyAt(link))
	}
	t.Setenv("PLEOAUTH_HOME", real)
	if r := h.main("token", "--env", "local"); r.code != exitcode.OK {
		t.Errorf("token through the real path after the move: %+v", r)
	}
}
