package grant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/httpclient"
	"github.com/pleoauth/pleoauth/internal/store"
)

// openRedis connects the redis store: the server from redis_url, the password from
// PLEOAUTH_REDIS_PASSWORD (or the URL, when the URL came from a variable), TLS for rediss://
// trusting the environment's ca_file too (the pool [Grant.HTTPClient] then shares), and the
// store key from PLEOAUTH_STORE_KEY. Nothing is written to local disk. A missing or bad setting
// is an error, never a fall back to a local store.
func (g *Grant) openRedis() (*store.Redis, error) {
	rs := g.cfg.Redis
	if rs.URL == "" {
		return nil, failure.Wrap(failure.Usage, fmt.Errorf("env %s: the redis store needs PLEOAUTH_REDIS_URL (or redis_url in %s)", g.Env.Name, g.cfg.File))
	}
	if rs.StoreKey == "" {
		return nil, failure.Wrap(failure.Usage, fmt.Errorf("env %s: the redis store needs PLEOAUTH_STORE_KEY, the key the fleet shares; make one with \"pleoauth store-key\"", g.Env.Name))
	}
	key, err := store.DecodeStoreKey(rs.StoreKey)
	if err != nil {
		return nil, failure.Wrap(failure.Usage, fmt.Errorf("env %s: %w", g.Env.Name, err))
	}
	shown := config.RedactURL(rs.URL)
	opts, err := redis.ParseURL(rs.URL)
	if err != nil {
		return nil, failure.Wrap(failure.Usage, fmt.Errorf("redis_url %s: %v; fix %s", shown, err, g.cfg.Origin("redis_url")))
	}
	// Where the password was set, so that a refused one names what to fix (store.RefusedError).
	passwordFrom := ""
	if opts.Password != "" {
		passwordFrom = "the password in " + g.cfg.Origin("redis_url")
	}
	if rs.Password != "" {
		opts.Password = rs.Password
		passwordFrom = g.cfg.Origin("redis_password")
	}
	caFrom := ""
	if g.Env.CAFile != "" {
		caFrom = "ca_file " + g.Env.CAFile + " (" + g.cfg.Origin("ca_file") + ")"
	}
	if opts.TLSConfig != nil {
		if opts.TLSConfig.InsecureSkipVerify {
			return nil, failure.Wrap(failure.Usage, fmt.Errorf("redis_url %s: skip_verify would turn TLS verification off, which pleoauth never does; remove it, and for a private CA set ca_file for env %s", shown, g.Env.Name))
		}
		pool, err := g.rootCAs()
		if err != nil {
			return nil, err
		}
		opts.TLSConfig = httpclient.TLSConfig(opts.TLSConfig, pool)
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = rs.Timeout, rs.Timeout, rs.Timeout
	// No retries inside the client: a compare-and-set resent after a lost answer would be
	// refused as a conflict although it was applied. The protocol above decides what to retry.
	opts.MaxRetries = -1
	opts.PoolSize = 2
	return &store.Redis{Client: redis.NewClient(opts), URL: shown, Prefix: rs.Prefix, Key: key, LockTTL: rs.LockTTL, Timeout: rs.Timeout,
		PasswordFrom: passwordFrom, URLFrom: g.cfg.Origin("redis_url"), CAFrom: caFrom}, nil
}

// probeName is the login the doctor's Redis round trip uses; no environment is named so.
const probeName = "pleoauth-doctor-probe"

// ProbeStore proves the redis store end to end, for the doctor: its lock taken and released, a
// sealed bundle written, read back and removed. Other stores have nothing beyond [Grant.Check].
func (g *Grant) ProbeStore(ctx context.Context) error {
	r, ok := g.store.(*store.Redis)
	if !ok {
		return nil
	}
	unlock, err := g.locks.Lock(ctx, probeName)
	if err != nil {
		return err
	}
	defer unlock()
	want := &store.Bundle{AccessToken: "probe", RefreshToken: "probe", Expiry: g.d.Now().Add(time.Minute)}
	if err := r.Save(probeName, want); err != nil {
		return err
	}
	got, err := r.Load(probeName)
	if err == nil && got.AccessToken != want.AccessToken {
		err = errors.New("the bundle read back differs")
	}
	if delErr := r.Delete(probeName); err == nil {
		err = delErr
	}
	return err
}
