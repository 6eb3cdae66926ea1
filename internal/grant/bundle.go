package grant

import (
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/sanitize"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

// NewBundle records a token response that arrived at arrived. The expiry is computed against the
// arrival time from expires_in (RFC 6749 §5.1). When the response names no scope, the requested
// scopes were granted unchanged (RFC 6749 §5.1: scope is optional if identical). The scope is
// the server's text, printed by login, status and token --json: only its RFC 6749 §3.3
// scope-tokens are kept ([sanitize.Scope]).
func NewBundle(tok *oauth2.Token, arrived time.Time, requested []string) *store.Bundle {
	return newBundle(tok, arrived, arrived, requested)
}

// newBundle is [NewBundle] for a response to a request sent at sent. RFC 6749 §5.1's
// expires_in counts from when the server issued the response, which lies between sent and
// arrived: counting from sent never makes the token live longer than the server says, however
// long the answer took to arrive or this process was stopped. The lifetime itself is read
// against arrived, as x/oauth2 dates an Expiry it computed from the clock when it parsed the
// response.
func newBundle(tok *oauth2.Token, sent, arrived time.Time, requested []string) *store.Bundle {
	scope, _ := tok.Extra("scope").(string)
	if scope == "" {
		scope = strings.Join(requested, " ")
	} else {
		scope = sanitize.Scope(scope)
	}
	return &store.Bundle{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenType:    tok.TokenType,
		Scope:        scope,
		Expiry:       sent.Add(tokenendpoint.Lifetime(tok, arrived)).UTC(),
		ObtainedAt:   sent.UTC(),
	}
}
