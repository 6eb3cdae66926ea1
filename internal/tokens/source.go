package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/crashpoint"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

// Store is where a [Source] reads and writes bundles.
type Store interface {
	Load(env string) (*store.Bundle, error)
	Save(env string, b *store.Bundle) error
	// Check proves that a save can happen now, before a refresh spends the refresh token.
	Check() error
	// Pending reports a save that a crash interrupted; the [Locker] finishes it once locked,
	// so a pending save sends the caller the locked way.
	Pending(env string) bool
}

// Locker serialises refreshes of one login across processes.
type Locker interface {
	Lock(ctx context.Context, name string) (unlock func(), err error)
}

// Refresher sends one refresh request (RFC 6749 §6) and returns the response, or an error
// classified by [tokenendpoint.Classify].
type Refresher func(ctx context.Context, refreshToken string) (*oauth2.Token, error)

// Source hands out a login's access token, refreshing it when needed.
//
// Pleo rotates the refresh token on every refresh and, when a used one is presented again,
// revokes the whole authorization. A refresh that races another therefore logs the user out, so
// every refresh runs as: lock → re-read the store → use the token if another process already
// refreshed it → prove the store can be written → one refresh request → save both tokens
// atomically → unlock.
type Source struct {
	Env     string
	Store   Store
	Lock    Locker
	Refresh Refresher
	Now     func() time.Time
	// Scopes are recorded when a response names none (RFC 6749 §5.1).
	Scopes []string
	// Backoff holds the waits before each retry of a transient failure; nil means
	// [DefaultBackoff]. Its length is the number of retries.
	Backoff []time.Duration
	// Sleep waits d or until ctx ends; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Seed is a refresh token to start from when the store holds nothing for Env, or only a
	// login whose refresh token was refused and is not this one: the CI bootstrap
	// (PLEOAUTH_REFRESH_TOKEN).
	Seed string
	// Rotated, when set, is called when a refresh brought a new refresh token, after it was
	// saved and before the lock is released, so that write-backs happen in rotation order.
	Rotated func(b *store.Bundle) error
}

// DefaultBackoff is short and bounded: a script waiting on "pleoauth token" should learn within
// seconds that the server is down, with exit code 5. Only failures the server answered (5xx,
// 429) or that stopped before the request left (connection refused) are retried; a timeout or
// a dropped connection is not, because the server may have rotated the refresh token already.
var DefaultBackoff = []time.Duration{250 * time.Millisecond, time.Second}

// MaxRetryAfter caps how long a 429's Retry-After may hold a command.
const MaxRetryAfter = 5 * time.Second

// Request says what token the caller needs.
type Request struct {
	// MinTTL is how long the token must stay valid.
	MinTTL time.Duration
	// Force refreshes even a valid token, unless another process refreshed it meanwhile.
	Force bool
}

// Result is the token handed out and how it was obtained.
type Result struct {
	Bundle    *store.Bundle
	Refreshed bool
}

// Token returns a bundle whose access token is valid for at least r.MinTTL.
func (s *Source) Token(ctx context.Context, r Request) (Result, error) {
	seen, err := s.load()
	if err != nil {
		return Result{}, err
	}
	if !r.Force && seen.ValidFor(s.Now(), r.MinTTL) && !s.Store.Pending(s.Env) {
		return Result{Bundle: seen}, nil
	}
	if err := refused(s.Env, seen); err != nil {
		return Result{}, err // nothing is sent for a login the server already refused
	}

	unlock, err := s.Lock.Lock(ctx, s.Env)
	if err != nil {
		return Result{}, fmt.Errorf("env %s: %w", s.Env, err)
	}
	defer unlock()

	// Another process may have refreshed while this one waited for the lock.
	current, err := s.load()
	if err != nil {
		return Result{}, err
	}
	changed := current.AccessToken != seen.AccessToken
	if (!r.Force || changed) && current.ValidFor(s.Now(), r.MinTTL) {
		return Result{Bundle: current}, nil
	}
	if err := refused(s.Env, current); err != nil {
		return Result{}, err
	}
	if current.RefreshToken == "" {
		return Result{}, failure.NeedLogin(s.Env, "the access token expires within --min-ttl and no refresh token is held", nil)
	}
	return s.refreshAndSave(ctx, current, r.MinTTL)
}

// Import starts the login over from refreshToken: it refreshes with it under the lock and only
// when that worked replaces what the store holds, so a refused or unusable token never costs
// the login already there. accept is called under the lock with the stored bundle (nil when
// there is none) and may refuse to replace it.
func (s *Source) Import(ctx context.Context, refreshToken string, minTTL time.Duration, accept func(current *store.Bundle) error) (Result, error) {
	unlock, err := s.Lock.Lock(ctx, s.Env)
	if err != nil {
		return Result{}, fmt.Errorf("env %s: %w", s.Env, err)
	}
	defer unlock()
	current, err := s.Store.Load(s.Env)
	switch {
	case errors.Is(err, store.ErrNotFound):
		current = nil
	case err != nil:
		current = nil // unreadable: replacing it is the way out
	}
	if err := accept(current); err != nil {
		return Result{}, err
	}
	return s.refreshAndSave(ctx, &store.Bundle{RefreshToken: refreshToken}, minTTL)
}

// refreshAndSave runs one refresh of current, with the lock held, and keeps its answer.
func (s *Source) refreshAndSave(ctx context.Context, current *store.Bundle, minTTL time.Duration) (Result, error) {
	crashpoint.Hit(crashpoint.LockHeld)
	// Before the refresh token is spent, make sure its successor can be kept (and, for a lock
	// that can expire, that it is still held).
	if err := s.Store.Check(); err != nil {
		return Result{}, fmt.Errorf("env %s: not refreshed, as the new tokens could not be saved: %w", s.Env, err)
	}
	fresh, err := s.refresh(ctx, current)
	if err == nil {
		crashpoint.Hit(crashpoint.RefreshAnswered)
	}
	var refusal *refusalError
	if errors.As(err, &refusal) {
		if current.AccessToken != "" { // a stored login, not a token being imported
			// Remember the refusal, so that no later command sends the dead token again.
			dead := *current
			dead.Refused = &store.Refusal{At: s.Now().UTC(), Reason: refusal.reason}
			_ = s.Store.Save(s.Env, &dead)
		}
		return Result{}, failure.NeedLogin(s.Env, fmt.Sprintf("refresh token refused (%s): expired or revoked", refusal.reason), nil)
	}
	if err != nil {
		return Result{}, err
	}
	if err := s.Store.Save(s.Env, fresh); err != nil {
		// The old refresh token is spent; the new one exists only in memory.
		return Result{}, failure.NeedLogin(s.Env, "the refreshed tokens could not be saved, so the refresh token is lost", err)
	}
	if s.Rotated != nil && fresh.RefreshToken != current.RefreshToken {
		if err := s.Rotated(fresh); err != nil {
			return Result{}, fmt.Errorf("env %s: tokens refreshed and saved here, but %w", s.Env, err)
		}
	}
	if !fresh.ValidFor(s.Now(), minTTL) {
		return Result{}, fmt.Errorf("env %s: the server issues access tokens valid until %s, shorter than --min-ttl %s; lower --min-ttl",
			s.Env, fresh.Expiry.Format(time.RFC3339), minTTL)
	}
	return Result{Bundle: fresh, Refreshed: true}, nil
}

// refusalError is the server's refusal of a refresh token (invalid_grant), before it is recorded.
type refusalError struct{ reason string }

func (e *refusalError) Error() string { return "the refresh token was refused (" + e.reason + ")" }

// refused reports a login whose refresh token the server refused before.
func refused(env string, b *store.Bundle) error {
	if b.Refused == nil {
		return nil
	}
	return failure.NeedLogin(env, fmt.Sprintf("refresh token refused at %s (%s)",
		b.Refused.At.UTC().Format(time.RFC3339), b.Refused.Reason), nil)
}

func (s *Source) load() (*store.Bundle, error) {
	b, err := s.Store.Load(s.Env)
	switch {
	case errors.Is(err, store.ErrNotFound) && s.Seed != "":
		return &store.Bundle{RefreshToken: s.Seed}, nil
	case errors.Is(err, store.ErrNotFound):
		return nil, failure.NeedLogin(s.Env, "not logged in", nil)
	case errors.Is(err, store.ErrKeychainItemNotFound):
		return nil, failure.NeedLogin(s.Env, "the stored tokens cannot be read", err)
	case err != nil:
		var corrupt *store.CorruptError
		if errors.As(err, &corrupt) {
			return nil, failure.NeedLogin(s.Env, "the stored tokens cannot be used", err)
		}
		return nil, fmt.Errorf("env %s: %w", s.Env, err)
	case b.Refused != nil && s.Seed != "" && s.Seed != b.RefreshToken:
		// A new refresh token was provided after the old login was refused (CI secret updated).
		return &store.Bundle{RefreshToken: s.Seed}, nil
	}
	return b, nil
}

// refresh sends the refresh request, retrying transient failures with a bounded backoff.
func (s *Source) refresh(ctx context.Context, current *store.Bundle) (*store.Bundle, error) {
	backoff := s.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	for attempt := 0; ; attempt++ {
		// Once sent, a refresh is seen through even if the user presses Ctrl-C: the server may
		// already have rotated the refresh token, and only saving the answer keeps the login.
		// The HTTP client's timeout still bounds it.
		tok, err := s.Refresh(context.WithoutCancel(ctx), current.RefreshToken)
		arrived := s.Now()
		if err == nil {
			if err := tokenendpoint.CheckTokenType(tok.TokenType); err != nil {
				return nil, fmt.Errorf("env %s: token endpoint %w", s.Env, err)
			}
			if err := tokenendpoint.CheckAccessToken(tok.AccessToken); err != nil {
				return nil, fmt.Errorf("env %s: token endpoint %w", s.Env, err)
			}
			b := NewBundle(tok, arrived, s.Scopes)
			if !b.Expiry.After(arrived) {
				return nil, fmt.Errorf("env %s: the token endpoint issued an access token that is already expired (expires_in not positive); report it to the server's operators", s.Env)
			}
			if b.RefreshToken == "" {
				b.RefreshToken = current.RefreshToken // RFC 6749 §6: the server may keep the old one
			}
			if b.Scope == "" {
				b.Scope = current.Scope
			}
			return b, nil
		}
		var te *tokenendpoint.Error
		isTE := errors.As(err, &te)
		switch {
		case isTE && te.Refused():
			return nil, &refusalError{reason: te.Reason()}
		case isTE && te.MaybeProcessed:
			// Never sent again: if the server did rotate, presenting the same refresh token
			// would be a replay and Pleo would revoke the login.
			return nil, fmt.Errorf("env %s: refresh: %w; not retried, as the server may have used the refresh token", s.Env, err)
		case failure.KindOf(err) != failure.Temporary || attempt >= len(backoff) || ctx.Err() != nil:
			return nil, fmt.Errorf("env %s: refresh: %w", s.Env, err)
		}
		wait := backoff[attempt]
		if isTE && te.RetryAfter > 0 {
			wait = min(te.RetryAfter, MaxRetryAfter)
		}
		if err := s.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (s *Source) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
