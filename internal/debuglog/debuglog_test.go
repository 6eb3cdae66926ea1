package debuglog

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTraceRedacts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session=cookie-secret-value")
		io.WriteString(w, `{"access_token":"at-secret-value","nested":{"refresh_token":"rt-secret-value"},"list":[{"id_token":"id-secret-value"}],"expires_in":60}`)
	}))
	defer srv.Close()
	var trace strings.Builder
	client := &http.Client{Transport: &Transport{Next: http.DefaultTransport, W: &trace, Now: time.Now}}
	req, _ := http.NewRequest("POST", srv.URL+"/oauth/token?access_token=query-secret-value&page=2",
		strings.NewReader("grant_type=refresh_token&refresh_token=form-secret-value&client_secret=cs-secret-value"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic basic-secret-value")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "at-secret-value") {
		t.Fatal("the trace changed the body handed to the caller")
	}
	out := trace.String()
	for _, secret := range []string{"query-secret-value", "form-secret-value", "cs-secret-value", "basic-secret-value",
		"at-secret-value", "rt-secret-value", "id-secret-value", "cookie-secret-value"} {
		if strings.Contains(out, secret) {
			t.Errorf("the trace shows %s:\n%s", secret, out)
		}
	}
	for _, want := range []string{"page=2", "grant_type=refresh_token", `"expires_in":60`, "Authorization: Basic sha256:", "< 200 OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("the trace lacks %q:\n%s", want, out)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a, b := Fingerprint("token-a"), Fingerprint("token-b")
	if a == b || !strings.HasPrefix(a, "sha256:") || !strings.HasSuffix(a, "len=7") || a != Fingerprint("token-a") {
		t.Errorf("Fingerprint: %q, %q", a, b)
	}
}

// FuzzRedactBody: whatever the body — a form, JSON with the credential's name in any case and
// nested anywhere, malformed JSON, a body past the 4 KiB cut, any content type — no telling
// 8-character piece of a credential reaches the trace, hex credentials included.
func FuzzRedactBody(f *testing.F) {
	f.Add("access_token", "s3cr3t-VALUE-1", "application/json", uint8(0), uint16(0))
	f.Add("Refresh_Token", "s3cr3t-VALUE-2", "application/json;charset=UTF-8", uint8(1), uint16(5000))
	f.Add("code_verifier", "s3cr3t-VALUE-3", "application/x-www-form-urlencoded", uint8(2), uint16(0))
	f.Add("CLIENT_SECRET", "s3cr3t-VALUE-4", "text/plain", uint8(3), uint16(4090))
	f.Add("token", "s3cr3t-VALUE-5", "application/json", uint8(4), uint16(0))
	f.Add("Code", "0000000A", "application/x-www-form-urlencoded", uint8(0), uint16(0)) // JSON sent as a form
	// Hex credentials, the shape of many tokens and secrets, in a form and in JSON.
	f.Add("code_verifier", "3f786850e387550fdab836ed7e6dc881de23001b", "application/x-www-form-urlencoded", uint8(2), uint16(0))
	f.Add("client_secret", "0123456789abcdef0123456789abcdef01234567", "application/json", uint8(0), uint16(0))
	f.Add("password", "deadbeefcafef00d", "application/json", uint8(1), uint16(4070))
	// ownText matches what the trace writes in place of a credential or of a body.
	ownText := regexp.MustCompile(`sha256:[0-9a-f]{8}…, len=[0-9]+|^\([0-9]+ bytes of .*, not shown\)$`)
	f.Fuzz(func(t *testing.T, key, value, ctype string, shape uint8, pad uint16) {
		if !slices.Contains(secretNames(), strings.ToLower(key)) || len(value) < 8 || !utf8.ValidString(value) {
			return
		}
		padding := strings.Repeat("p", int(pad)%6000)
		var body string
		switch shape % 5 {
		case 0: // JSON, also nested in a list
			raw, _ := json.Marshal(map[string]any{key: value, "pad": padding, "nested": []any{map[string]any{key: value}}})
			body = string(raw)
		case 1: // the padding first, so a cut may fall anywhere
			raw, _ := json.Marshal(map[string]any{"a": padding, key: value})
			body = string(raw)
		case 2: // a form
			body = url.Values{key: {value}, "pad": {padding}}.Encode()
		case 3: // malformed JSON
			raw, _ := json.Marshal(map[string]any{key: value, "pad": padding})
			body = string(raw[:len(raw)-1])
		case 4: // a credential where a string is expected to be, as a list
			raw, _ := json.Marshal(map[string]any{key: []string{value}, "pad": padding})
			body = string(raw)
		}
		// The trace's own text is taken out first — fingerprints and the sentence that stands
		// for a body not shown (which names the fuzzed content type) — so that what is left is
		// only the body's structure, its names and the padding, and a piece of the credential
		// made of hex digits cannot hide behind a fingerprint's.
		out := ownText.ReplaceAllString(redactBody([]byte(body), ctype), "")
		structure := key + `{}[]":,&=%+ padnested…(cut)(not shown)`
		for i := 0; i+8 <= len(value); i++ {
			piece := value[i : i+8]
			telling := strings.IndexFunc(piece, func(r rune) bool { return !strings.ContainsRune(structure, r) }) >= 0
			if telling && strings.Contains(out, piece) {
				t.Fatalf("the trace shows %q of the %s: %s", piece, key, out)
			}
		}
	})
}
