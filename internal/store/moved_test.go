package store

import (
	"errors"
	"path/filepath"
	"testing"
)

// testMovesFromOldName: keys and client secrets named after the home's path as given (before
// it was resolved) are found, moved to the real path's name and opened; a file sealed under the
// old name's key while the new name holds another key opens too; Delete removes both names.
func testMovesFromOldName(t *testing.T, kc Keychain) {
	home := t.TempDir()
	real, old := home+"/real", home+"/link"
	dir := filepath.Join(home, "tokens")
	get := func(account string) (string, error) {
		return withTimeout(DefaultKeychainTimeout, account, func() (string, error) { return kc.Get(KeychainService, account) })
	}

	t.Run("key only under the old name", func(t *testing.T) {
		before := Keyring{Dir: dir, Scope: old, Keychain: kc}
		want := bigBundle(200)
		if err := before.Save("staging", want); err != nil {
			t.Fatal(err)
		}
		now := Keyring{Dir: dir, Scope: real, OldScope: old, Keychain: kc}
		got, err := now.Load("staging")
		if err != nil || got.AccessToken != want.AccessToken {
			t.Fatalf("Load through the real path = %v, %v; want the bundle saved under the old name", got, err)
		}
		if _, err := get(now.keyAccount("staging")); err != nil {
			t.Errorf("the key under the real path's name: %v; want it moved there", err)
		}
		if _, err := get(before.keyAccount("staging")); !errors.Is(err, ErrKeychainItemNotFound) {
			t.Errorf("the key under the old name: %v; want it gone", err)
		}
		// And again, now under the new name alone.
		if got, err := now.Load("staging"); err != nil || got.AccessToken != want.AccessToken {
			t.Errorf("Load after the move = %v, %v", got, err)
		}
		if err := now.Delete("staging"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("file sealed under the old name's key, another key under the new name", func(t *testing.T) {
		first := Keyring{Dir: dir, Scope: real, Keychain: kc}
		if err := first.Save("staging", bigBundle(100)); err != nil {
			t.Fatal(err)
		}
		// A login through the link made a key of its own and sealed the file under it.
		throughLink := Keyring{Dir: dir, Scope: old, Keychain: kc}
		want := bigBundle(300)
		if err := throughLink.Save("staging", want); err != nil {
			t.Fatal(err)
		}
		now := Keyring{Dir: dir, Scope: real, OldScope: old, Keychain: kc}
		if got, err := now.Load("staging"); err != nil || got.AccessToken != want.AccessToken {
			t.Fatalf("Load = %v, %v; want the file the login through the link wrote", got, err)
		}
		if _, err := get(throughLink.keyAccount("staging")); !errors.Is(err, ErrKeychainItemNotFound) {
			t.Errorf("the key under the old name: %v; want it moved", err)
		}
		if got, err := (Keyring{Dir: dir, Scope: real, Keychain: kc}).Load("staging"); err != nil || got.AccessToken != want.AccessToken {
			t.Errorf("Load under the new name alone = %v, %v", got, err)
		}
		// Delete removes the key under both names.
		if err := throughLink.Save("staging", want); err != nil {
			t.Fatal(err)
		}
		if err := now.Delete("staging"); err != nil {
			t.Fatal(err)
		}
		for _, account := range []string{now.keyAccount("staging"), throughLink.keyAccount("staging")} {
			if _, err := get(account); !errors.Is(err, ErrKeychainItemNotFound) {
				t.Errorf("%s after Delete: %v; want it gone", account, err)
			}
		}
	})

	t.Run("client secret only under the old name", func(t *testing.T) {
		if err := (ClientSecrets{Scope: old, Keychain: kc}).Save("staging", "s3cr3t"); err != nil {
			t.Fatal(err)
		}
		now := ClientSecrets{Scope: real, OldScope: old, Keychain: kc}
		if s, err := now.Load("staging"); s != "s3cr3t" || err != nil {
			t.Fatalf("Load = %q, %v; want the secret kept under the old name", s, err)
		}
		if s, err := (ClientSecrets{Scope: real, Keychain: kc}).Load("staging"); s != "s3cr3t" || err != nil {
			t.Errorf("Load under the new name alone = %q, %v; want it moved there", s, err)
		}
		if s, _ := (ClientSecrets{Scope: old, Keychain: kc}).Load("staging"); s != "" {
			t.Error("the secret is still under the old name")
		}
		if err := now.Delete("staging"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestKeychainItemsMoveFromTheOldNameFake(t *testing.T) { testMovesFromOldName(t, &fakeKeychain{}) }
