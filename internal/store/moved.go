package store

import (
	"errors"
	"time"
)

// Keychain items were once named after PLEOAUTH_HOME as given; they are now named after the
// folder's real path (config.Config.RealHome), so that a home reached through a symbolic link
// is the same login as the folder it points to. An item found only under the old name is moved
// to the new one the first time it is read: nothing needs logging in again.

// moveItem moves the keychain item from the account old to the account new and returns its
// secret, or [ErrKeychainItemNotFound] when old holds none. A copy already moved by another
// process is not an error.
func moveItem(kc Keychain, timeout time.Duration, item, old, new string) (string, error) {
	secret, err := withTimeout(timeout, item, func() (string, error) { return kc.Get(KeychainService, old) })
	if err != nil {
		return "", err
	}
	if _, err := withTimeout(timeout, item, func() (struct{}, error) {
		return struct{}{}, kc.Set(KeychainService, new, secret)
	}); err != nil {
		return "", err
	}
	if err := deleteItem(kc, timeout, item, old); err != nil {
		return "", err
	}
	return secret, nil
}

// deleteItem removes the keychain item of account; a missing one is not an error.
func deleteItem(kc Keychain, timeout time.Duration, item, account string) error {
	_, err := withTimeout(timeout, item, func() (struct{}, error) {
		return struct{}{}, kc.Delete(KeychainService, account)
	})
	if errors.Is(err, ErrKeychainItemNotFound) {
		return nil
	}
	return err
}
