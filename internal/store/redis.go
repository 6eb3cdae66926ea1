package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// Redis keeps each login's bundle in a Redis server shared by many machines, sealed on the
// client with AES-256-GCM under a key from the environment (PLEOAUTH_STORE_KEY), so Redis, its
// dumps and its replicas never hold a usable token. Its lock ([Redis.Lock]) serialises
// refreshes across machines, and a bundle is written only by the holder of that lock and only
// over the version it read (one compare-and-set script), so a holder whose lock expired can
// never overwrite a newer bundle.
//
// A Redis is for one process: it remembers the version it read and the lock it holds.
type Redis struct {
	Client *redis.Client
	// URL names the server in messages, without a password.
	URL string
	// PasswordFrom names, for messages, where the password was set (PLEOAUTH_REDIS_PASSWORD,
	// or the URL in PLEOAUTH_REDIS_URL); "" when none was. URLFrom and CAFrom name where
	// redis_url and ca_file were set (see config.Config.Origin).
	PasswordFrom, URLFrom, CAFrom string
	// Prefix starts every key (default "pleoauth:").
	Prefix string
	// Key seals the bundles: 32 bytes.
	Key []byte
	// LockTTL is how long a lock lives unless its holder extends it.
	LockTTL time.Duration
	// Timeout bounds each Redis call.
	Timeout time.Duration

	mu       sync.Mutex
	versions map[string]int64  // the version each login's bundle had when read
	held     map[string]string // the token of each lock this process holds
}

// redisMagic starts every sealed bundle in Redis.
const redisMagic = "pleoauth-redis-v1\n"

// DecodeStoreKey reads PLEOAUTH_STORE_KEY: 32 bytes, base64.
func DecodeStoreKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) != 32 {
		return nil, errors.New("PLEOAUTH_STORE_KEY is not 32 bytes in base64; make one with \"pleoauth store-key\"")
	}
	return key, nil
}

// NewStoreKey returns a fresh store key, base64.
func NewStoreKey() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return base64.StdEncoding.EncodeToString(key)
}

// KeyID names a store key without revealing it: the first 8 bytes of its SHA-256, in hex.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// WrongKeyError means a bundle in Redis was sealed under another key than PLEOAUTH_STORE_KEY.
type WrongKeyError struct {
	Env, Have, Want string
}

func (e *WrongKeyError) Error() string {
	return fmt.Sprintf("the tokens of env %s in Redis are sealed under store key %s, but PLEOAUTH_STORE_KEY is key %s; set the key the fleet shares", e.Env, e.Have, e.Want)
}

// UnreachableError means Redis did not answer.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("Redis at %s did not answer (%v); check that it runs and PLEOAUTH_REDIS_URL", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// LockLostError means the lock expired while its holder was stopped or slow, so another
// machine may hold it: nothing was written.
type LockLostError struct{ Key string }

func (e *LockLostError) Error() string {
	return fmt.Sprintf("the Redis lock %s expired while this process held it (stopped or slow), and another machine may hold it now; nothing was written", e.Key)
}

func (r *Redis) prefix() string {
	if r.Prefix == "" {
		return "pleoauth:"
	}
	return r.Prefix
}

func (r *Redis) bundleKey(env string) string { return r.prefix() + "bundle:" + env }
func (r *Redis) lockKey(env string) string   { return r.prefix() + "lock:" + env }
func (r *Redis) endedKey(env string) string  { return r.prefix() + "ended:" + env }

// Name identifies the backend in messages and status output.
func (r *Redis) Name() string { return "redis" }

func (r *Redis) ctx() (context.Context, context.CancelFunc) {
	d := r.Timeout
	if d <= 0 {
		d = 5 * time.Second
	}
	return context.WithTimeout(context.Background(), d)
}

func (r *Redis) unreachable(err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return err
	}
	if refused := r.refused(err); refused != nil {
		return failure.Wrap(failure.Usage, refused)
	}
	return failure.Wrap(failure.Temporary, &UnreachableError{URL: r.URL, Err: err})
}

// aad binds a sealed bundle to its login and to the key that sealed it.
func (r *Redis) aad(env string) string { return redisMagic + env + "\n" + KeyID(r.Key) }

// JournalKey seals env's journal entries under PLEOAUTH_STORE_KEY, bound to the login and the
// key's ID, as the bundles in Redis are.
func (r *Redis) JournalKey(env string) (JournalKey, error) {
	if err := checkEnvName(env); err != nil {
		return nil, err
	}
	return sealedJournal{key: r.Key, aad: journalMagic + env + "\n" + KeyID(r.Key)}, nil
}

// Load returns env's bundle, or [ErrNotFound], and remembers its version for [Redis.Save].
func (r *Redis) Load(env string) (*Bundle, error) {
	if err := checkEnvName(env); err != nil {
		return nil, err
	}
	ctx, cancel := r.ctx()
	defer cancel()
	vals, err := r.Client.HMGet(ctx, r.bundleKey(env), "v", "k", "b").Result()
	if err != nil {
		return nil, r.unreachable(err)
	}
	version, _ := vals[0].(string)
	keyID, _ := vals[1].(string)
	sealed, _ := vals[2].(string)
	n, _ := strconv.ParseInt(version, 10, 64)
	r.rememberRead(env, n)
	if sealed == "" {
		// Logged out, or never logged in (or Redis lost its data): only a tombstone tells.
		if ended, err := r.Client.Exists(ctx, r.endedKey(env)).Result(); err == nil && ended > 0 {
			return nil, ErrLoggedOut
		}
		return nil, ErrNotFound
	}
	if keyID != KeyID(r.Key) {
		return nil, &WrongKeyError{Env: env, Have: keyID, Want: KeyID(r.Key)}
	}
	plain, err := unsealWith(r.Key, []byte(sealed), redisMagic, r.aad(env))
	if err != nil {
		return nil, &CorruptError{Path: r.URL + " key " + r.bundleKey(env)}
	}
	return decodeBundle(r.bundleKey(env), plain)
}

// rememberRead keeps the version a read saw, unless one is kept already. Versions change only
// by this process's writes while it holds the lock (each write keeps its new version), and
// taking the lock forgets the old one, so the first read under the lock is the one that
// counts; a later read by another goroutine of the same process (serve's requests share one
// Redis) can then never put back a version older than this process's own last write.
func (r *Redis) rememberRead(env string, version int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.versions == nil {
		r.versions = map[string]int64{}
	}
	if _, kept := r.versions[env]; !kept {
		r.versions[env] = version
	}
}

func (r *Redis) remember(env string, version int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.versions == nil {
		r.versions = map[string]int64{}
	}
	r.versions[env] = version
}

// casScript writes a bundle only for the holder of the lock and only over the version that
// holder read; it returns the new version, -1 when the lock is not held, -2 when the bundle
// changed since it was read. The scripts are sources, made into redis.Script (which hashes
// them) when used: hashing them at package initialisation cost every start-up 60 µs.
//
// A delete leaves a tombstone (KEYS[3], the time of the logout) that the next save removes, so
// that "logged out" is never taken for "Redis restarted empty", where a machine's journal
// restores the login.
const casScript = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[2]) then return -2 end
if ARGV[4] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[3], ARGV[5])
  return 0
end
redis.call('HSET', KEYS[1], 'v', v + 1, 'k', ARGV[3], 'b', ARGV[4])
redis.call('DEL', KEYS[3])
return v + 1`

// Save replaces env's bundle, holding the lock, over the version read under it.
func (r *Redis) Save(env string, b *Bundle) error {
	if err := checkEnvName(env); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return fmt.Errorf("save %s: %w", r.bundleKey(env), err)
	}
	plain, err := json.Marshal(b)
	if err != nil {
		return err
	}
	sealed, err := sealWith(r.Key, plain, redisMagic, r.aad(env))
	if err != nil {
		return err
	}
	return r.write(env, string(sealed))
}

// Delete removes env's bundle, holding the lock; deleting nothing is not an error.
func (r *Redis) Delete(env string) error { return r.write(env, "") }

func (r *Redis) write(env, sealed string) error {
	r.mu.Lock()
	token, holding := r.held[env]
	version, read := r.versions[env]
	r.mu.Unlock()
	if !holding {
		// Its extension found it taken (the process was stopped or slow past lock_ttl) and let
		// it go: as lost as one the script finds held by another.
		return &LockLostError{Key: r.lockKey(env)}
	}
	ctx, cancel := r.ctx()
	defer cancel()
	if !read { // a login or a logout writes without a refresh's read: read the version now
		v, err := r.Client.HGet(ctx, r.bundleKey(env), "v").Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return r.unreachable(err)
		}
		version = v
	}
	n, err := redis.NewScript(casScript).Run(ctx, r.Client, []string{r.bundleKey(env), r.lockKey(env), r.endedKey(env)},
		token, version, KeyID(r.Key), sealed, time.Now().UTC().Format(time.RFC3339)).Int64()
	switch {
	case err != nil:
		return r.unreachable(err)
	case n == -1:
		return &LockLostError{Key: r.lockKey(env)}
	case n == -2:
		return fmt.Errorf("the tokens of env %s in Redis changed since they were read under the lock; nothing was overwritten — run the command again", env)
	}
	r.remember(env, n)
	return nil
}

// Check proves, before a refresh is sent, that Redis answers and that this process still holds
// env's lock (when it holds one): a holder that was stopped past its lock's life must not send.
func (r *Redis) Check() error {
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.Client.Ping(ctx).Err(); err != nil {
		return r.unreachable(err)
	}
	r.mu.Lock()
	held := make(map[string]string, len(r.held))
	for k, v := range r.held {
		held[k] = v
	}
	r.mu.Unlock()
	for env, token := range held {
		got, err := r.Client.Get(ctx, r.lockKey(env)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return r.unreachable(err)
		}
		if got != token {
			return &LockLostError{Key: r.lockKey(env)}
		}
	}
	return nil
}

// Pending is false: a Redis write is one atomic script, so no save is ever half done.
func (r *Redis) Pending(string) bool { return false }

// Recover has nothing to finish (see [Redis.Pending]).
func (r *Redis) Recover(string) (bool, error) { return false, nil }
