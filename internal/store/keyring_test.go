package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/pleoauth/pleoauth/internal/keychaintest"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

type fakeKeychain = oauthtest.Keychain

// bigBundle is a bundle of about size bytes of JSON, with recognisable token text.
func bigBundle(size int) *Bundle {
	return &Bundle{
		AccessToken:  "AT-" + strings.Repeat("a", size/2),
		RefreshToken: "RT-" + strings.Repeat("r", size/2),
		TokenType:    "bearer", Scope: "users:read",
		Expiry: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func TestKeychainErrorClasses(t *testing.T) {
	tests := []struct {
		err  error
		kind error
		want string
	}{
		{errors.New(`exec: "dbus-launch": executable file not found in $PATH`), ErrKeychainUnavailable, "use --store file"},
		{errors.New("The name org.freedesktop.secrets was not provided by any .service files"), ErrKeychainUnavailable, "not available"},
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"), ErrKeychainLocked, "is locked"},
		{keyring.ErrNotFound, ErrKeychainItemNotFound, "holds no"},
	}
	for _, tt := range tests {
		k := Keyring{Dir: t.TempDir(), Keychain: &fakeKeychain{Err: tt.err}}
		err := k.Save("staging", bigBundle(100))
		if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("keychain error %q: got %v; want %v with %q", tt.err, err, tt.kind, tt.want)
		}
	}
}

func TestKeychainTimeout(t *testing.T) {
	fk := &fakeKeychain{Block: make(chan struct{})}
	defer close(fk.Block)
	k := Keyring{Dir: t.TempDir(), Keychain: fk, Timeout: 50 * time.Millisecond}
	if err := k.Save("staging", bigBundle(100)); !errors.Is(err, ErrKeychainUnavailable) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("Save against a hanging keychain = %v; want unavailable after the timeout", err)
	}
}

// testKeyringStore runs the store's contract against a keychain.
func testKeyringStore(t *testing.T, kc Keychain) {
	dir := filepath.Join(t.TempDir(), "tokens")
	k := Keyring{Dir: dir, Scope: dir, Keychain: kc}
	if _, err := k.Load("staging"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load before Save = %v; want ErrNotFound", err)
	}
	b := bigBundle(16 << 10) // past every OS keychain's item limit
	if err := k.Save("staging", b); err != nil {
		t.Fatal(err)
	}
	got, err := k.Load("staging")
	if err != nil {
		t.Fatal(err)
	}
	if *got != *b {
		t.Error("the 16 KiB bundle did not round-trip")
	}
	// No token text in any file, and the file is private.
	path := filepath.Join(dir, "staging.enc")
	data, _ := os.ReadFile(path)
	for _, secret := range []string{b.AccessToken[:40], b.RefreshToken[:40], "users:read"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s holds %q in plaintext", path, secret[:10])
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o", path, fi.Mode().Perm())
	}
	// A bundle moved to another environment's file does not open.
	other := filepath.Join(dir, "production.enc")
	if err := os.WriteFile(other, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Load("production"); err == nil {
		t.Error("staging's bundle opened as production's")
	}
	// Even under the same key: the environment's name is sealed with the bundle.
	stagingKey, err := kc.Get(KeychainService, k.keyAccount("staging"))
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.Set(KeychainService, k.keyAccount("production"), stagingKey); err != nil {
		t.Fatal(err)
	}
	var moved *CorruptError
	if _, err := k.Load("production"); !errors.As(err, &moved) {
		t.Errorf("staging's bundle under staging's key, loaded as production's = %v; want *CorruptError", err)
	}
	_ = kc.Delete(KeychainService, k.keyAccount("production"))
	// A flipped byte is found.
	data[len(data)-1] ^= 1
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var corrupt *CorruptError
	if _, err := k.Load("staging"); !errors.As(err, &corrupt) {
		t.Errorf("Load of a tampered bundle = %v; want *CorruptError", err)
	}
	// Delete removes file and key.
	if err := k.Save("staging", b); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete("staging"); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Get(KeychainService, k.keyAccount("staging")); err == nil {
		t.Error("the key is still in the keychain after Delete")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("the encrypted file is still there after Delete")
	}
	if err := k.Delete("staging"); err != nil {
		t.Errorf("second Delete = %v", err)
	}
}

func TestKeyringStoreFake(t *testing.T) { testKeyringStore(t, &fakeKeychain{}) }

// TestKeyringStoreReal runs the same contract against gnome-keyring over D-Bus, then locks the
// keychain and checks the locked error. It is one test because go-keyring keeps one D-Bus
// connection per process.
func TestKeyringStoreReal(t *testing.T) {
	kc := keychaintest.Require(t)
	kc.Setenv(t)
	t.Run("contract", func(t *testing.T) { testKeyringStore(t, OSKeychain{}) })
	t.Run("moved from the old name", func(t *testing.T) { testMovesFromOldName(t, OSKeychain{}) })
	t.Run("client secret", func(t *testing.T) {
		cs := ClientSecrets{Scope: t.TempDir(), Keychain: OSKeychain{}}
		if s, err := cs.Load("staging"); s != "" || err != nil {
			t.Fatalf("Load before Save = %q, %v", s, err)
		}
		if err := cs.Save("staging", "s3cr3t"); err != nil {
			t.Fatal(err)
		}
		if s, err := cs.Load("staging"); s != "s3cr3t" || err != nil {
			t.Errorf("Load = %q, %v", s, err)
		}
		if err := cs.Delete("staging"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("locked", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "tokens")
		k := Keyring{Dir: dir, Scope: dir, Keychain: OSKeychain{}}
		if err := k.Save("staging", bigBundle(100)); err != nil {
			t.Fatal(err)
		}
		kc.Lock(t)
		_, err := k.Load("staging")
		if !errors.Is(err, ErrKeychainLocked) || !strings.Contains(err.Error(), "unlock it") {
			t.Errorf("Load from a locked keychain = %v; want the locked error", err)
		}
	})
}
