package pleo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/api"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
)

// TestLogWriter: each line the login writes for a person is one record, without "pleoauth: ";
// a wait for another process's refresh is Info and the rest Warn; a line written in pieces is
// one record once ended; a line that never ends is logged in pieces; nothing without a logger.
func TestLogWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string // the records, "LEVEL msg" per line
	}{
		{"a warning", []string{"pleoauth: env local: the client secret is not kept\n"}, "WARN env local: the client secret is not kept\n"},
		{"a wait", []string{"pleoauth: waiting for another pleoauth (pid 7) to finish refreshing env local…\n"}, "INFO waiting for another pleoauth (pid 7) to finish refreshing env local…\n"},
		{"two lines in one write", []string{"pleoauth: a\npleoauth: b\n"}, "WARN a\nWARN b\n"},
		{"a line in pieces", []string{"pleoauth: par", "tial\r", "\n"}, "WARN partial\n"},
		{"an on_rotate command's output", []string{"stored in vault\n"}, "WARN stored in vault\n"},
		{"empty lines", []string{"\n\npleoauth: \n"}, ""},
		{"a line after an empty one", []string{"\npleoauth: after\n"}, "WARN after\n"},
		{"4096 bytes not yet ended", []string{strings.Repeat("x", 4096)}, ""},
		{"a line not yet ended", []string{"pleoauth: no end"}, ""},
		{"a line that never ends", []string{strings.Repeat("x", 5000)}, "WARN " + strings.Repeat("x", 5000) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newLogWriter(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
				Level: slog.LevelDebug,
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			})))
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := records(buf.String()); got != tt.want {
				t.Errorf("records:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
	if n, err := newLogWriter(nil).Write([]byte("pleoauth: dropped\n")); n != 18 || err != nil {
		t.Errorf("without a logger: Write = %d, %v; want every byte taken", n, err)
	}
}

// records turns slog's text lines (level=WARN msg="…") into "WARN …" lines.
func records(text string) string {
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		level, msg, _ := strings.Cut(strings.TrimPrefix(line, "level="), " msg=")
		if unq, err := unquote(msg); err == nil {
			msg = unq
		}
		out.WriteString(level + " " + msg + "\n")
	}
	return out.String()
}

func unquote(s string) (string, error) {
	var out string
	_, err := fmt.Sscanf(s, "%q", &out)
	return out, err
}

// TestClassify: each kind of the login's failures is one of the package's; the message is
// the login's, with the command to run for a login required; the cause stays reachable.
func TestClassify(t *testing.T) {
	cause := errors.New("boom")
	tests := []struct {
		name    string
		err     error
		kind    error
		command string
		msg     string
	}{
		{"login required", failure.NeedLogin("local", "not logged in", nil), ErrLoginRequired, "pleoauth login --env local",
			`env local: not logged in; run "pleoauth login --env local"`},
		{"login required, a profile", fmt.Errorf("wrapped: %w", failure.NeedLogin("local@acme", "refused", cause)), ErrLoginRequired, "pleoauth login --env local --profile acme",
			`wrapped: env local@acme: refused: boom; run "pleoauth login --env local --profile acme"`},
		{"temporary", failure.Wrap(failure.Temporary, cause), ErrTemporary, "", "boom"},
		{"usage", failure.Wrap(failure.Usage, cause), ErrConfiguration, "", "boom"},
		{"other", cause, nil, "", "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify(tt.err)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("classify gave %T; want *Error", err)
			}
			if e.Kind != tt.kind || e.Command != tt.command || err.Error() != tt.msg {
				t.Errorf("kind %v, command %q, message %q; want %v, %q, %q", e.Kind, e.Command, err.Error(), tt.kind, tt.command, tt.msg)
			}
			if !errors.Is(err, tt.err) {
				t.Error("the cause is not reachable with errors.Is")
			}
			for _, k := range []error{ErrLoginRequired, ErrTemporary, ErrConfiguration} {
				if errors.Is(err, k) != (k == tt.kind) {
					t.Errorf("errors.Is(err, %v) = %v", k, !(k == tt.kind))
				}
			}
		})
	}
	if classify(nil) != nil {
		t.Error("classify(nil) is not nil")
	}
}

// TestUsable: a token in memory answers a request for a valid token until it stops meeting
// the min TTL; after a 401 it answers only when it is not the token refused (another
// goroutine's refresh replaced it); otherwise the login is asked.
func TestUsable(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	kept := &keptToken{Token: api.Token{Value: "t1", Issued: now.Add(-time.Minute), Expiry: now.Add(time.Hour)}, goodUntil: now.Add(59 * time.Minute)}
	tests := []struct {
		name    string
		kept    *keptToken
		at      time.Time
		want    api.Want
		refused string
		found   bool
	}{
		{"nothing kept", nil, now, api.Valid, "", false},
		{"valid", kept, now, api.Valid, "", true},
		{"a moment before good-until", kept, kept.goodUntil.Add(-time.Nanosecond), api.Valid, "", true},
		{"at good-until", kept, kept.goodUntil, api.Valid, "", false},
		{"refreshed, the kept token refused", kept, now, api.Refreshed, "t1", false},
		{"refreshed, another token refused", kept, now, api.Refreshed, "t0", true},
		{"refreshed, no token named", kept, now, api.Refreshed, "", false},
		{"held, the kept token refused", kept, now, api.Held, "t1", false},
		{"held, another token refused", kept, now, api.Held, "t0", true},
		{"held, another token refused, but past good-until", kept, kept.goodUntil, api.Held, "t0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &source{now: func() time.Time { return tt.at }}
			if tt.kept != nil {
				s.kept.Store(tt.kept)
			}
			if got := s.usable(tt.want, tt.refused); (got != nil) != tt.found {
				t.Errorf("usable = %v; want found %v", got, tt.found)
			}
		})
	}
}

// TestAWaitEndsWithItsContext: a goroutine waiting for another's read or refresh of the login
// gives up when its context ends, with the context's cause.
func TestAWaitEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stopped := errors.New("shutting down")
	cancel(stopped)
	for _, busy := range []bool{true, false} {
		// An empty login, which would panic if it were asked.
		s := &source{login: &grant.Grant{Name: "local"}, sem: make(chan struct{}, 1), now: time.Now}
		if busy {
			s.sem <- struct{}{} // another goroutine is asking the login
		}
		_, err := s.get(ctx, api.Valid, "")
		var e *Error
		if !errors.Is(err, stopped) || !errors.As(err, &e) || !strings.HasPrefix(err.Error(), "env local: ") {
			t.Errorf("login busy %v: got %v; want an *Error naming the login, with the context's cause", busy, err)
		}
	}
}

// TestTokenClientFollowsNoRedirect: token requests carry credentials, so they never follow a
// redirect, whatever the caller's client does; they are bounded in time even when the caller's
// client is not (a refresh is seen through past its context); the caller's client is left as it
// was.
func TestTokenClientFollowsNoRedirect(t *testing.T) {
	follows := &http.Client{Timeout: time.Second}
	for name, c := range map[string]*http.Client{"pleoauth's own": nil, "the caller's": follows} {
		got := tokenClient(c)()
		if got.CheckRedirect == nil || got.CheckRedirect(nil, nil) != http.ErrUseLastResponse {
			t.Errorf("%s client follows redirects", name)
		}
	}
	if follows.CheckRedirect != nil {
		t.Error("the caller's client was changed")
	}
	if tokenClient(follows)().Timeout != time.Second {
		t.Error("the caller's client's other settings were not kept")
	}
	if got := tokenClient(&http.Client{})().Timeout; got != tokenTimeout {
		t.Errorf("a client without a timeout sends token requests bounded by %s; want %s", got, tokenTimeout)
	}
}
