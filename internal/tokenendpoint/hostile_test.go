package tokenendpoint

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHostileErrorIsCleaned: an error response's code, description and content type come from
// the server; the message and the reason that a refusal is stored with show every control
// character as an escape, stay on one line, and close the brackets a cut left open.
func TestHostileErrorIsCleaned(t *testing.T) {
	tests := []struct {
		name, code, description, contentType string
		wantReason                           string
		wantInError                          []string
	}{
		{
			name: "OSC 52 and a newline in the description", code: "invalid_grant",
			description: "token revoked\n\x1b]52;c;ZXZpbA==\a", contentType: "application/json",
			wantReason:  `invalid_grant: token revoked\n\x1b]52;c;ZXZpbA==\x07`,
			wantInError: []string{`(token revoked\n\x1b]52;c;ZXZpbA==\x07)`},
		},
		{
			name: "a long description: the aside goes, the rest is cut at a word", code: "invalid_grant",
			description: "The refresh token is invalid (it was revoked, it expired, or it was already used by another client) and cannot be used",
			contentType: "application/json",
			wantReason:  "invalid_grant: The refresh token is invalid and…",
		},
		{
			name: "bidi override and C1 control in the code", code: "invalid_grant\u202e\u009b2J",
			contentType: "application/json",
			wantReason:  `invalid_grant\u202e\u009b2J`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := refresh(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": tt.code, "error_description": tt.description})
			}, 5*time.Second)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v; want *Error", err)
			}
			if got := e.Reason(); got != tt.wantReason {
				t.Errorf("Reason() = %q; want %q", got, tt.wantReason)
			}
			msg := e.Error()
			for _, raw := range []string{"\x1b", "\a", "\n", "\u202e", "\u009b"} {
				if strings.Contains(msg, raw) || strings.Contains(e.Reason(), raw) {
					t.Errorf("%q reaches the message raw: %q", raw, msg)
				}
			}
			for _, w := range tt.wantInError {
				if !strings.Contains(msg, w) {
					t.Errorf("Error() = %q; want it to contain %q", msg, w)
				}
			}
		})
	}
}
