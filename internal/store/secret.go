package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// ClientSecrets keeps client secrets a person typed at the login prompt in the OS keychain, so
// that later refreshes find them without asking (Pleo: secrets belong in encrypted storage).
type ClientSecrets struct {
	// Scope and OldScope are as [Keyring]'s: the home's real path, and the path as given that
	// named the secrets before.
	Scope    string
	OldScope string
	Keychain Keychain
	Timeout  time.Duration
}

func (c ClientSecrets) account(env string) string { return "client-secret:" + env + "@" + c.Scope }

// oldAccount is the name env's secret had before, or "" when it had no other.
func (c ClientSecrets) oldAccount(env string) string {
	if c.OldScope == "" || c.OldScope == c.Scope {
		return ""
	}
	return "client-secret:" + env + "@" + c.OldScope
}

func (c ClientSecrets) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultKeychainTimeout
}

// Load returns env's stored client secret; a missing one is "" and no error.
func (c ClientSecrets) Load(env string) (string, error) {
	item := fmt.Sprintf("client secret for env %s", env)
	s, err := withTimeout(c.timeout(), item, func() (string, error) {
		return c.Keychain.Get(KeychainService, c.account(env))
	})
	if old := c.oldAccount(env); old != "" && errors.Is(err, ErrKeychainItemNotFound) {
		s, err = moveItem(c.Keychain, c.timeout(), item, old, c.account(env))
	}
	if errors.Is(err, ErrKeychainItemNotFound) {
		return "", nil
	}
	return s, err
}

// Save keeps env's client secret.
func (c ClientSecrets) Save(env, secret string) error {
	_, err := withTimeout(c.timeout(), fmt.Sprintf("client secret for env %s", env), func() (struct{}, error) {
		return struct{}{}, c.Keychain.Set(KeychainService, c.account(env), secret)
	})
	return err
}

// Delete forgets env's client secret; deleting nothing is not an error.
func (c ClientSecrets) Delete(env string) error {
	item := fmt.Sprintf("client secret for env %s", env)
	if old := c.oldAccount(env); old != "" {
		if err := deleteItem(c.Keychain, c.timeout(), item, old); err != nil {
			return err
		}
	}
	return deleteItem(c.Keychain, c.timeout(), item, c.account(env))
}

// FileSecret keeps a client secret that came in at login (typed at the prompt or piped with
// --client-secret-stdin) beside the login's tokens in the file store: "<login>.client-secret",
// 0600, in the tokens folder (0700), as plain text like the tokens beside it. It is the file
// store's answer to a machine without a keychain (as gh's --insecure-storage): a login whose
// secret is kept nowhere could not refresh. One file per login, so logging out of one profile
// leaves the others able to refresh.
type FileSecret struct {
	// Dir is the file store's folder.
	Dir string
}

// Path is where login's secret is kept, for messages.
func (f FileSecret) Path(login string) (string, error) {
	if err := checkEnvName(login); err != nil {
		return "", err
	}
	return filepath.Join(f.Dir, login+".client-secret"), nil
}

// Load returns login's kept secret; none kept is "" and no error.
func (f FileSecret) Load(login string) (string, error) {
	path, err := f.Path(login)
	if err != nil {
		return "", err
	}
	data, err := readPrivateFile(path)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(data), "\n"), nil
}

// Save keeps login's secret, replacing the file atomically.
func (f FileSecret) Save(login, secret string) error {
	path, err := f.Path(login)
	if err != nil {
		return err
	}
	if secret == "" || strings.ContainsAny(secret, "\r\n") {
		return fmt.Errorf("keep the client secret in %s: it must be one non-empty line", path)
	}
	return writeFileAtomic(path, []byte(secret+"\n"))
}

// Delete forgets login's secret; deleting nothing is not an error.
func (f FileSecret) Delete(login string) error {
	path, err := f.Path(login)
	if err != nil {
		return err
	}
	return removePrivate(path)
}
