package serve

import (
	"net/http"
	"testing"
)

// TestAuthorizationForms: only "Bearer <key>" opens serve, the scheme in any case (RFC 6750
// §2.1); the bare key, another scheme, or the key with anything around it is a wrong key.
func TestAuthorizationForms(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		ok           bool
	}{
		{"Bearer key", "Bearer " + testKey, true},
		{"lower-case scheme", "bearer " + testKey, true},
		{"upper-case scheme", "BEARER " + testKey, true},
		{"bare key", testKey, false},
		{"Basic key", "Basic " + testKey, false},
		{"double space", "Bearer  " + testKey, false},
		{"tab", "Bearer\t" + testKey, false},
		{"trailing word", "Bearer " + testKey + " trailing", false},
		{"trailing space", "Bearer " + testKey + " ", false},
		{"scheme glued to key", "Bearer" + testKey, false},
		{"key prefix", "Bearer " + testKey[:len(testKey)-1], false},
		{"scheme only", "Bearer", false},
		{"scheme and space", "Bearer ", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			w := f.do("/token", func(r *http.Request) { r.Header.Set("Authorization", tc.header) })
			if tc.ok && w.Code != http.StatusOK {
				t.Fatalf("Authorization %q: %d %q; want 200", tc.header, w.Code, w.Body.String())
			}
			if !tc.ok && (w.Code != http.StatusUnauthorized || errorCode(t, w) != "invalid_key") {
				t.Fatalf("Authorization %q: %d %q; want 401 invalid_key", tc.header, w.Code, w.Body.String())
			}
		})
	}
}
