package grant

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestHostileScopeIsCleanedBeforeStoring: the scope of a token response is the server's text;
// what is stored (and printed by login, status and token --json) holds only RFC 6749 §3.3
// scope-tokens, one space apart.
func TestHostileScopeIsCleanedBeforeStoring(t *testing.T) {
	tests := []struct{ name, scope, want string }{
		{"as granted", "users:read export-jobs:read", "users:read export-jobs:read"},
		{"a newline between scopes", "users:read\nexport-jobs:read", "users:read export-jobs:read"},
		{"an OSC 52 sequence", "users:read \x1b]52;c;ZXZpbA==\a", "users:read"},
		{"a bidi override", "users:read \u202eetirw:sresu", "users:read"},
		{"none: the requested ones", "", "users:read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer := func(string) (*oauth2.Token, error) {
				tok := &oauth2.Token{AccessToken: "a2", RefreshToken: "r2", TokenType: "bearer", ExpiresIn: 900}
				return tok.WithExtra(map[string]any{"scope": tt.scope}), nil
			}
			f := newFixture(t, &memStore{b: bundle("a1", "r1", 0)}, answer)
			if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
				t.Fatal(err)
			}
			if got := f.st.stored().Scope; got != tt.want {
				t.Errorf("stored scope %q; want %q", got, tt.want)
			}
		})
	}
}

// TestOnlyASubjectURNIsRecorded: the subject the API names is stored only when it is
// urn:pleo:<kind>:<uuid>; anything else is refused, and the refusal shows it escaped.
func TestOnlyASubjectURNIsRecorded(t *testing.T) {
	const good = "urn:pleo:company:3f2c6d1e-0b7a-4c1e-9a55-6f0e2d8b9c41"
	tests := []struct {
		subject string
		ok      bool
	}{
		{good, true},
		{"urn:pleo:company:\x1b]52;c;ZXZpbA==\a", false},
		{good + "\nsubject: urn:pleo:company:forged", false},
		{"urn:pleo:company:\u202e14c9b8d2e0f6-55a9-e1c4-a7b0-e1d6c2f3", false},
	}
	for _, tt := range tests {
		f := newFixture(t, &memStore{b: bundle("a1", "r1", time.Hour)})
		err := f.g.RecordSubject(context.Background(), tt.subject)
		got := f.st.stored().Subject
		if tt.ok {
			if err != nil || got != tt.subject {
				t.Errorf("RecordSubject(%q) = %v, stored %q; want it stored", tt.subject, err, got)
			}
			continue
		}
		if !errors.Is(err, ErrNotSubject) || got != "" {
			t.Errorf("RecordSubject(%q) = %v, stored %q; want ErrNotSubject and nothing stored", tt.subject, err, got)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\x1b\a\n\u202e") {
			t.Errorf("RecordSubject(%q): the error shows the subject raw: %q", tt.subject, err)
		}
	}
}
