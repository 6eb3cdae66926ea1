package grant

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

// TestImportReplaces: an import replaces a working login only when told to (--force); a login
// that is missing, refused by the server, or only an earlier attempt's spend with no tokens is
// replaced without being told, as nothing in it is worth keeping (replaceable).
func TestImportReplaces(t *testing.T) {
	refused := func() *store.Bundle {
		b := bundle("a1", "r1", 0)
		b.Refused = &store.Refusal{At: t0, Reason: "invalid_grant"}
		return b
	}
	spentOnly := func() *store.Bundle {
		return &store.Bundle{RefreshToken: "r0", Spent: &store.Spend{ID: "s1", Grant: store.SpendImport, Host: "host-a", PID: 1 << 30, At: t0}}
	}
	spentWorking := func() *store.Bundle {
		b := bundle("a1", "r1", time.Hour)
		b.Spent = &store.Spend{ID: "s1", Grant: store.SpendRefresh, Host: "host-a", PID: 1 << 30, At: t0}
		return b
	}
	tests := []struct {
		name     string
		stored   *store.Bundle
		replace  bool
		imported bool // else refused with a LoginExistsError, a usage error
	}{
		{"no login", nil, false, true},
		{"no login, --force", nil, true, true},
		{"a working login", bundle("a1", "r1", time.Hour), false, false},
		{"a working login, --force", bundle("a1", "r1", time.Hour), true, true},
		{"an expired login still holds a refresh token", bundle("a1", "r1", -time.Hour), false, false},
		{"a refused login", refused(), false, true},
		{"a refused login, --force", refused(), true, true},
		{"only an earlier attempt's spend", spentOnly(), false, true},
		{"a working login whose refresh is unsaved", spentWorking(), false, false},
		{"a working login whose refresh is unsaved, --force", spentWorking(), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{b: tt.stored}
			f := newFixture(t, st, issued("a9", "r9", 900))
			_, err := f.g.Import(context.Background(), "imported", tt.replace)
			got := st.stored()
			if tt.imported {
				if err != nil {
					t.Fatalf("Import(replace %t) = %v; want the login replaced", tt.replace, err)
				}
				if got == nil || got.AccessToken != "a9" || got.RefreshToken != "r9" || got.Refused != nil || got.Spent != nil {
					t.Errorf("store %+v; want the imported login", got)
				}
				if len(f.presented) != 1 || f.presented[0] != "imported" {
					t.Errorf("refresh tokens sent %q; want only the imported one", f.presented)
				}
				return
			}
			var exists *LoginExistsError
			if !errors.As(err, &exists) || failure.KindOf(err) != failure.Usage || err.Error() != "env staging already holds a login; importing would replace it" {
				t.Fatalf("Import(replace %t) = %v (kind %v); want a LoginExistsError, a usage error", tt.replace, err, failure.KindOf(err))
			}
			if len(f.presented) != 0 {
				t.Errorf("refresh tokens sent %q; want none", f.presented)
			}
			if got == nil || *got != *tt.stored {
				t.Errorf("store %+v; want the login unchanged", got)
			}
		})
	}
}
