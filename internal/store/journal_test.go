package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// TestJournalRoundTrip: each store's journal key seals an entry that reads back whole, and
// (for the sealed stores) only under the key that sealed it, and never as a bundle.
func TestJournalRoundTrip(t *testing.T) {
	dir := t.TempDir()
	kc := &fakeKeychain{}
	other := &fakeKeychain{}
	keyA := make([]byte, 32)
	keyB := make([]byte, 32)
	keyB[0] = 1
	type keyed interface {
		JournalKey(string) (JournalKey, error)
	}
	tests := []struct {
		name   string
		st     keyed
		wrong  keyed // a store with another key; nil when entries are plain
		sealed bool
	}{
		{"file", File{Dir: dir}, nil, false},
		{"keyring", Keyring{Dir: dir, Scope: dir, Keychain: kc}, Keyring{Dir: dir, Scope: dir, Keychain: other}, true},
		{"redis", &Redis{Key: keyA}, &Redis{Key: keyB}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := Journal{Dir: filepath.Join(t.TempDir(), "journal")}
			key, err := tt.st.JournalKey("local")
			if err != nil {
				t.Fatal(err)
			}
			want := &JournalEntry{Answers: "spend-1", Bundle: &Bundle{AccessToken: "a2", RefreshToken: "r2", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}
			if j.Holds("local") {
				t.Fatal("an empty journal holds an entry")
			}
			if err := j.Write("local", key, want); err != nil {
				t.Fatal(err)
			}
			if !j.Holds("local") || !j.Waiting("local") {
				t.Fatal("the journal does not hold the entry written")
			}
			if j.Holds("other") || j.Waiting("other") || j.Holds("../local") || j.Waiting("../local") {
				t.Error("the journal holds an entry for a login that has none")
			}
			fi, err := os.Stat(filepath.Join(j.Dir, "local"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("journal file mode %v, %v; want 0600", fi.Mode(), err)
			}
			got, err := j.Read("local", key)
			if err != nil || got.Answers != want.Answers || *got.Bundle != *want.Bundle {
				t.Fatalf("Read = %+v, %v; want %+v", got, err, want)
			}
			raw, _ := os.ReadFile(filepath.Join(j.Dir, "local"))
			if tt.sealed && json.Valid(raw) {
				t.Error("a sealed store's journal entry is plain JSON")
			}
			if tt.wrong != nil {
				wrongKey, _ := tt.wrong.JournalKey("local")
				var corrupt *CorruptError
				if _, err := j.Read("local", wrongKey); !errors.As(err, &corrupt) {
					t.Errorf("Read under another key = %v; want a CorruptError", err)
				}
			}
			if _, err := j.Read("other", key); !errors.Is(err, ErrNotFound) {
				t.Errorf("Read of a login with no entry = %v; want ErrNotFound", err)
			}
			if err := j.Remove("local"); err != nil || j.Holds("local") || j.Waiting("local") {
				t.Errorf("Remove = %v, still held %v", err, j.Holds("local"))
			}
			if err := j.Remove("local"); err != nil {
				t.Errorf("Remove of an entry already removed = %v; want nil", err)
			}
		})
	}
}

// TestJournalEntryIsNoBundle: a keyring journal entry put where the bundle goes does not open.
func TestJournalEntryIsNoBundle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	k := Keyring{Dir: dir, Scope: dir, Keychain: &fakeKeychain{}}
	if err := k.Save("local", &Bundle{AccessToken: "a1"}); err != nil {
		t.Fatal(err)
	}
	key, _ := k.JournalKey("local")
	j := Journal{Dir: filepath.Join(dir, "journal")}
	if err := j.Write("local", key, &JournalEntry{Answers: "s", Bundle: &Bundle{AccessToken: "a2"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(j.Dir, "local"), filepath.Join(dir, "local.enc")); err != nil {
		t.Fatal(err)
	}
	var corrupt *CorruptError
	if _, err := k.Load("local"); !errors.As(err, &corrupt) {
		t.Errorf("Load of a journal entry in the bundle's place = %v; want a CorruptError", err)
	}
}

// TestRollForward: which temporary file a crashed writer left is taken up by the next holder
// of the lock. A spend record still in a temporary file was never sent (a spend is sent only
// once its record is in place), so it is dropped while the bundle in place opens.
func TestRollForward(t *testing.T) {
	answer := &Bundle{AccessToken: "a2", RefreshToken: "r2"}
	spend := &Bundle{AccessToken: "a1", RefreshToken: "r1", Spent: &Spend{ID: "s", Grant: SpendRefresh}}
	// A new login's record of its code, written over a working login: it holds no tokens yet.
	loginSpend := &Bundle{Spent: &Spend{ID: "c", Grant: SpendCode}, Replacing: &Spend{ID: "c", Grant: SpendCode}}
	tests := []struct {
		name     string
		leftover *Bundle
		torn     bool   // the bundle in place does not open
		want     string // access token after
	}{
		{"an answer is finished", answer, false, "a2"},
		{"a spend record not yet in place is dropped", spend, false, "a1"},
		{"a login's spend record not yet in place leaves the login in place", loginSpend, false, "a1"},
		{"a spend record over a torn bundle is taken without its spend", spend, true, "a1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := File{Dir: filepath.Join(t.TempDir(), "tokens")}
			if err := f.Save("local", &Bundle{AccessToken: "a1", RefreshToken: "r1"}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(f.Dir, "local.json")
			if tt.torn {
				if err := os.WriteFile(path, []byte(`{"access_tok`), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			data, _ := json.Marshal(tt.leftover)
			if err := os.WriteFile(filepath.Join(f.Dir, ".local.json.tmp-123"), data, 0o600); err != nil {
				t.Fatal(err)
			}
			if !f.Pending("local") {
				t.Fatal("the leftover is not seen as pending")
			}
			if _, err := f.Recover("local"); err != nil {
				t.Fatal(err)
			}
			got, err := f.Load("local")
			if err != nil || got.AccessToken != tt.want {
				t.Fatalf("after Recover: %+v, %v; want %s", got, err, tt.want)
			}
			if got.Spent != nil {
				t.Error("a spend never sent was taken up")
			}
			if f.Pending("local") {
				t.Error("leftovers remain after Recover")
			}
		})
	}
}

// TestJournalLeftoverIsTakenUp: a writer killed after its journal entry's temporary file was
// synced and before the rename left an answer: Holds sees it and Read puts it in place; an
// older entry in place loses to it.
func TestJournalLeftoverIsTakenUp(t *testing.T) {
	j := Journal{Dir: filepath.Join(t.TempDir(), "journal")}
	key, _ := File{}.JournalKey("local")
	if err := j.Write("local", key, &JournalEntry{Answers: "old", Bundle: &Bundle{AccessToken: "a1"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(j.Dir, "local")); err != nil {
		t.Fatal(err)
	}
	if j.Holds("local") {
		t.Fatal("an empty journal holds an entry")
	}
	newer, _ := json.Marshal(&JournalEntry{Answers: "new", Bundle: &Bundle{AccessToken: "a2"}})
	older, _ := json.Marshal(&JournalEntry{Answers: "older", Bundle: &Bundle{AccessToken: "a0"}})
	for i, data := range [][]byte{older, newer} {
		f := filepath.Join(j.Dir, ".local.tmp-"+string(rune('a'+i)))
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// The newer one last, by a clear margin.
		mt := time.Now().Add(time.Duration(i-2) * time.Minute)
		if err := os.Chtimes(f, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	if !j.Holds("local") {
		t.Fatal("a journal entry left in a temporary file is not seen")
	}
	if j.Waiting("local") {
		t.Error("Waiting = true for an entry still in a temporary file; want only a whole entry in place")
	}
	e, err := j.Read("local", key)
	if err != nil || e.Answers != "new" || e.Bundle.AccessToken != "a2" {
		t.Fatalf("Read = %+v, %v; want the newest leftover", e, err)
	}
	if left := privatefile.Leftovers(filepath.Join(j.Dir, "local")); len(left) > 0 {
		t.Errorf("leftovers remain: %v", left)
	}
}

// TestSpendRecordsRoundTrip: a bundle that records a spend — with tokens, or holding only the
// spend (a login's code, a seed) — is saved and read back whole by each file store; a bundle
// with neither an access token nor a spend is refused both ways.
func TestSpendRecordsRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	spend := &Spend{ID: "id1", Grant: SpendRefresh, Host: "host-a", PID: 42, Home: "/h", At: at, Lost: true}
	dir := t.TempDir()
	for name, st := range map[string]interface {
		Load(string) (*Bundle, error)
		Save(string, *Bundle) error
	}{
		"file":    File{Dir: filepath.Join(dir, "file")},
		"keyring": Keyring{Dir: filepath.Join(dir, "keyring"), Scope: dir, Keychain: &fakeKeychain{}},
	} {
		for _, want := range []*Bundle{
			{AccessToken: "a1", RefreshToken: "r1", Spent: spend, Seed: TokenHash("s"), Replacing: &Spend{ID: "id2", Grant: SpendCode}},
			{RefreshToken: "seed", Spent: spend},
			{Spent: &Spend{ID: "id3", Grant: SpendCode}},
		} {
			if err := st.Save("local", want); err != nil {
				t.Fatalf("%s: Save(%+v) = %v", name, want, err)
			}
			got, err := st.Load("local")
			if err != nil || got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken || got.Seed != want.Seed ||
				got.Spent == nil || *got.Spent != *want.Spent || (want.Replacing != nil) != (got.Replacing != nil) {
				t.Errorf("%s: Load = %+v, %v; want %+v", name, got, err, want)
			}
		}
		if err := st.Save("local", &Bundle{RefreshToken: "r"}); err == nil {
			t.Errorf("%s: a bundle with neither an access token nor a spend was saved", name)
		}
	}
	f := File{Dir: filepath.Join(dir, "file")}
	if err := os.WriteFile(filepath.Join(f.Dir, "local.json"), []byte(`{"refresh_token":"r"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var corrupt *CorruptError
	if _, err := f.Load("local"); !errors.As(err, &corrupt) {
		t.Errorf("Load of a bundle with neither an access token nor a spend = %v; want a CorruptError", err)
	}
}

// TestSpentList: a hash added twice is listed once, removed on demand, the list is bounded
// and kept per environment.
func TestSpentList(t *testing.T) {
	s := Spent{Dir: filepath.Join(t.TempDir(), "journal")}
	for range 2 {
		if err := s.Add("local", TokenHash("s1")); err != nil {
			t.Fatal(err)
		}
	}
	if !s.Holds("local", TokenHash("s1")) || s.Holds("local", TokenHash("s2")) || s.Holds("other", TokenHash("s1")) {
		t.Error("Holds answers for the wrong token or environment")
	}
	data, _ := os.ReadFile(filepath.Join(s.Dir, "local+spent"))
	if n := strings.Count(string(data), TokenHash("s1")); n != 1 {
		t.Errorf("the hash is listed %d times; want once", n)
	}
	if fi, err := os.Stat(filepath.Join(s.Dir, "local+spent")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the list's mode: %v, %v; want 0600", fi.Mode(), err)
	}
	if err := s.Remove("local", TokenHash("s1")); err != nil || s.Holds("local", TokenHash("s1")) {
		t.Errorf("Remove = %v; still held %v", err, s.Holds("local", TokenHash("s1")))
	}
	// A full list (as a thousand refreshes leave it, written at once: a thousand synced
	// writes would make the test measure the disk) loses its oldest hash to the next one.
	full := make([]string, MaxSpent)
	for i := range full {
		full[i] = TokenHash(fmt.Sprint(i))
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "local+spent"), []byte(strings.Join(full, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("local", TokenHash("newest")); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(filepath.Join(s.Dir, "local+spent"))
	if n := len(strings.Fields(string(data))); n != MaxSpent {
		t.Errorf("the list holds %d hashes; want MaxSpent, %d", n, MaxSpent)
	}
	if s.Holds("local", TokenHash("0")) || !s.Holds("local", TokenHash("1")) || !s.Holds("local", TokenHash("newest")) {
		t.Error("the list does not keep the newest MaxSpent")
	}
}
