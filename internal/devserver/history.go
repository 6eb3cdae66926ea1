package devserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"sync"
	"time"
)

// TokenEvent is one request to the token endpoint as the server saw it: what was presented,
// what the server did (rotated, refused, revoked) and whether its answer left. A checker reads
// the history to tell a refresh token presented twice from one whose first answer never reached
// anybody (tests/chaos). Tokens are kept as [Fingerprint]s only.
type TokenEvent struct {
	// Start is when the request arrived; End when its answer was sent or lost (zero while the
	// server holds it).
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
	// From is the client's IP address: in the fleet tests, which host sent it.
	From  string `json:"from"`
	Grant string `json:"grant_type"`
	// Presented is the refresh token sent with a refresh_token grant.
	Presented string `json:"presented,omitempty"`
	// Fault is the fault the server showed instead of (or around) its answer.
	Fault Fault `json:"fault,omitempty"`
	// Error is the OAuth error code of a refusal by the server itself (not by a fault).
	Error string `json:"error,omitempty"`
	// Family is fosite's request ID, shared by a login's code exchange and all its rotations.
	Family string `json:"family,omitempty"`
	// Issued and Access are the refresh and access tokens the server issued; AccessExpires is
	// when the access token stops being accepted.
	Issued        string    `json:"issued,omitempty"`
	Access        string    `json:"access,omitempty"`
	AccessExpires time.Time `json:"access_expires,omitzero"`
	// Revoked: this request presented a spent refresh token, and the whole family was revoked.
	Revoked bool `json:"revoked,omitempty"`
	// Answer says what became of the answer: AnswerSent, AnswerDropped, AnswerCut or
	// AnswerClientGone.
	Answer string `json:"answer,omitempty"`
}

// What became of a token endpoint answer.
const (
	AnswerSent       = "sent"        // written to the connection
	AnswerDropped    = "dropped"     // the connection closed by a fault, without an answer
	AnswerCut        = "cut"         // the body cut short by a fault
	AnswerClientGone = "client-gone" // the client closed its connection before the answer was written
)

// Fingerprint names a token in the history without keeping it: the first 8 bytes of its
// SHA-256, in hex.
func Fingerprint(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:8])
}

// maxHistory bounds the log, so a devserver left running for days does not grow without end;
// the oldest requests go first. A chaos run of minutes makes a few thousand.
const maxHistory = 100_000

// history is the log of token endpoint requests, oldest first.
type history struct {
	mu     sync.Mutex
	events []*TokenEvent
}

type eventKey struct{}

// begin records a request as it arrives and carries its event in the request's context, where
// the token handler and the store fill it in.
func (h *history) begin(r *http.Request, grant string) (*TokenEvent, *http.Request) {
	from, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := &TokenEvent{Start: time.Now(), From: from, Grant: grant,
		Presented: Fingerprint(r.PostFormValue("refresh_token"))}
	h.mu.Lock()
	if len(h.events) >= maxHistory {
		h.events = h.events[len(h.events)-maxHistory+1:]
	}
	h.events = append(h.events, ev)
	h.mu.Unlock()
	return ev, r.WithContext(context.WithValue(r.Context(), eventKey{}, ev))
}

// update changes an event under the history's lock (a snapshot may be taken meanwhile).
func (h *history) update(ev *TokenEvent, f func(*TokenEvent)) {
	if ev == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	f(ev)
}

func (h *history) snapshot() []TokenEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]TokenEvent, len(h.events))
	for i, ev := range h.events {
		out[i] = *ev
	}
	return out
}

func eventOf(ctx context.Context) *TokenEvent {
	ev, _ := ctx.Value(eventKey{}).(*TokenEvent)
	return ev
}

// History returns a copy of every token endpoint request so far, in the order they arrived;
// a request the server still holds has a zero End.
func (s *Server) History() []TokenEvent { return s.history.snapshot() }
