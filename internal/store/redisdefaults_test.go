package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestRedisDefaults: a Redis store and lock left at their zero settings work with the
// documented defaults — calls bounded at 5 s, a lock that lives 2 minutes unless extended, a
// wait of 2 minutes (so a context ends it first), a notice after a second — rather than
// failing at once or locking forever.
func TestRedisDefaults(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	r := newRedisStore(t, srv, NewStoreKey(), 0)
	r.Timeout = 0
	ctx := context.Background()
	unlock, err := RedisLock{R: r}.Lock(ctx, "local")
	if err != nil {
		t.Fatalf("Lock with the default settings: %v", err)
	}
	defer unlock()
	ttl := srv.Client().PTTL(ctx, r.lockKey("local")).Val()
	if ttl <= time.Minute || ttl > 2*time.Minute {
		t.Errorf("the lock lives %s; want the default, 2 minutes", ttl)
	}
	if err := r.Save("local", &Bundle{AccessToken: "a1"}); err != nil {
		t.Fatalf("Save with the default call timeout: %v", err)
	}
	if got, err := r.Load("local"); err != nil || got.AccessToken != "a1" {
		t.Fatalf("Load with the default call timeout = %+v, %v", got, err)
	}

	waitCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	told := false
	other := newRedisStore(t, srv, NewStoreKey(), time.Minute)
	_, err = RedisLock{R: other, Waiting: func(string) { told = true }}.Lock(waitCtx, "local")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a wait with the default timeout, ended by its context = %v; want the context's end", err)
	}
	if told {
		t.Error("a waiter was told of a wait shorter than the default notice, a second")
	}
}

// TestRedisCheckWhileAnotherHolds: the check before a refresh is sent passes for the lock's
// holder, and fails for a process whose lock expired and is now held by another.
func TestRedisCheckWhileAnotherHolds(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	key := NewStoreKey()
	a := newRedisStore(t, srv, key, time.Minute)
	b := newRedisStore(t, srv, key, time.Minute)
	ctx := context.Background()
	unlockA, err := RedisLock{R: a, Timeout: time.Second}.Lock(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	defer unlockA()
	if err := a.Check(); err != nil {
		t.Fatalf("the holder's check = %v; want nil", err)
	}
	if err := srv.Client().Del(ctx, a.lockKey("local")).Err(); err != nil { // A's lock expires
		t.Fatal(err)
	}
	unlockB, err := RedisLock{R: b, Timeout: time.Second}.Lock(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	defer unlockB()
	var lost *LockLostError
	if err := a.Check(); !errors.As(err, &lost) {
		t.Errorf("A's check while B holds the lock = %v; want *LockLostError", err)
	}
	if err := b.Check(); err != nil {
		t.Errorf("B's check = %v; want nil", err)
	}
}

// TestRedisLoginWritesWithoutARead: a login or a logout writes under the lock without having
// read the bundle first; its write goes over the version stored then, not over "none".
func TestRedisLoginWritesWithoutARead(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	key := NewStoreKey()
	first := newRedisStore(t, srv, key, time.Minute)
	ctx := context.Background()
	unlock, err := RedisLock{R: first, Timeout: time.Second}.Lock(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	for _, access := range []string{"a1", "a2"} { // version 2
		if err := first.Save("local", &Bundle{AccessToken: access}); err != nil {
			t.Fatal(err)
		}
	}
	unlock()
	login := newRedisStore(t, srv, key, time.Minute)
	unlock, err = RedisLock{R: login, Timeout: time.Second}.Lock(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := login.Save("local", &Bundle{AccessToken: "b1"}); err != nil {
		t.Fatalf("a login's save over a stored bundle it did not read = %v; want it written", err)
	}
	if got, err := first.Load("local"); err != nil || got.AccessToken != "b1" {
		t.Errorf("the bundle = %+v, %v; want the login's", got, err)
	}
	if err := login.Delete("local"); err != nil {
		t.Fatalf("the logout after it = %v", err)
	}
	if _, err := first.Load("local"); !errors.Is(err, ErrLoggedOut) {
		t.Errorf("Load after the logout = %v; want ErrLoggedOut", err)
	}
}

// TestRedisProfiles: Redis lists the profiles an environment has a login for — the default as
// "" — and nothing of another environment whose name starts the same.
func TestRedisProfiles(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	r := newRedisStore(t, srv, NewStoreKey(), time.Minute)
	for _, login := range []string{"staging", "staging@acme", "stagingx", "production@acme"} {
		unlock, err := RedisLock{R: r, Timeout: time.Second}.Lock(context.Background(), login)
		if err != nil {
			t.Fatal(err)
		}
		err = r.Save(login, &Bundle{AccessToken: "a"})
		unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.Profiles("staging")
	if err != nil || !slices.Equal(got, []string{"", "acme"}) {
		t.Errorf("Profiles = %q, %v; want the default and acme", got, err)
	}
}

// TestRedisKeysUnderThePrefix: every key pleoauth writes is under its prefix — "pleoauth:" by
// default, redis_prefix when set — so an ACL (~<prefix>*) can fence it and two fleets can
// share a server.
func TestRedisKeysUnderThePrefix(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	ctx := context.Background()
	for _, prefix := range []string{"", "team-a:"} {
		r := newRedisStore(t, srv, NewStoreKey(), time.Minute)
		r.Prefix = prefix
		unlock, err := RedisLock{R: r, Timeout: time.Second}.Lock(ctx, "local")
		if err != nil {
			t.Fatal(err)
		}
		err = r.Save("local", &Bundle{AccessToken: "a"})
		unlock()
		if err != nil {
			t.Fatal(err)
		}
		want := prefix + "bundle:local"
		if prefix == "" {
			want = "pleoauth:bundle:local"
		}
		if n := srv.Client().Exists(ctx, want).Val(); n != 1 {
			t.Errorf("prefix %q: no key %s", prefix, want)
		}
	}
	keys := srv.Client().Keys(ctx, "*").Val()
	for _, k := range keys {
		if !strings.HasPrefix(k, "pleoauth:") && !strings.HasPrefix(k, "team-a:") {
			t.Errorf("key %s is under no prefix", k)
		}
	}
}
