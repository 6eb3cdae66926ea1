package store

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// FuzzFileLoad: the file store is a round trip — any bundle it saves loads back equal, and any
// file that loads, saved again, loads back equal — and no bytes in a token file panic it.
func FuzzFileLoad(f *testing.F) {
	f.Add([]byte(`{"access_token":"a","refresh_token":"r","expiry":"2030-01-01T00:00:00Z"}`), "a", "r", "bearer", "users:read", "urn:pleo:company:1", int64(1900000000), "")
	f.Add([]byte(`{"access_token":"a","refused":{"at":"2030-01-01T00:00:00Z","reason":"invalid_grant"},"spent":{"id":"x","grant":"refresh_token","pid":3}}`), "a.b-c~", "", "", "", "", int64(-5), "seed")
	f.Add([]byte(`{"access_token":""}`), "", "r", "", "", "", int64(0), "")
	f.Add([]byte(`{"expiry":"not a time","access_token":"a"}`), "a b", "r", "", "", "", int64(0), "")
	f.Add([]byte("\x00\xff"), "a", "\xff", "", "", "", int64(1), "")
	// One folder per fuzzing process, rewritten each time: a folder per input would make the
	// fuzzer measure the file system.
	dir := filepath.Join(f.TempDir(), "tokens")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		f.Fatal(err)
	}
	store := File{Dir: dir}
	f.Fuzz(func(t *testing.T, data []byte, access, refresh, tokenType, scope, subject string, expiry int64, seed string) {
		// Any bundle saved loads back equal. Strings that are not UTF-8 are JSON-encoded as
		// U+FFFD, so the bundle compared is the one JSON can hold.
		saved := &Bundle{AccessToken: access, RefreshToken: refresh, TokenType: tokenType, Scope: scope,
			Subject: subject, Seed: seed, Expiry: time.Unix(expiry%(1<<35), 0).UTC()}
		if saved.check() == nil {
			if err := store.Save("local", saved); err != nil {
				t.Fatalf("Save(%+v) = %v", saved, err)
			}
			want := jsonRoundTrip(t, saved)
			got, err := store.Load("local")
			if err != nil {
				t.Fatalf("Load after Save(%+v) = %v", saved, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("saved %+v; loaded %+v", want, got)
			}
		} else if err := store.Save("local", saved); err == nil {
			t.Fatalf("Save(%+v) accepted a bundle its check refuses", saved)
		}

		// Any file that loads, saved again, loads back equal.
		if err := os.WriteFile(filepath.Join(dir, "local.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		first, err := store.Load("local")
		if err != nil {
			return
		}
		if err := store.Save("local", first); err != nil {
			t.Fatalf("%q loads as %+v, which does not save: %v", data, first, err)
		}
		again, err := store.Load("local")
		if err != nil || !reflect.DeepEqual(again, first) {
			t.Fatalf("%q loads as %+v; saved and loaded again: %+v, %v", data, first, again, err)
		}
	})
}

// jsonRoundTrip is b as JSON holds it.
func jsonRoundTrip(t *testing.T, b *Bundle) *Bundle {
	t.Helper()
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var out Bundle
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// FuzzUnseal: sealing is a round trip — a bundle sealed for an environment opens under the same
// key and environment as the same bytes, and under any other key, any other environment's name
// (the authenticated data), or with any one byte flipped, it does not open; and no bytes at all
// panic the reader.
func FuzzUnseal(f *testing.F) {
	f.Add([]byte(`{"access_token":"a","refresh_token":"r"}`), "local", "staging", byte(7), uint(0), []byte("garbage"))
	f.Add([]byte(`{"access_token":"a"}`), "staging", "staging@ci", byte(0), uint(40), []byte(fileMagic))
	f.Add([]byte{}, "", "local", byte(255), uint(1<<20), []byte{})
	f.Fuzz(func(t *testing.T, plain []byte, env, otherEnv string, keyByte byte, flip uint, junk []byte) {
		key := bytes.Repeat([]byte{keyByte}, 32)
		key[31] ^= 0x5a
		sealed, err := seal(key, plain, env)
		if err != nil {
			t.Fatal(err)
		}
		opened, err := unseal(key, sealed, env)
		if err != nil || !bytes.Equal(opened, plain) {
			t.Fatalf("sealed for %q under its key, opened as %q, %v; want %q", env, opened, err, plain)
		}
		otherKey := bytes.Clone(key)
		otherKey[int(flip)%len(otherKey)] ^= 1
		if _, err := unseal(otherKey, sealed, env); err == nil {
			t.Fatal("a bundle opened under another key")
		}
		if otherEnv != env {
			if _, err := unseal(key, sealed, otherEnv); err == nil {
				t.Fatalf("a bundle sealed for env %q opened as env %q", env, otherEnv)
			}
		}
		damaged := bytes.Clone(sealed)
		damaged[int(flip%uint(len(damaged)))] ^= 1 << (flip % 8)
		if _, err := unseal(key, damaged, env); err == nil {
			t.Fatalf("a bundle with byte %d flipped opened", int(flip%uint(len(damaged))))
		}
		_, _ = unseal(key, junk, env) // any bytes: an error, never a panic
	})
}

// FuzzDecodeMatchesUnmarshal: the bundle decoder gives json.Unmarshal's answer for any input —
// the same bundle when both accept, and a refusal when json.Unmarshal refuses. (A bare "null",
// which json.Unmarshal takes as nothing to do, the decoder refuses: a bundle without an access
// token is refused either way.)
func FuzzDecodeMatchesUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"a","refresh_token":"r","token_type":"bearer","scope":"s","expiry":"2030-01-01T00:00:00Z","obtained_at":"2029-01-01T00:00:00.5Z","subject":"urn:pleo:company:1"}`,
		`{"access_token":"a","refused":{"at":"2030-01-01T00:00:00Z","reason":"invalid_grant"}}`,
		`{"access_token":"a","refused":{"at":"2030-01-01T00:00:00Z"},"refused":{"reason":"r"}}`,
		`{"ACCESS_TOKEN":"a","access_token":"b","unknown":[1,{"x":null}],"Expiry":null}`,
		`{"access_token":"a","refused":null,"subject":5}`,
		`{"access_token":"a"} x`, `{"access_token":"a",}`, `[]`, `null`, `{"expiry":"2030-01-01"}`,
		`{"acceſs_token":"a"}`, `{"access_token":"\u0041\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want Bundle
		gotErr := unmarshalBundle(data, &got)
		wantErr := json.Unmarshal(data, &want)
		switch {
		case wantErr != nil && gotErr == nil:
			t.Fatalf("json.Unmarshal refuses %q (%v); the decoder accepts it", data, wantErr)
		case wantErr == nil && gotErr != nil && !bytes.Equal(bytes.TrimSpace(data), []byte("null")):
			t.Fatalf("json.Unmarshal accepts %q; the decoder refuses it (%v)", data, gotErr)
		case wantErr == nil && gotErr == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("%q decodes as %+v; json.Unmarshal gives %+v", data, got, want)
		}
	})
}
