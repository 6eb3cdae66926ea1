package grant

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

// answer is a scripted answer of the fake token endpoint.
type answer = func(string) (*oauth2.Token, error)

// late is next, answered after the fixture's clock moved on by d while the request was at the
// server: this process was stopped (SIGSTOP, a paused VM) or the server slow.
func late(f **fixture, d time.Duration, next answer) answer {
	return func(rt string) (*oauth2.Token, error) {
		(*f).now = (*f).now.Add(d)
		return next(rt)
	}
}

// issuedForm is a response as x/oauth2 reads a form-encoded one: no ExpiresIn, only an Expiry
// it computed from the clock when the response was parsed.
func issuedForm(f **fixture, access, refresh string, expiresIn time.Duration) answer {
	return func(string) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "bearer", Expiry: (*f).now.Add(expiresIn)}, nil
	}
}

// withExpiresIn is a JSON response whose expires_in is v as written (x/oauth2 reports a
// non-positive one as ExpiresIn 0).
func withExpiresIn(access, refresh string, v float64) answer {
	return func(string) (*oauth2.Token, error) {
		tok := &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "bearer", ExpiresIn: max(int64(v), 0)}
		return tok.WithExtra(map[string]any{"expires_in": v}), nil
	}
}

// TestExpiryCountsFromTheSend: RFC 6749 §5.1's expires_in runs from when the server issued the
// response, so the expiry is counted from when the request was sent (each attempt's own), never
// from when its answer arrived.
func TestExpiryCountsFromTheSend(t *testing.T) {
	tests := []struct {
		name    string
		answers func(f **fixture) []answer
		sent    time.Duration // after t0
	}{
		{"prompt answer", func(**fixture) []answer { return []answer{issued("a2", "r2", 900)} }, 0},
		{"answer 30 s late", func(f **fixture) []answer { return []answer{late(f, 30*time.Second, issued("a2", "r2", 900))} }, 0},
		{"answer 10 min late", func(f **fixture) []answer { return []answer{late(f, 10*time.Minute, issued("a2", "r2", 900))} }, 0},
		{"form-encoded answer 10 min late", func(f **fixture) []answer {
			return []answer{late(f, 10*time.Minute, issuedForm(f, "a2", "r2", 15*time.Minute))}
		}, 0},
		{"the attempt that succeeded was sent after a retry", func(f **fixture) []answer {
			return []answer{late(f, 7*time.Second, failing(503, "", 0)), late(f, 10*time.Minute, issued("a2", "r2", 900))}
		}, 7*time.Second + DefaultBackoff[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f *fixture
			f = newFixture(t, &memStore{b: bundle("a1", "r1", 0)}, tt.answers(&f)...)
			res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			sent := t0.Add(tt.sent)
			got := f.st.stored()
			if want := sent.Add(15 * time.Minute); !got.Expiry.Equal(want) || !res.Bundle.Expiry.Equal(want) {
				t.Errorf("expiry stored %v, handed out %v; want %v (send time + expires_in), the answer arrived at %v", got.Expiry, res.Bundle.Expiry, want, f.now)
			}
			if !got.ObtainedAt.Equal(sent) {
				t.Errorf("obtained at %v; want the send time %v", got.ObtainedAt, sent)
			}
			if got.AccessToken != "a2" || got.RefreshToken != "r2" || res.Bundle.AccessToken != "a2" || res.Warning != "" {
				t.Errorf("store %+v, result %+v; want a2/r2 handed out without a warning", got, res)
			}
		})
	}
}

// TestPausedHolderRefreshesOnceMore: a process stopped while its refresh was at the server gets
// an answer that is valid but aged past --min-ttl, or expired. It keeps it — it holds the new
// refresh token, the old one being spent at the server — and refreshes once more from it, under
// the same lock, rather than hand out a token that expired during its pause.
func TestPausedHolderRefreshesOnceMore(t *testing.T) {
	tests := []struct {
		name    string
		answers func(f **fixture) []answer
		minTTL  time.Duration
		// want is the access token handed out; warn, whether with a warning.
		want string
		warn bool
	}{
		{"stopped past the token's lifetime", func(f **fixture) []answer {
			return []answer{late(f, 20*time.Minute, issued("a2", "r2", 900)), issued("a3", "r3", 900)}
		}, time.Minute, "a3", false},
		{"stopped until less than --min-ttl was left", func(f **fixture) []answer {
			return []answer{late(f, 14*time.Minute+30*time.Second, issued("a2", "r2", 900)), issued("a3", "r3", 900)}
		}, time.Minute, "a3", false},
		{"stopped until exactly --min-ttl was left", func(f **fixture) []answer {
			return []answer{late(f, 14*time.Minute, issued("a2", "r2", 900)), issued("a3", "r3", 900)}
		}, time.Minute, "a3", false},
		{"no --min-ttl, stopped past the token's lifetime", func(f **fixture) []answer {
			return []answer{late(f, 20*time.Minute, issued("a2", "r2", 900)), issued("a3", "r3", 900)}
		}, 0, "a3", false},
		{"stopped during both refreshes: only one more", func(f **fixture) []answer {
			return []answer{late(f, 20*time.Minute, issued("a2", "r2", 900)), late(f, 20*time.Minute, issued("a3", "r3", 900)), issued("a4", "r4", 900)}
		}, time.Minute, "a3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f *fixture
			st := &memStore{b: bundle("a1", "r1", 0)}
			f = newFixture(t, st, tt.answers(&f)...)
			res, err := f.g.TokenResult(context.Background(), Request{MinTTL: tt.minTTL})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.presented, []string{"r1", "r2"}) {
				t.Errorf("refresh tokens sent %q; want r1, then the new r2 (never r1 again)", f.presented)
			}
			if res.Bundle.AccessToken != tt.want || !res.Refreshed {
				t.Errorf("handed out %+v; want %s, refreshed", res.Bundle, tt.want)
			}
			if valid := res.Bundle.ValidFor(f.now, tt.minTTL); valid == tt.warn {
				t.Errorf("handed out a token valid until %v at %v; want it valid for --min-ttl %v: %t", res.Bundle.Expiry, f.now, tt.minTTL, !tt.warn)
			}
			if (res.Warning != "") != tt.warn || tt.warn && !strings.Contains(res.Warning, "arrived late") {
				t.Errorf("warning %q; want one saying the answers arrived late: %t", res.Warning, tt.warn)
			}
			// The first answer was kept — saved, no spend on it — before r2 was sent.
			if len(f.atSend) < 2 {
				t.Fatalf("%d refresh requests; want 2", len(f.atSend))
			}
			if at := f.atSend[1]; at == nil || at.AccessToken != "a2" || at.RefreshToken != "r2" || at.Spent == nil || at.Spent.Lost {
				t.Errorf("the store held %+v when r2 was sent; want a2/r2 recorded as spent", at)
			}
			kept := slices.IndexFunc(st.writes, func(b *store.Bundle) bool { return b != nil && b.RefreshToken == "r2" && b.Spent == nil })
			if kept < 0 {
				t.Errorf("writes %+v; the answer a2/r2 was never saved", st.writes)
			}
			if got := st.stored(); got.AccessToken != tt.want || got.Spent != nil || f.g.journal.Holds("staging") {
				t.Errorf("store %+v (journal left: %t); want %s saved", got, f.g.journal.Holds("staging"), tt.want)
			}
			if f.lock.taken != 1 {
				t.Errorf("lock taken %d times; want both refreshes under one", f.lock.taken)
			}
		})
	}
}

// TestPausedHolderKeepsTheAnswerWhenTheNextRefreshFails: the answer that arrived late stays the
// login when the extra refresh is not carried out.
func TestPausedHolderKeepsTheAnswerWhenTheNextRefreshFails(t *testing.T) {
	var f *fixture
	st := &memStore{b: bundle("a1", "r1", 0)}
	f = newFixture(t, st, late(&f, 20*time.Minute, issued("a2", "r2", 900)), failing(503, "", 0))
	_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if failure.KindOf(err) != failure.Temporary {
		t.Fatalf("Token = %v; want a temporary failure", err)
	}
	if got := st.stored(); got == nil || got.AccessToken != "a2" || got.RefreshToken != "r2" || got.Spent != nil {
		t.Errorf("store %+v; want the late answer a2/r2, its refresh token unspent", got)
	}
	if f.presented[0] != "r1" || slices.Contains(f.presented[1:], "r1") {
		t.Errorf("refresh tokens sent %q; want r1 once", f.presented)
	}
}

// TestShortLivedTokensAgedInFlight: with a server whose tokens live no longer than --min-ttl,
// a token is refreshed for half its lifetime (effectiveMinTTL); one that lost that half on the
// way (the process paused while its refresh was at the server) is refreshed once more, and one
// that did not is handed out — with the warning that the server's tokens are short.
func TestShortLivedTokensAgedInFlight(t *testing.T) {
	const serverIssues = "the server issues access tokens valid for 1m0s, less than --min-ttl "
	tests := []struct {
		minTTL, pause time.Duration
		again         bool   // refreshed once more
		warning       string // what the warning says; "" for none
	}{
		{5 * time.Minute, 0, false, serverIssues + "5m0s"},
		{5 * time.Minute, 20 * time.Second, false, serverIssues + "5m0s"},
		{5 * time.Minute, 30*time.Second - time.Millisecond, false, serverIssues + "5m0s"},
		{5 * time.Minute, 30 * time.Second, true, serverIssues + "5m0s"}, // exactly half left: not more

		{5 * time.Minute, 2 * time.Minute, true, serverIssues + "5m0s"},
		// Tokens living exactly --min-ttl: one that arrived at once is handed out without a
		// warning; one that lost half its life on the way is refreshed once more, and the next,
		// on time, lives --min-ttl.
		{time.Minute, 0, false, ""},
		{time.Minute, 45 * time.Second, true, ""},
	}
	for _, tt := range tests {
		var f *fixture
		st := &memStore{b: bundle("a1", "r1", 0)}
		f = newFixture(t, st, late(&f, tt.pause, issued("a2", "r2", 60)), issued("a3", "r3", 60))
		res, err := f.g.TokenResult(context.Background(), Request{MinTTL: tt.minTTL})
		if err != nil {
			t.Fatalf("--min-ttl %v, pause %v: %v", tt.minTTL, tt.pause, err)
		}
		requests, token, expiry := 1, "a2", t0.Add(time.Minute)
		if tt.again {
			requests, token, expiry = 2, "a3", t0.Add(tt.pause+time.Minute)
		}
		if len(f.presented) != requests || res.Bundle.AccessToken != token {
			t.Errorf("--min-ttl %v, pause %v: %d refresh requests, handed out %s; want %d, %s", tt.minTTL, tt.pause, len(f.presented), res.Bundle.AccessToken, requests, token)
		}
		if !res.Bundle.Expiry.Equal(expiry) {
			t.Errorf("--min-ttl %v, pause %v: expiry %v; want %v (send time + expires_in)", tt.minTTL, tt.pause, res.Bundle.Expiry, expiry)
		}
		if tt.warning == "" && res.Warning != "" || !strings.Contains(res.Warning, tt.warning) {
			t.Errorf("--min-ttl %v, pause %v: warning %q; want %q", tt.minTTL, tt.pause, res.Warning, tt.warning)
		}
	}
}

// TestNonPositiveExpiresInIsRefused: an answer whose expires_in is not positive is refused, late
// or not, and spends the refresh token; a positive one that arrived after it ran out is kept.
func TestNonPositiveExpiresInIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		answer func(f **fixture) answer
		kept   bool
	}{
		{"expires_in 0", func(**fixture) answer { return withExpiresIn("a2", "r2", 0) }, false},
		{"expires_in negative", func(**fixture) answer { return withExpiresIn("a2", "r2", -5) }, false},
		{"expires_in 0, late", func(f **fixture) answer { return late(f, time.Minute, withExpiresIn("a2", "r2", 0)) }, false},
		{"expires_in 60, a minute late", func(f **fixture) answer { return late(f, time.Minute, withExpiresIn("a2", "r2", 60)) }, true},
		{"expires_in 60, ten minutes late", func(f **fixture) answer { return late(f, 10*time.Minute, withExpiresIn("a2", "r2", 60)) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f *fixture
			st := &memStore{b: bundle("a1", "r1", 0)}
			f = newFixture(t, st, tt.answer(&f), issued("a3", "r3", 900))
			res, err := f.g.TokenResult(context.Background(), Request{MinTTL: 30 * time.Second})
			if !tt.kept {
				if err == nil || !strings.Contains(err.Error(), "expires_in not positive") || failure.KindOf(err) != failure.Other {
					t.Fatalf("Token = %v (kind %v); want the answer refused: expires_in not positive", err, failure.KindOf(err))
				}
				if got := st.stored(); got == nil || got.RefreshToken != "r1" || got.Spent == nil || !got.Spent.Lost {
					t.Errorf("store %+v; want r1 still recorded as spent, its answer lost", got)
				}
				if len(f.presented) != 1 {
					t.Errorf("refresh tokens sent %q; want r1 once", f.presented)
				}
				return
			}
			if err != nil {
				t.Fatalf("Token = %v; want the late answer kept", err)
			}
			if !slices.Equal(f.presented, []string{"r1", "r2"}) || res.Bundle.AccessToken != "a3" {
				t.Errorf("sent %q, handed out %s; want r1 then r2, a3", f.presented, res.Bundle.AccessToken)
			}
			kept := slices.IndexFunc(st.writes, func(b *store.Bundle) bool {
				return b != nil && b.RefreshToken == "r2" && b.Spent == nil && b.Expiry.Equal(t0.Add(time.Minute))
			})
			if kept < 0 {
				t.Errorf("writes %+v; want a2/r2 saved, expiring at the send time + 60 s", st.writes)
			}
		})
	}
}

// TestInterruptedPausedHolderStartsNoSecondRefresh: a command stopped by the user (its context
// cancelled) while its refresh was at the server sees that refresh through and keeps the
// answer, but starts no new one, however aged the answer.
func TestInterruptedPausedHolderStartsNoSecondRefresh(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var f *fixture
	st := &memStore{b: bundle("a1", "r1", 0)}
	interrupted := func(rt string) (*oauth2.Token, error) {
		cancel() // Ctrl-C while the request was at the server
		return late(&f, 20*time.Minute, issued("a2", "r2", 900))(rt)
	}
	f = newFixture(t, st, interrupted, issued("a3", "r3", 900))
	res, err := f.g.TokenResult(ctx, Request{MinTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.presented) != 1 || res.Bundle.AccessToken != "a2" || st.stored().RefreshToken != "r2" {
		t.Errorf("%d refresh requests, handed out %s, stored %+v; want 1, a2 and r2 kept", len(f.presented), res.Bundle.AccessToken, st.stored())
	}
}

// TestGoodUntil: a result says when its token stops meeting the request — the expiry less the
// min TTL, or less half the token's life for a server whose tokens live no longer than the min
// TTL — so that a caller keeping it in memory asks again exactly then.
func TestGoodUntil(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		lifetime time.Duration
		minTTL   time.Duration
		want     time.Duration // from now
	}{
		{"an hour's token, a minute's min TTL", time.Hour, time.Minute, time.Hour - time.Minute},
		{"no min TTL", time.Hour, 0, time.Hour},
		{"a token living just over the min TTL", 61 * time.Second, time.Minute, time.Second},
		{"a token living exactly the min TTL: half its life", time.Minute, time.Minute, 30 * time.Second},
		{"a 4 s token, a minute's min TTL: half its life", 4 * time.Second, time.Minute, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &Grant{d: Deps{Now: func() time.Time { return now }}}
			b := &store.Bundle{AccessToken: "a", ObtainedAt: now, Expiry: now.Add(tt.lifetime)}
			if got := g.result(b, false, tt.minTTL).GoodUntil; !got.Equal(now.Add(tt.want)) {
				t.Errorf("GoodUntil %s; want %s", got.Sub(now), tt.want)
			}
		})
	}
}
