package store

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCorruptErrorNamesTheFile: a bundle that cannot be read back names its file, and one that
// holds what no server may issue says why, so that a person knows what to remove.
func TestCorruptErrorNamesTheFile(t *testing.T) {
	dir := privateDir(t)
	f := File{Dir: dir}
	path := filepath.Join(dir, "local.json")
	tests := []struct {
		content string
		want    []string
	}{
		{"{", []string{path, "unreadable"}},
		{`{"access_token":"a b"}`, []string{path, "refused", "b64token"}},
	}
	for _, tt := range tests {
		if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := f.Load("local")
		var corrupt *CorruptError
		if !errors.As(err, &corrupt) {
			t.Fatalf("Load(%q) = %v; want *CorruptError", tt.content, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%q) = %q; want it to say %q", tt.content, err, w)
			}
		}
	}
}

// TestKeyringRecover: a save a crash interrupted is finished by the next holder of the lock
// only with a leftover sealed for this login under its key; one sealed for another login (or
// garbage) is removed, never put in place.
func TestKeyringRecover(t *testing.T) {
	tests := []struct {
		name     string
		leftover func(k Keyring) []byte
		want     string // access token after
		adopted  bool
	}{
		{"this login's answer", func(k Keyring) []byte { return sealedFor(t, k, "local", "a2") }, "a2", true},
		{"another login's bundle", func(k Keyring) []byte { return sealedFor(t, k, "other", "a2") }, "a1", false},
		{"garbage", func(Keyring) []byte { return []byte(fileMagic + "garbage") }, "a1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tokens")
			k := Keyring{Dir: dir, Scope: dir, Keychain: &fakeKeychain{}}
			if adopted, err := k.Recover("local"); adopted || err != nil {
				t.Fatalf("Recover with nothing to finish = %v, %v; want false, nil", adopted, err)
			}
			if err := k.Save("local", &Bundle{AccessToken: "a1"}); err != nil {
				t.Fatal(err)
			}
			if k.Pending("local") {
				t.Fatal("a whole save is pending")
			}
			if err := os.WriteFile(filepath.Join(dir, ".local.enc.tmp-1"), tt.leftover(k), 0o600); err != nil {
				t.Fatal(err)
			}
			if !k.Pending("local") {
				t.Fatal("the leftover is not seen as pending")
			}
			adopted, err := k.Recover("local")
			if err != nil || adopted != tt.adopted {
				t.Fatalf("Recover = %v, %v; want %v", adopted, err, tt.adopted)
			}
			if got, err := k.Load("local"); err != nil || got.AccessToken != tt.want {
				t.Errorf("after Recover: %+v, %v; want %s", got, err, tt.want)
			}
			if k.Pending("local") {
				t.Error("leftovers remain after Recover")
			}
		})
	}
	t.Run("keychain down", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "tokens")
		kc := &fakeKeychain{}
		k := Keyring{Dir: dir, Scope: dir, Keychain: kc}
		if err := k.Save("local", &Bundle{AccessToken: "a1"}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".local.enc.tmp-1"), sealedFor(t, k, "local", "a2"), 0o600); err != nil {
			t.Fatal(err)
		}
		kc.Fail(errors.New("The name org.freedesktop.secrets was not provided by any .service files"))
		if adopted, err := k.Recover("local"); adopted || !errors.Is(err, ErrKeychainUnavailable) {
			t.Errorf("Recover with the keychain down = %v, %v; want false, ErrKeychainUnavailable", adopted, err)
		}
		kc.Fail(nil)
		if !k.Pending("local") {
			t.Error("the leftover was dropped while its key could not be read")
		}
	})
}

// sealedFor is a bundle holding access sealed as k seals env's, under k's key for "local".
func sealedFor(t *testing.T, k Keyring, env, access string) []byte {
	t.Helper()
	key, err := k.keyOrNew("local")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := seal(key, []byte(`{"access_token":"`+access+`"}`), env)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// TestProfiles: each file store lists the profiles an environment has a login for — the
// default as "" — and nothing of another environment, a kept secret, or a name no login has.
func TestProfiles(t *testing.T) {
	dir := privateDir(t)
	for _, name := range []string{"local.json", "local@acme.json", "local@beta.enc", "local.enc",
		"localhost.json", "local@acme.client-secret", "local@Bad.json", "other@x.enc"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		list func() ([]string, error)
		want []string
	}{
		{"file", func() ([]string, error) { return File{Dir: dir}.Profiles("local") }, []string{"", "acme"}},
		{"keyring", func() ([]string, error) { return Keyring{Dir: dir}.Profiles("local") }, []string{"", "beta"}},
		{"nothing", func() ([]string, error) { return File{Dir: dir}.Profiles("staging") }, nil},
	}
	for _, tt := range tests {
		got, err := tt.list()
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: Profiles = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// TestProbeKeychain: a keychain that answers "no such item" is working; one that fails or
// hangs is unavailable.
func TestProbeKeychain(t *testing.T) {
	if err := ProbeKeychain(&fakeKeychain{}); err != nil {
		t.Errorf("ProbeKeychain of a working keychain = %v; want nil", err)
	}
	down := &fakeKeychain{Err: errors.New("dbus: connection refused")}
	if err := ProbeKeychain(down); !errors.Is(err, ErrKeychainUnavailable) {
		t.Errorf("ProbeKeychain of a keychain that does not answer = %v; want ErrKeychainUnavailable", err)
	}
	// A probe is a quick question: one waiting for an unlock prompt is given up after 2 s,
	// not the 5 s a read of tokens may take.
	hung := &fakeKeychain{Block: make(chan struct{})}
	defer close(hung.Block)
	if err := ProbeKeychain(hung); !errors.Is(err, ErrKeychainUnavailable) || !strings.Contains(err.Error(), "no answer within 2s") {
		t.Errorf("ProbeKeychain of a hanging keychain = %v; want unavailable after 2s", err)
	}
}
