package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestRedisLockOnlyTheHolderReleasesOrExtends: a release or an extension by a process whose
// token is not the lock's (its own lock expired and another took it) leaves the holder's key
// as it was and says so; the holder's own release deletes the key and its extension lengthens
// it.
func TestRedisLockOnlyTheHolderReleasesOrExtends(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	r := newRedisStore(t, srv, NewStoreKey(), time.Minute)
	ctx := context.Background()
	c := srv.Client()
	const holder = "holder-token host-a pid 1"
	tests := []struct {
		name  string
		token string
		op    func(key, token string) error
		// wantHeld: the holder's key is still there with its life unchanged (at most a
		// minute); otherwise it is gone (release) or lives past the minute (extend).
		wantHeld bool
	}{
		{"release by another", "other-token host-b pid 2", r.releaseLock, true},
		{"extend by another", "other-token host-b pid 2", func(k, tok string) error { return r.extendLock(k, tok, time.Hour) }, true},
		{"release by the holder", holder, r.releaseLock, false},
		{"extend by the holder", holder, func(k, tok string) error { return r.extendLock(k, tok, time.Hour) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := r.lockKey("local")
			if err := c.Set(ctx, key, holder, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			err := tt.op(key, tt.token)
			var lost *LockLostError
			if tt.wantHeld != errors.As(err, &lost) {
				t.Errorf("%s = %v; want *LockLostError: %v", tt.name, err, tt.wantHeld)
			}
			if !tt.wantHeld && err != nil {
				t.Errorf("%s = %v; want nil", tt.name, err)
			}
			got, _ := c.Get(ctx, key).Result()
			ttl := c.PTTL(ctx, key).Val()
			switch {
			case tt.wantHeld && (got != holder || ttl > time.Minute):
				t.Errorf("after %s the lock is %q for %s; want the holder's %q for at most a minute", tt.name, got, ttl, holder)
			case !tt.wantHeld && tt.name == "release by the holder" && got != "":
				t.Errorf("after %s the lock is still %q", tt.name, got)
			case !tt.wantHeld && tt.name == "extend by the holder" && (got != holder || ttl <= time.Minute):
				t.Errorf("after %s the lock is %q for %s; want the holder's for about an hour", tt.name, got, ttl)
			}
		})
	}
}

// TestRedisLockUnlockAfterLossTellsAndKeepsTheNewHolder: a holder whose lock expired and was
// taken by another, unlocking, leaves the new holder's lock and reports the loss to Failed.
func TestRedisLockUnlockAfterLossTellsAndKeepsTheNewHolder(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	r := newRedisStore(t, srv, NewStoreKey(), time.Minute)
	ctx := context.Background()
	var failed error
	unlock, err := RedisLock{R: r, Timeout: time.Second, Failed: func(err error) { failed = err }}.Lock(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	const other = "other-token host-b pid 2"
	if err := srv.Client().Set(ctx, r.lockKey("local"), other, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	unlock()
	var lost *LockLostError
	if !errors.As(failed, &lost) {
		t.Errorf("Failed was told %v; want *LockLostError", failed)
	}
	if got, _ := srv.Client().Get(ctx, r.lockKey("local")).Result(); got != other {
		t.Errorf("the lock after the old holder's unlock is %q; want the new holder's", got)
	}
}

// TestRedisStaleSaveIsRefused: two writers under one hold (serve's requests, or a holder and a
// late duplicate of itself) read version N; the first saves N+1; the second's save, over the N
// it read, is refused and the newer bundle stays.
func TestRedisStaleSaveIsRefused(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	key := NewStoreKey()
	a := newRedisStore(t, srv, key, time.Minute)
	b := newRedisStore(t, srv, key, time.Minute)
	unlock, err := RedisLock{R: a, Timeout: time.Second}.Lock(context.Background(), "local")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := a.Save("local", &Bundle{AccessToken: "v1", RefreshToken: "r1"}); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	b.held = map[string]string{"local": a.held["local"]}
	delete(a.versions, "local")
	a.mu.Unlock()
	for _, w := range []*Redis{a, b} {
		if got, err := w.Load("local"); err != nil || got.AccessToken != "v1" {
			t.Fatalf("Load = %+v, %v; want v1", got, err)
		}
	}
	if err := b.Save("local", &Bundle{AccessToken: "v2", RefreshToken: "r2"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Save("local", &Bundle{AccessToken: "stale", RefreshToken: "rs"}); err == nil || !strings.Contains(err.Error(), "changed since they were read") {
		t.Errorf("a save over a version read before a newer save = %v; want refused as changed since read", err)
	}
	if got, err := b.Load("local"); err != nil || got.AccessToken != "v2" {
		t.Errorf("the bundle is %+v, %v; want the newer save, v2", got, err)
	}
}

// TestRedisLockExtensionAfterLossTellsAndKeepsTheNewHolder: a holder whose lock was taken by
// another while it worked (it expired) reports the loss to Failed at its next extension, and
// that extension leaves the new holder's lock as it was.
func TestRedisLockExtensionAfterLossTellsAndKeepsTheNewHolder(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	// Extended every 100 ms: the test waits for one extension, not for a life to pass.
	r := newRedisStore(t, srv, NewStoreKey(), 300*time.Millisecond)
	ctx := context.Background()
	failed := make(chan error, 100)
	unlock, err := RedisLock{R: r, Timeout: time.Second, Failed: func(err error) { failed <- err }}.Lock(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	const other = "other-token host-b pid 2"
	if err := srv.Client().Set(ctx, r.lockKey("local"), other, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		var lost *LockLostError
		if !errors.As(err, &lost) {
			t.Errorf("Failed was told %v; want *LockLostError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lost lock's extension was not reported to Failed")
	}
	unlock()
	if got, _ := srv.Client().Get(ctx, r.lockKey("local")).Result(); got != other {
		t.Errorf("the lock after the old holder's extension and unlock is %q; want the new holder's", got)
	}
	if ttl := srv.Client().PTTL(ctx, r.lockKey("local")).Val(); ttl <= time.Minute {
		t.Errorf("the new holder's lock lives %s; want its own hour, not the old holder's extension", ttl)
	}
}
