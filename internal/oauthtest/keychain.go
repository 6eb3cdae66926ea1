package oauthtest

import (
	"sync"

	"github.com/zalando/go-keyring"
)

// Keychain is an OS keychain in memory, with go-keyring's errors. Err, when set, is returned
// by every call; Block, when set, makes every call hang until it is closed.
type Keychain struct {
	mu    sync.Mutex
	items map[string]string
	Err   error
	Block chan struct{}
}

func (k *Keychain) wait() error {
	if k.Block != nil {
		<-k.Block
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.Err
}

// Fail makes every later call fail with err (nil: succeed again).
func (k *Keychain) Fail(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.Err = err
}

func (k *Keychain) Get(service, user string) (string, error) {
	if err := k.wait(); err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.items[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (k *Keychain) Set(service, user, secret string) error {
	if err := k.wait(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.items == nil {
		k.items = map[string]string{}
	}
	k.items[service+"/"+user] = secret
	return nil
}

func (k *Keychain) Delete(service, user string) error {
	if err := k.wait(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.items[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(k.items, service+"/"+user)
	return nil
}
