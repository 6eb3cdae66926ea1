package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// Keychain is the OS credential store as github.com/zalando/go-keyring exposes it: macOS
// Keychain, Windows Credential Manager, or a Secret Service (gnome-keyring, KeePassXC) on Linux.
type Keychain interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// OSKeychain is the machine's keychain.
type OSKeychain struct{}

func (OSKeychain) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (OSKeychain) Set(service, user, secret string) error   { return keyring.Set(service, user, secret) }
func (OSKeychain) Delete(service, user string) error        { return keyring.Delete(service, user) }

// KeychainService is the service name of every item pleoauth keeps in the keychain.
const KeychainService = "pleoauth"

// DefaultKeychainTimeout bounds each keychain call: a Secret Service can hang, for example while
// it waits for an unlock prompt nobody sees.
const DefaultKeychainTimeout = 5 * time.Second

// Keychain failures, told apart so that each gets its own next step.
var (
	// ErrKeychainUnavailable: no keychain answers (no Secret Service on a headless machine, no
	// D-Bus session, or it timed out).
	ErrKeychainUnavailable = errors.New("the OS keychain is not available")
	// ErrKeychainLocked: a keychain answers but is locked and could not be unlocked.
	ErrKeychainLocked = errors.New("the OS keychain is locked")
	// ErrKeychainItemNotFound: the keychain answers but holds no such item.
	ErrKeychainItemNotFound = errors.New("the OS keychain holds no such item")
)

// KeychainError is a failed keychain call, classified by one of the errors above.
type KeychainError struct {
	Kind error  // ErrKeychainUnavailable, ErrKeychainLocked or ErrKeychainItemNotFound
	Item string // what was asked for, for the message
	Err  error  // the keychain's own error
}

func (e *KeychainError) Error() string {
	switch e.Kind {
	case ErrKeychainLocked:
		return fmt.Sprintf("the OS keychain is locked (%s); unlock it (log in to the desktop session, or run gnome-keyring-daemon --unlock) or use --store file", e.Err)
	case ErrKeychainItemNotFound:
		return fmt.Sprintf("the OS keychain holds no %s", e.Item)
	default:
		return fmt.Sprintf("the OS keychain is not available (%s); start a Secret Service such as gnome-keyring, or use --store file", e.Err)
	}
}

func (e *KeychainError) Unwrap() []error { return []error{e.Kind, e.Err} }

// classifyKeychain sorts go-keyring's errors. Only "not found" is a typed error there; on Linux
// the rest are D-Bus errors passed on as text, so the text is all there is to go by.
func classifyKeychain(item string, err error) error {
	if err == nil {
		return nil
	}
	kind := ErrKeychainUnavailable
	msg := err.Error()
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		kind = ErrKeychainItemNotFound
	case strings.Contains(msg, "failed to unlock"), strings.Contains(msg, "IsLocked"),
		strings.Contains(strings.ToLower(msg), "keychain is locked"):
		kind = ErrKeychainLocked
	}
	return &KeychainError{Kind: kind, Item: item, Err: err}
}

// withTimeout runs a keychain call, giving up after d. A call that does not return in time is
// left to finish on its own; the process is short-lived.
func withTimeout[T any](d time.Duration, item string, call func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := call()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, classifyKeychain(item, r.err)
	case <-time.After(d):
		var zero T
		return zero, &KeychainError{Kind: ErrKeychainUnavailable, Item: item,
			Err: fmt.Errorf("no answer within %s; is it waiting for an unlock prompt?", d)}
	}
}

// ProbeKeychain asks the keychain for an item that does not exist, to learn whether it answers.
func ProbeKeychain(k Keychain) error {
	return Keyring{Keychain: k, Timeout: 2 * time.Second}.probe()
}
