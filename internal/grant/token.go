package grant

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/sanitize"
	"github.com/pleoauth/pleoauth/internal/store"
)

// Request says what token the caller needs.
type Request struct {
	// MinTTL is how long the token must stay valid. When the server issues tokens that live
	// less than that, the freshest token is handed out with a warning instead (see
	// [Result.Warning]).
	MinTTL time.Duration
	// Force refreshes even a valid token, unless another process refreshed it meanwhile: since
	// this call began, or since Refused was handed out.
	Force bool
	// Refused, when set, is the access token an API just refused (a 401): a valid token other
	// than it will do, even with Force — another process's refresh replaced it.
	Refused string
}

// Result is the token handed out and how it was obtained.
type Result struct {
	Bundle *store.Bundle
	// Refreshed tells whether this call refreshed the token (rather than found one valid, or
	// one another process had just refreshed).
	Refreshed bool
	// Warning, when set, is one line for the user: the token is valid for less than MinTTL,
	// because the server issues no longer-lived ones.
	Warning string
	// GoodUntil is when Bundle stops meeting the request: its expiry less the min TTL it is
	// held to (MinTTL, or half its life for a server whose tokens live no longer). A caller that
	// keeps the token in memory asks again from then on.
	GoodUntil time.Time
}

// Token returns a bundle whose access token is valid for at least r.MinTTL, refreshed first
// when needed (or always, with r.Force). A warning (see [Result.Warning]) goes to stderr.
func (g *Grant) Token(ctx context.Context, r Request) (*store.Bundle, error) {
	res, err := g.TokenResult(ctx, r)
	if res.Warning != "" {
		fmt.Fprintln(g.d.Stderr, "pleoauth: "+res.Warning)
	}
	return res.Bundle, err
}

// TokenResult is [Grant.Token] with the warning returned rather than printed.
//
// Pleo rotates the refresh token on every refresh and, when a used one is presented again,
// revokes the whole authorization. A refresh that races another therefore logs the user out,
// so every refresh runs as: lock → finish what an earlier process left unsaved → re-read the
// store → use the token if another process already refreshed it → record the refresh token as
// spent in the store → one refresh request → journal the answer → save it → unlock.
func (g *Grant) TokenResult(ctx context.Context, r Request) (Result, error) {
	seen, err := g.load()
	if err != nil && !g.journal.Holds(g.Name) {
		return Result{}, err
	}
	// A spend recorded, a save a crash interrupted or an answer journalled (a Redis back from
	// an older snapshot holds a valid-looking token the server revoked on rotation): the locked
	// way finishes or explains it first. Otherwise a token valid long enough needs no lock.
	if err == nil && seen.Spent == nil && !g.store.Pending(g.Name) && !g.journal.Waiting(g.Name) {
		if minTTL := effectiveMinTTL(seen, r.MinTTL); !r.forces(seen) && seen.ValidFor(g.d.Now(), minTTL) {
			return g.result(seen, false, r.MinTTL), nil
		}
		if err := refused(g.Name, seen); err != nil {
			return Result{}, err // nothing is sent for a login the server already refused
		}
	}

	unlock, err := g.lock(ctx)
	if err != nil {
		return Result{}, err
	}
	defer unlock()

	// Another process may have refreshed while this one waited for the lock.
	current, err := g.load()
	if err != nil {
		return Result{}, err
	}
	if current.Spent != nil {
		err := g.unsaved(current.Spent)
		if failure.KindOf(err) != failure.LoginRequired || !g.newSeed(current) {
			return Result{}, err
		}
		// The spent login is lost and CI provides another refresh token: start from it, as
		// after a refusal.
		current = g.seedBundle()
	}
	changed := seen == nil || current.AccessToken != seen.AccessToken
	if (!r.forces(current) || changed) && current.ValidFor(g.d.Now(), effectiveMinTTL(current, r.MinTTL)) {
		return g.result(current, false, r.MinTTL), nil
	}
	if err := refused(g.Name, current); err != nil {
		return Result{}, err
	}
	if current.RefreshToken == "" {
		return Result{}, failure.NeedLogin(g.Name, "the access token expires within --min-ttl and no refresh token is held", nil)
	}
	if ctx.Err() != nil {
		// Stopped before anything was sent (Ctrl-C while waiting for the lock, a program's
		// deadline): a refresh sent now would be seen through for a caller that has gone, and
		// would spend a refresh token for nothing.
		return Result{}, fmt.Errorf("env %s: not refreshed: %w", g.Name, context.Cause(ctx))
	}
	fresh, err := g.refreshAndSave(ctx, current)
	if err != nil {
		return Result{}, err
	}
	if ctx.Err() == nil && g.agedInFlight(fresh, r.MinTTL) {
		// The answer is kept (journalled and saved: it holds the only live refresh token), but
		// its access token is not handed out; one more refresh, from that new and unspent
		// refresh token, under the same lock. Only once: a second answer as late tells of a
		// server or a machine that refreshing again would not fix. Not once the user stopped
		// the command (Ctrl-C, SIGTERM): the refresh on the wire was seen through, but no new
		// one is started.
		fresh, err = g.refreshAndSave(ctx, fresh)
		if err != nil {
			return Result{}, err
		}
	}
	return g.result(fresh, true, r.MinTTL), nil
}

// forces tells whether r asks to refresh b even while it is valid: with Force, unless b is not
// the token the API refused.
func (r Request) forces(b *store.Bundle) bool {
	return r.Force && (r.Refused == "" || b.AccessToken == r.Refused)
}

// agedInFlight reports whether fresh, just refreshed, is no longer valid for the min TTL it was
// refreshed for ([effectiveMinTTL]: minTTL, or half the lifetime of a server's shorter tokens):
// its expiry counts from when the request was sent (RFC 6749 §5.1), so it aged while this
// process waited for the answer — the process was stopped (SIGSTOP, a paused VM) or the answer
// was slow. An answer that came at once is always valid that long.
func (g *Grant) agedInFlight(fresh *store.Bundle, minTTL time.Duration) bool {
	return !fresh.ValidFor(g.d.Now(), effectiveMinTTL(fresh, minTTL))
}

// effectiveMinTTL is minTTL, or half the lifetime the server gave b when that is shorter: a
// server that issues tokens living less than --min-ttl cannot do better, and refreshing on every
// call would spend a refresh per call and still fail. Half, so that a token handed out keeps
// at least half its life, at one refresh per half lifetime.
func effectiveMinTTL(b *store.Bundle, minTTL time.Duration) time.Duration {
	if b.ObtainedAt.IsZero() {
		return minTTL
	}
	if lifetime := b.Expiry.Sub(b.ObtainedAt); lifetime > 0 && lifetime <= minTTL {
		return lifetime / 2
	}
	return minTTL
}

// result hands b out, with a warning when it is valid for less than minTTL.
func (g *Grant) result(b *store.Bundle, refreshed bool, minTTL time.Duration) Result {
	res := Result{Bundle: b, Refreshed: refreshed, GoodUntil: b.Expiry.Add(-effectiveMinTTL(b, minTTL))}
	if left := b.Expiry.Sub(g.d.Now()); left >= minTTL {
		return res
	}
	lifetime := b.Expiry.Sub(b.ObtainedAt)
	if lifetime > minTTL {
		// Issued for long enough, but it aged while its answer was awaited, twice over (see
		// [Grant.agedInFlight]).
		res.Warning = fmt.Sprintf("env %s: this access token is valid until %s, less than --min-ttl %s, as the answers to its refreshes arrived late (this process was stopped, or the token endpoint slow)",
			g.Name, b.Expiry.Format(time.RFC3339), minTTL)
		return res
	}
	res.Warning = fmt.Sprintf("env %s: the server issues access tokens valid for %s, less than --min-ttl %s; this one is valid until %s (lower --min-ttl to silence this)",
		g.Name, lifetime.Round(time.Second), minTTL, b.Expiry.Format(time.RFC3339))
	return res
}

// refusalReason is why the server refused a login, for a message. It was cleaned when it was
// recorded; a store written by an earlier release, or by hand, may hold it as the server sent it.
func refusalReason(r *store.Refusal) string { return sanitize.Text(r.Reason, 200) }

// refused reports a login whose refresh token the server refused before.
func refused(name string, b *store.Bundle) error {
	if b.Refused == nil {
		return nil
	}
	return failure.NeedLogin(name, fmt.Sprintf("refresh token refused at %s (%s)",
		b.Refused.At.UTC().Format(time.RFC3339), refusalReason(b.Refused)), nil)
}

// load reads the login, starting from PLEOAUTH_REFRESH_TOKEN (the CI bootstrap) when the store
// holds nothing, or a login the variable has moved past (see [Grant.newSeed]).
func (g *Grant) load() (*store.Bundle, error) {
	seed := g.seed()
	b, err := g.store.Load(g.Name)
	switch {
	case errors.Is(err, store.ErrNotFound) && seed != "" && g.spent.Holds(g.Env.Name, store.TokenHash(seed)):
		return nil, failure.NeedLogin(g.Name, "PLEOAUTH_REFRESH_TOKEN was already sent from this machine, and a refresh token is never sent twice; set it to a new one (pleoauth export-refresh-token where the login is)", nil)
	case errors.Is(err, store.ErrNotFound) && seed != "":
		return g.seedBundle(), nil
	case errors.Is(err, store.ErrNotFound) && g.store.Name() == config.StoreRedis && g.d.Getenv("PLEOAUTH_REFRESH_TOKEN") != "":
		return nil, failure.NeedLogin(g.Name, "not logged in; the redis store does not start from PLEOAUTH_REFRESH_TOKEN, which every machine of the fleet would send: import it once, with printenv PLEOAUTH_REFRESH_TOKEN | pleoauth import-refresh-token", nil)
	case errors.Is(err, store.ErrNotFound):
		if other := g.notFoundHere(); other != nil {
			return nil, other
		}
		return nil, g.NotLoggedIn()
	case errors.Is(err, store.ErrKeychainItemNotFound):
		return nil, failure.NeedLogin(g.Name, "the stored tokens cannot be read", err)
	case err != nil:
		var corrupt *store.CorruptError
		if errors.As(err, &corrupt) {
			return nil, failure.NeedLogin(g.Name, "the stored tokens cannot be used", err)
		}
		return nil, fmt.Errorf("env %s: %w", g.Name, err)
	case b.Spent == nil && (b.Refused != nil || b.Seed != "") && g.newSeed(b):
		return g.seedBundle(), nil
	}
	return b, nil
}

// seed is PLEOAUTH_REFRESH_TOKEN, where a store on this machine may start from it: not for the
// redis store, whose many machines would each send it (Pleo revokes the login on the second).
func (g *Grant) seed() string {
	if g.store.Name() == config.StoreRedis {
		return ""
	}
	return g.d.Getenv("PLEOAUTH_REFRESH_TOKEN")
}

// newSeed reports whether PLEOAUTH_REFRESH_TOKEN has moved past b's login, so that it is to be
// sent in its place: it is set, it is not the refresh token b holds nor the one b started from,
// and this machine never sent it. That is the CI variable after another runner refreshed and
// wrote the new token back (b's refresh token is then spent), or after a refusal or a lost
// answer ended b. A variable this machine sent already is older than b — its own write-back
// failed — and is never sent again. A login of "pleoauth login" (no seed) is replaced only once
// refused or lost.
func (g *Grant) newSeed(b *store.Bundle) bool {
	seed := g.seed()
	if seed == "" || seed == b.RefreshToken {
		return false
	}
	hash := store.TokenHash(seed)
	return hash != b.Seed && !g.spent.Holds(g.Env.Name, hash)
}

// seedBundle is a login that starts from PLEOAUTH_REFRESH_TOKEN.
func (g *Grant) seedBundle() *store.Bundle {
	seed := g.seed()
	return &store.Bundle{RefreshToken: seed, Seed: store.TokenHash(seed)}
}

// NotLoggedIn is the error of a login with nothing stored. For a profile other than the default
// it names the environment's profiles that are logged in, and the one it is a typo of: a
// misspelt --profile looks just like a login never made.
func (g *Grant) NotLoggedIn() error {
	why := "not logged in"
	if g.Profile != "" && g.Profile != config.DefaultProfile {
		if profiles, err := g.Profiles(); err == nil && len(profiles) > 0 {
			why += fmt.Sprintf("; profiles logged in to %s: %s%s", g.Env.Name, strings.Join(profiles, ", "), config.DidYouMean(g.Profile, profiles))
		}
	}
	return failure.NeedLogin(g.Name, why, nil)
}
