package store

import (
	"errors"
	"fmt"
	"time"
)

// ClientSecrets keeps client secrets a person typed at the login prompt in the OS keychain, so
// that later refreshes find them without asking (Pleo: secrets belong in encrypted storage).
type ClientSecrets struct {
	Scope    string
	Keychain Keychain
	Timeout  time.Duration
}

func (c ClientSecrets) account(env string) string { return "client-secret:" + env + "@" + c.Scope }

func (c ClientSecrets) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultKeychainTimeout
}

// Load returns env's stored client secret; a missing one is "" and no error.
func (c ClientSecrets) Load(env string) (string, error) {
	s, err := withTimeout(c.timeout(), fmt.Sprintf("client secret for env %s", env), func() (string, error) {
		return c.Keychain.Get(KeychainService, c.account(env))
	})
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
	_, err := withTimeout(c.timeout(), fmt.Sprintf("client secret for env %s", env), func() (struct{}, error) {
		return struct{}{}, c.Keychain.Delete(KeychainService, c.account(env))
	})
	if errors.Is(err, ErrKeychainItemNotFound) {
		return nil
	}
	return err
}
