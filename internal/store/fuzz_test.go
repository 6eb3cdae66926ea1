package store

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzFileLoad: any bytes in a token file load as a bundle with an access token, or fail cleanly.
func FuzzFileLoad(f *testing.F) {
	f.Add([]byte(`{"access_token":"a","refresh_token":"r","expiry":"2030-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"access_token":""}`))
	f.Add([]byte(`{"expiry":"not a time","access_token":"a"}`))
	f.Add([]byte("\x00\xff"))
	// One folder per fuzzing process, rewritten each time: a folder per input would make the
	// fuzzer measure the file system.
	dir := filepath.Join(f.TempDir(), "tokens")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "local.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := File{Dir: dir}.Load("local")
		if err == nil && b.AccessToken == "" {
			t.Fatal("a bundle without an access token loaded")
		}
	})
}

// FuzzUnseal: no encrypted bundle, however damaged, opens under another environment's name, and
// none panics the reader.
func FuzzUnseal(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	good, err := seal(key, []byte(`{"access_token":"a"}`), "local")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "local")
	f.Add(good, "staging")
	f.Add([]byte(fileMagic), "local")
	f.Add([]byte("garbage"), "local")
	f.Fuzz(func(t *testing.T, sealed []byte, env string) {
		// AES-GCM authenticates every byte and the environment's name: the fuzzer cannot forge
		// a tag, so only bundles sealed for "local" (the seeds) open, and only as "local".
		if _, err := unseal(key, sealed, env); err == nil && env != "local" {
			t.Fatalf("a bundle opened as env %q", env)
		}
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
