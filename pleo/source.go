package pleo

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/api"
	"github.com/pleoauth/pleoauth/internal/grant"
)

// source hands out one login's access tokens to the goroutines of this process, keeping the
// last one in memory for as long as it meets the min TTL. Only one goroutine at a time asks the
// login (reads the store, or refreshes under its lock); the others wait for it, or for their
// context, and then find its token in memory: a process makes no more refreshes than one
// command would.
type source struct {
	login  *grant.Grant
	minTTL time.Duration
	log    *logWriter
	now    func() time.Time
	// sem is held by the goroutine asking the login.
	sem  chan struct{}
	kept atomic.Pointer[keptToken]
	// failed is the last ask's failure, while no ask has succeeded since.
	failed atomic.Pointer[failedAsk]
}

// failedAsk is an ask of the login that failed, and when it ended.
type failedAsk struct {
	err error
	at  time.Time
}

// keptToken is an access token in memory: never the refresh token, which stays in the store.
type keptToken struct {
	api.Token
	tokenType string
	// goodUntil is when it stops meeting the min TTL ([grant.Result.GoodUntil]).
	goodUntil time.Time
}

// oauth2 is a copy of k for a caller, which may change it.
func (k *keptToken) oauth2() *oauth2.Token {
	return &oauth2.Token{AccessToken: k.Value, TokenType: k.tokenType, Expiry: k.Expiry}
}

// token is a token valid for the min TTL.
func (s *source) token(ctx context.Context) (*keptToken, error) {
	return s.get(ctx, api.Valid, "")
}

// get returns the token want asks for ([api.TokenFunc]).
func (s *source) get(ctx context.Context, want api.Want, refused string) (*keptToken, error) {
	if k := s.usable(want, refused); k != nil {
		return k, nil
	}
	waiting := s.now()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, s.ended(ctx)
	}
	defer func() { <-s.sem }()
	if k := s.usable(want, refused); k != nil {
		return k, nil // another goroutine got it while this one waited
	}
	if f := s.failed.Load(); f != nil && !f.at.Before(waiting) {
		// The ask this goroutine waited for failed — with its retries, against a token
		// endpoint or a Redis that is down: every waiter has its answer, rather than each
		// asking again in turn, multiplying the requests to a failing server and the wait.
		return nil, f.err
	}
	if ctx.Err() != nil {
		return nil, s.ended(ctx) // it may have ended as the wait did: no read, no refresh for it
	}
	res, err := s.login.TokenResult(ctx, grant.Request{MinTTL: s.minTTL, Force: want == api.Refreshed, Refused: refused})
	if err != nil {
		err = classify(err)
		if ctx.Err() == nil { // a failure of the login's, not of this goroutine's context
			s.failed.Store(&failedAsk{err: err, at: s.now()})
		}
		return nil, err
	}
	s.failed.Store(nil)
	if res.Warning != "" {
		s.log.warn(res.Warning)
	}
	b := res.Bundle
	// The type as the server sent it; oauth2.Token.Type reads "" and "bearer" as "Bearer".
	k := &keptToken{Token: api.Token{Value: b.AccessToken, Issued: b.ObtainedAt, Expiry: b.Expiry}, tokenType: b.TokenType, goodUntil: res.GoodUntil}
	s.kept.Store(k)
	return k, nil
}

// ended is the error of a call whose context ended before the login was asked.
func (s *source) ended(ctx context.Context) error {
	return classify(fmt.Errorf("env %s: no token: %w", s.login.Name, context.Cause(ctx)))
}

// usable is the token in memory when it answers want: a valid token for Valid; for Refreshed
// and Held, a valid one other than the token the API refused (another goroutine's refresh
// replaced it). Nil when the login must be asked.
func (s *source) usable(want api.Want, refused string) *keptToken {
	k := s.kept.Load()
	if k == nil || !s.now().Before(k.goodUntil) {
		return nil
	}
	if want == api.Valid || (refused != "" && k.Value != refused) {
		return k
	}
	return nil
}
