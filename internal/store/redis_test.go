package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

func newRedisStore(t *testing.T, srv *oauthtest.Redis, key string, ttl time.Duration) *Redis {
	t.Helper()
	k, err := DecodeStoreKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: strings.TrimSuffix(strings.TrimPrefix(srv.URL(), "redis://"), "/0"), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return &Redis{Client: c, URL: srv.URL(), Key: k, LockTTL: ttl, Timeout: 5 * time.Second}
}

// TestRedisStore: a bundle round-trips under the lock, Redis holds nothing in the clear, a
// wrong key is a clear error, and a write needs the lock.
func TestRedisStore(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	key := NewStoreKey()
	r := newRedisStore(t, srv, key, time.Minute)
	b := bigBundle(4 << 10)
	if err := r.Save("staging", b); err == nil {
		t.Fatal("a save without the lock was accepted")
	}
	unlock, err := RedisLock{R: r, Timeout: time.Second}.Lock(context.Background(), "staging")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Load("staging"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load before Save = %v; want ErrNotFound", err)
	}
	if err := r.Save("staging", b); err != nil {
		t.Fatal(err)
	}
	unlock()
	got, err := r.Load("staging")
	if err != nil || *got != *b {
		t.Fatalf("Load = %v; the bundle did not round-trip", err)
	}

	// Every key and every value: no token, no scope in the clear.
	c := srv.Client()
	keys, err := c.Keys(context.Background(), "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	for _, k := range keys {
		vals, _ := c.HGetAll(context.Background(), k).Result()
		for _, v := range vals {
			for _, secret := range []string{b.AccessToken[:20], b.RefreshToken[:20], "users:read"} {
				if strings.Contains(v, secret) {
					t.Errorf("%s holds %q in the clear", k, secret[:8])
				}
			}
		}
	}

	// Another key: a clear error, not a bundle, not "not logged in".
	other := newRedisStore(t, srv, NewStoreKey(), time.Minute)
	var wrong *WrongKeyError
	if _, err := other.Load("staging"); !errors.As(err, &wrong) || !strings.Contains(err.Error(), "PLEOAUTH_STORE_KEY") {
		t.Errorf("Load with another key = %v; want *WrongKeyError naming PLEOAUTH_STORE_KEY", err)
	}
	// The same key, another environment's name: the bundle does not open there.
	if err := c.Rename(context.Background(), r.bundleKey("staging"), r.bundleKey("production")).Err(); err != nil {
		t.Fatal(err)
	}
	var corrupt *CorruptError
	if _, err := r.Load("production"); !errors.As(err, &corrupt) {
		t.Errorf("staging's bundle loaded as production's = %v; want *CorruptError", err)
	}
}

// TestRedisLockExpiredHolderCannotWrite: a holder whose lock expired (it was stopped past the
// lock's life) and was taken by another can neither pass the check before sending nor overwrite
// the newer bundle.
func TestRedisLockExpiredHolderCannotWrite(t *testing.T) {
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
	if _, err := a.Load("local"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	// A's lock expires (as when A is stopped) and B takes it.
	if err := srv.Client().Del(ctx, a.lockKey("local")).Err(); err != nil {
		t.Fatal(err)
	}
	unlockB, err := RedisLock{R: b, Timeout: time.Second}.Lock(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save("local", &Bundle{AccessToken: "fromB", RefreshToken: "rB"}); err != nil {
		t.Fatal(err)
	}
	unlockB()
	var lost *LockLostError
	if err := a.Check(); !errors.As(err, &lost) {
		t.Errorf("A's check before sending = %v; want *LockLostError", err)
	}
	if err := a.Save("local", &Bundle{AccessToken: "fromA", RefreshToken: "rA"}); !errors.As(err, &lost) {
		t.Errorf("A's write after its lock expired = %v; want *LockLostError", err)
	}
	if got, _ := b.Load("local"); got == nil || got.AccessToken != "fromB" {
		t.Errorf("the bundle is %+v; want B's", got)
	}
	// A process that does not hold the lock at all (its extension let a lost one go) is
	// refused the same way, and writes nothing.
	c := newRedisStore(t, srv, key, time.Minute)
	if err := c.Save("local", &Bundle{AccessToken: "fromC", RefreshToken: "rC"}); !errors.As(err, &lost) {
		t.Errorf("a write without the lock = %v; want *LockLostError", err)
	}
	if got, _ := b.Load("local"); got == nil || got.AccessToken != "fromB" {
		t.Errorf("the bundle is %+v after a write without the lock; want B's", got)
	}
}

// TestRedisLockWaitsExtendsAndTimesOut: one holder at a time; a holder is extended past the
// lock's life while it works; a waiter is told who holds it and gives up after its timeout.
func TestRedisLockWaitsExtendsAndTimesOut(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	// A life of 1.5 s, extended every 0.5 s: a busy machine has a second of slack.
	r := newRedisStore(t, srv, NewStoreKey(), 1500*time.Millisecond)
	ctx := context.Background()
	unlock, err := RedisLock{R: r, Timeout: time.Second}.Lock(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond) // past the lock's life: extended meanwhile
	var told string
	_, err = RedisLock{R: newRedisStore(t, srv, NewStoreKey(), time.Minute), Timeout: 1200 * time.Millisecond,
		NoticeAfter: 100 * time.Millisecond, Waiting: func(holder string) { told = holder }}.Lock(ctx, "local")
	var timeout *LockTimeoutError
	if !errors.As(err, &timeout) {
		t.Fatalf("a second lock while the first is held = %v; want *LockTimeoutError", err)
	}
	if !strings.Contains(told, "pid ") {
		t.Errorf("the waiter was told %q; want the holder's host and pid", told)
	}
	unlock()
	unlock2, err := RedisLock{R: r, Timeout: time.Second}.Lock(ctx, "local")
	if err != nil {
		t.Fatalf("the lock after its release: %v", err)
	}
	unlock2()
}

// TestRedisLogoutLeavesATombstone: a logout is told from a Redis that lost its data (where a
// machine's journal restores the login): Load answers ErrLoggedOut, which is still
// ErrNotFound; the next save removes the tombstone.
func TestRedisLogoutLeavesATombstone(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	r := newRedisStore(t, srv, NewStoreKey(), time.Minute)
	unlock, err := RedisLock{R: r, Timeout: time.Second}.Lock(context.Background(), "staging")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := r.Load("staging"); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrLoggedOut) {
		t.Fatalf("Load of a login never stored = %v; want ErrNotFound, not ErrLoggedOut", err)
	}
	if err := r.Save("staging", &Bundle{AccessToken: "a1"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete("staging"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Load("staging"); !errors.Is(err, ErrLoggedOut) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after a logout = %v; want ErrLoggedOut (an ErrNotFound)", err)
	}
	if profiles, _ := r.Profiles("staging"); len(profiles) != 0 {
		t.Errorf("a logged-out login is listed: %v", profiles)
	}
	if err := r.Save("staging", &Bundle{AccessToken: "a2"}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Load("staging"); err != nil || got.AccessToken != "a2" {
		t.Fatalf("Load after a new login = %+v, %v", got, err)
	}
	if n := srv.Client().Exists(context.Background(), "pleoauth:ended:staging").Val(); n != 0 {
		t.Error("the tombstone outlived the new login")
	}
}

// TestRedisLateReadKeepsTheHoldersVersion: serve's requests share one Redis; a request's read
// that saw the version before this process's own write, and lands after it, must not make the
// holder's next write look like a conflict.
func TestRedisLateReadKeepsTheHoldersVersion(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	r := newRedisStore(t, srv, NewStoreKey(), time.Minute)
	unlock, err := RedisLock{R: r, Timeout: time.Second}.Lock(context.Background(), "staging")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := r.Load("staging"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := r.Save("staging", &Bundle{AccessToken: "a1"}); err != nil { // the spend record
		t.Fatal(err)
	}
	r.rememberRead("staging", 0) // another goroutine's read from before that write, landing now
	if err := r.Save("staging", &Bundle{AccessToken: "a2"}); err != nil {
		t.Fatalf("the holder's next write after a late read: %v", err)
	}
}
