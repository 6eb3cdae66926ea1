package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBundleSizeBound: a stored bundle of up to MaxBundleSize bytes is read back whole, and one
// byte more is refused as corrupt rather than read — in the plain file and in the sealed file
// alike, whose Save refuses to write what Load would refuse to read.
func TestBundleSizeBound(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		dir := privateDir(t)
		f := File{Dir: dir}
		for _, size := range []int{MaxBundleSize, MaxBundleSize + 1} {
			// Padding after the object is whitespace JSON allows: the file is exactly size bytes.
			data := `{"access_token":"a"}`
			data += strings.Repeat(" ", size-len(data))
			if err := os.WriteFile(filepath.Join(dir, "local.json"), []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := f.Load("local")
			var corrupt *CorruptError
			if fits := size <= MaxBundleSize; fits != (err == nil) || !fits && !errors.As(err, &corrupt) {
				t.Errorf("Load of a %d-byte bundle = %v; want it read: %v", size, err, fits)
			}
		}
	})
	t.Run("keyring", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "tokens")
		k := Keyring{Dir: dir, Scope: dir, Keychain: &fakeKeychain{}}
		// The sealed file is the magic, a 12-byte nonce, the JSON and a 16-byte tag.
		overhead := len(fileMagic) + 12 + 16
		for _, size := range []int{MaxBundleSize, MaxBundleSize + 1} {
			b := &Bundle{}
			plain, _ := json.Marshal(b)
			b.AccessToken = strings.Repeat("a", size-overhead-len(plain))
			err := k.Save("local", b)
			if fits := size <= MaxBundleSize; fits != (err == nil) {
				t.Errorf("Save of a bundle sealed in %d bytes = %v; want it saved: %v", size, err, fits)
			}
			if err != nil {
				continue
			}
			if fi, err := os.Stat(filepath.Join(dir, "local.enc")); err != nil || fi.Size() != int64(size) {
				t.Fatalf("the sealed file: %v, %v; want %d bytes", fi, err, size)
			}
			if got, err := k.Load("local"); err != nil || got.AccessToken != b.AccessToken {
				t.Errorf("Load of a bundle sealed in %d bytes = %v; want it read back", size, err)
			}
		}
	})
}

// TestSealedFileTooShort: a sealed file cut short (its magic and less than a nonce, or its
// nonce and no tag) is corrupt, not a crash.
func TestSealedFileTooShort(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	k := Keyring{Dir: dir, Scope: dir, Keychain: &fakeKeychain{}}
	if err := k.Save("local", &Bundle{AccessToken: "a"}); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(filepath.Join(dir, "local.enc"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, len(fileMagic) - 1, len(fileMagic), len(fileMagic) + 1, len(fileMagic) + 11, len(fileMagic) + 12, len(fileMagic) + 12 + 15} {
		if err := os.WriteFile(filepath.Join(dir, "local.enc"), whole[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		var corrupt *CorruptError
		if _, err := k.Load("local"); !errors.As(err, &corrupt) {
			t.Errorf("Load of the sealed file cut to %d bytes = %v; want *CorruptError", n, err)
		}
	}
}
