package store

import (
	"github.com/pleoauth/pleoauth/internal/privatefile"

	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Keyring keeps each environment's bundle encrypted with AES-256-GCM in a 0600 file under Dir,
// with the 32-byte key in the OS keychain (envelope encryption).
//
// Why not the bundle itself in the keychain: Windows Credential Manager refuses secrets over
// 2,560 bytes and go-keyring on macOS fails around 3 KB, while Pleo's tokens are opaque and
// may grow. The key is small and fixed; the file can hold any bundle up to [MaxBundleSize]; a
// write is an atomic rename, so a crash leaves the old or the new bundle; and a read costs one
// keychain lookup. A copied file is useless without the key.
type Keyring struct {
	// Dir holds one encrypted file per environment.
	Dir string
	// Scope keeps the keys of different PLEOAUTH_HOME folders apart in the one keychain: the
	// folder's real path, symbolic links resolved. OldScope is the path as given, which named
	// the keys before; a key found only under it is moved to Scope (see moveItem).
	Scope    string
	OldScope string
	Keychain Keychain
	// Timeout bounds each keychain call; zero means [DefaultKeychainTimeout].
	Timeout time.Duration
}

// MaxBundleSize is the largest encrypted bundle read back.
const MaxBundleSize = 1 << 20

// fileMagic starts every encrypted bundle; the version lets the format change later.
const fileMagic = "pleoauth-bundle-v1\n"

// Name identifies the backend in messages and status output.
func (k Keyring) Name() string { return "keyring" }

func (k Keyring) timeout() time.Duration {
	if k.Timeout > 0 {
		return k.Timeout
	}
	return DefaultKeychainTimeout
}

func (k Keyring) path(env string) (string, error) {
	if err := checkEnvName(env); err != nil {
		return "", err
	}
	return filepath.Join(k.Dir, env+".enc"), nil
}

// keyAccount names the keychain item holding env's key.
func (k Keyring) keyAccount(env string) string { return "bundle-key:" + env + "@" + k.Scope }

// oldKeyAccount is the name env's key had before, or "" when it had no other.
func (k Keyring) oldKeyAccount(env string) string {
	if k.OldScope == "" || k.OldScope == k.Scope {
		return ""
	}
	return "bundle-key:" + env + "@" + k.OldScope
}

func keyItem(env string) string { return fmt.Sprintf("key for the tokens of env %s", env) }

// getKey returns env's key, moving it from its old name when only that holds it.
func (k Keyring) getKey(env string) ([]byte, error) {
	s, err := withTimeout(k.timeout(), keyItem(env), func() (string, error) { return k.Keychain.Get(KeychainService, k.keyAccount(env)) })
	if old := k.oldKeyAccount(env); old != "" && errors.Is(err, ErrKeychainItemNotFound) {
		s, err = moveItem(k.Keychain, k.timeout(), keyItem(env), old, k.keyAccount(env))
	}
	if err != nil {
		return nil, err
	}
	return decodeKey(env, s)
}

func decodeKey(env, s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("the keychain's %s is malformed", keyItem(env))
	}
	return key, nil
}

// openWithOldKey opens sealed with env's key under its old name, when there is one and it opens
// it, and moves that key over the one under the new name: a login made through the other path
// of a symbolic link left its file sealed under the old name's key.
func (k Keyring) openWithOldKey(env string, sealed []byte) ([]byte, bool) {
	old := k.oldKeyAccount(env)
	if old == "" {
		return nil, false
	}
	s, err := withTimeout(k.timeout(), keyItem(env), func() (string, error) { return k.Keychain.Get(KeychainService, old) })
	if err != nil {
		return nil, false
	}
	key, err := decodeKey(env, s)
	if err != nil {
		return nil, false
	}
	plain, err := unseal(key, sealed, env)
	if err != nil {
		return nil, false
	}
	if _, err := moveItem(k.Keychain, k.timeout(), keyItem(env), old, k.keyAccount(env)); err != nil {
		return nil, false
	}
	return plain, true
}

// keyOrNew returns env's key, creating it in the keychain on first use.
func (k Keyring) keyOrNew(env string) ([]byte, error) {
	key, err := k.getKey(env)
	if errors.Is(err, ErrKeychainItemNotFound) {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		encoded := base64.StdEncoding.EncodeToString(key)
		_, err = withTimeout(k.timeout(), "key for the tokens of env "+env, func() (struct{}, error) {
			return struct{}{}, k.Keychain.Set(KeychainService, k.keyAccount(env), encoded)
		})
	}
	return key, err
}

// JournalKey seals env's journal entries under the key of its bundles, read (or made) now, so
// that an answer can still be journalled if the keychain stops answering before it arrives.
func (k Keyring) JournalKey(env string) (JournalKey, error) {
	if err := checkEnvName(env); err != nil {
		return nil, err
	}
	key, err := k.keyOrNew(env)
	if err != nil {
		return nil, err
	}
	return sealedJournal{key: key, aad: journalMagic + env}, nil
}

// Check reports whether the store can keep tokens: the keychain answers and the folder is usable.
func (k Keyring) Check() error {
	if err := k.probe(); err != nil {
		return err
	}
	return probeWrite(k.Dir)
}

// probe asks the keychain for an item that does not exist, to learn whether it answers.
func (k Keyring) probe() error {
	_, err := withTimeout(k.timeout(), "probe item", func() (string, error) {
		return k.Keychain.Get(KeychainService, "probe")
	})
	if errors.Is(err, ErrKeychainItemNotFound) {
		return nil
	}
	return err
}

// Load returns env's bundle, or [ErrNotFound].
func (k Keyring) Load(env string) (*Bundle, error) {
	path, err := k.path(env)
	if err != nil {
		return nil, err
	}
	sealed, err := readPrivateFile(path)
	if err != nil {
		return nil, err
	}
	key, err := k.getKey(env)
	if err != nil {
		return nil, err
	}
	plain, err := unseal(key, sealed, env)
	if err != nil {
		var moved bool
		if plain, moved = k.openWithOldKey(env, sealed); !moved {
			return nil, &CorruptError{Path: path}
		}
	}
	return decodeBundle(path, plain)
}

// Save encrypts b and replaces env's file atomically, creating the key on first use.
func (k Keyring) Save(env string, b *Bundle) error {
	path, err := k.path(env)
	if err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	plain, err := json.Marshal(b)
	if err != nil {
		return err
	}
	key, err := k.keyOrNew(env)
	if err != nil {
		return err
	}
	sealed, err := seal(key, plain, env)
	if err != nil {
		return err
	}
	if len(sealed) > MaxBundleSize {
		return fmt.Errorf("the tokens of env %s are %d bytes, more than the %d pleoauth keeps", env, len(sealed), MaxBundleSize)
	}
	return writeFileAtomic(path, sealed)
}

// Pending reports a save that a crash interrupted; [Keyring.Recover] finishes it.
func (k Keyring) Pending(env string) bool {
	path, err := k.path(env)
	return err == nil && len(privatefile.Leftovers(path)) > 0
}

// Recover finishes a save of env's bundle that a crash interrupted, if there is one: a
// leftover counts only if it opens with env's key; the caller holds the login's lock.
func (k Keyring) Recover(env string) (bool, error) {
	path, err := k.path(env)
	if err != nil || len(privatefile.Leftovers(path)) == 0 {
		return false, err
	}
	key, err := k.getKey(env)
	if err != nil {
		return false, err
	}
	return rollForward(path, func(sealed []byte) (*Bundle, error) {
		plain, err := unseal(key, sealed, env)
		if err != nil {
			return nil, &CorruptError{Path: path}
		}
		return decodeBundle(path, plain)
	}, func(b *Bundle) ([]byte, error) {
		plain, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		return seal(key, plain, env)
	})
}

// Delete removes env's encrypted file, any save a crash interrupted, and its key; deleting
// nothing is not an error.
func (k Keyring) Delete(env string) error {
	path, err := k.path(env)
	if err != nil {
		return err
	}
	removeLeftovers(path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", path, err)
	}
	if old := k.oldKeyAccount(env); old != "" {
		if err := deleteItem(k.Keychain, k.timeout(), keyItem(env), old); err != nil {
			return err
		}
	}
	return deleteItem(k.Keychain, k.timeout(), keyItem(env), k.keyAccount(env))
}

// seal encrypts plain with AES-256-GCM; the environment's name is authenticated with it, so a
// bundle copied to another environment's file does not open.
func seal(key, plain []byte, env string) ([]byte, error) {
	return sealWith(key, plain, fileMagic, fileMagic+env)
}

func unseal(key, sealed []byte, env string) ([]byte, error) {
	return unsealWith(key, sealed, fileMagic, fileMagic+env)
}

// sealWith encrypts plain with AES-256-GCM under key: magic, a random nonce, the ciphertext.
// aad is authenticated with it and must be given again to open it.
func sealWith(key, plain []byte, magic, aad string) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append([]byte(magic), nonce...)
	return aead.Seal(out, nonce, plain, []byte(aad)), nil
}

func unsealWith(key, sealed []byte, magic, aad string) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < len(magic)+aead.NonceSize() || string(sealed[:len(magic)]) != magic {
		return nil, errors.New("not a sealed pleoauth bundle")
	}
	rest := sealed[len(magic):]
	return aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], []byte(aad))
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
