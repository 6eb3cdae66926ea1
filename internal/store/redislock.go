package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pleoauth/pleoauth/internal/backoff"
	"github.com/pleoauth/pleoauth/internal/failure"
)

// LockTimeoutError reports a lock that another process held past the wait's bound.
type LockTimeoutError struct {
	// Lock names the lock: a file, or a Redis key.
	Lock   string
	Waited time.Duration
	// Holder says who held it, when known ("pid 123", "host-a pid 123").
	Holder string
}

func (e *LockTimeoutError) Error() string {
	holder := "another pleoauth process"
	if e.Holder != "" {
		holder += " (" + e.Holder + ")"
	}
	return fmt.Sprintf("%s held the lock %s for more than %s", holder, e.Lock, e.Waited)
}

// RedisLock serialises refreshes of a login across machines (Pleo: "use a distributed lock
// (e.g., Redis lock)" for applications with several instances): SET key token NX PX ttl; the
// holder extends it while it works; only the holder releases it (compare-and-delete).
type RedisLock struct {
	R *Redis
	// Timeout bounds the wait.
	Timeout time.Duration
	// Waiting, when set, is called once if the lock is still held after NoticeAfter (zero: one
	// second), with who holds it.
	Waiting     func(holder string)
	NoticeAfter time.Duration
	// Failed, when set, is told of a release or an extension that failed (Redis did not
	// answer, or the lock is held by another): the unlock function returns nothing, and a
	// failure there must not pass unseen.
	Failed func(error)
}

// The lock's scripts, made into redis.Script when used (see casScript).
const (
	releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`
	extendScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`
)

// Lock takes env's lock, waiting with exponential backoff and jitter until it is free or the
// timeout passes, and returns the function that releases it.
func (l RedisLock) Lock(ctx context.Context, env string) (func(), error) {
	r := l.R
	key := r.lockKey(env)
	ttl := r.LockTTL
	if ttl <= 0 {
		ttl = 2 * time.Minute
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	notice := l.NoticeAfter
	if notice <= 0 {
		notice = time.Second
	}
	token := newLockToken()
	start := time.Now()
	wait := 5 * time.Millisecond
	told := false
	for {
		callCtx, cancel := r.ctx()
		ok, err := r.Client.SetNX(callCtx, key, token, ttl).Result()
		cancel()
		if err != nil {
			return nil, r.unreachable(err)
		}
		if ok {
			break
		}
		waited := time.Since(start)
		if waited >= timeout {
			return nil, failure.Wrap(failure.Temporary, &LockTimeoutError{Lock: r.URL + " key " + key, Waited: timeout, Holder: l.holder(key)})
		}
		if !told && waited >= notice && l.Waiting != nil {
			told = true
			l.Waiting(l.holder(key))
		}
		// Exponential backoff with full jitter, capped, so a fleet of waiters does not poll in step.
		sleep := time.Duration(mrand.Int64N(int64(wait))) + time.Millisecond
		wait = min(wait*2, 250*time.Millisecond)
		if err := backoff.Sleep(ctx, min(sleep, timeout-waited)); err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	if r.held == nil {
		r.held = map[string]string{}
	}
	r.held[env] = token
	delete(r.versions, env) // the first read under this hold is the one a write compares to
	r.mu.Unlock()

	// Extended while held, so a slow refresh never outlives it; a stopped process stops
	// extending, and the lock expires for the others.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := r.extendLock(key, token, ttl); err != nil && l.Failed != nil {
					l.Failed(err)
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		r.mu.Lock()
		delete(r.held, env)
		r.mu.Unlock()
		if err := r.releaseLock(key, token); err != nil && l.Failed != nil {
			l.Failed(err)
		}
	}, nil
}

// releaseLock deletes key if token holds it; a lock held by another (this one expired and was
// taken) is left alone and answered with [LockLostError].
func (r *Redis) releaseLock(key, token string) error {
	ctx, cancel := r.ctx()
	defer cancel()
	n, err := redis.NewScript(releaseScript).Run(ctx, r.Client, []string{key}, token).Int64()
	if err != nil {
		return r.unreachable(err)
	}
	if n == 0 {
		return &LockLostError{Key: key}
	}
	return nil
}

// extendLock gives key another ttl if token holds it; a lock held by another is left alone
// and answered with [LockLostError].
func (r *Redis) extendLock(key, token string, ttl time.Duration) error {
	ctx, cancel := r.ctx()
	defer cancel()
	n, err := redis.NewScript(extendScript).Run(ctx, r.Client, []string{key}, token, ttl.Milliseconds()).Int64()
	if err != nil {
		return r.unreachable(err)
	}
	if n == 0 {
		return &LockLostError{Key: key}
	}
	return nil
}

// holder reads who holds key, from the token its holder wrote: "host pid N".
func (l RedisLock) holder(key string) string {
	ctx, cancel := l.R.ctx()
	defer cancel()
	v, err := l.R.Client.Get(ctx, key).Result()
	if err != nil {
		return ""
	}
	if _, who, ok := strings.Cut(v, " "); ok {
		return who
	}
	return ""
}

// newLockToken is random, and names its holder for a waiter's message.
func newLockToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	return hex.EncodeToString(b) + " " + host + " pid " + fmt.Sprint(os.Getpid())
}
