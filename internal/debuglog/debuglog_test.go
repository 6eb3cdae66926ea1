package debuglog

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
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

// FuzzRedactBody: whatever a JSON or form body holds, the value of a credential field never
// shows in the trace.
func FuzzRedactBody(f *testing.F) {
	f.Add("access_token", "s3cr3t-value-1", true)
	f.Add("refresh_token", "s3cr3t-value-2", false)
	f.Add("code_verifier", "s3cr3t-value-3", false)
	f.Fuzz(func(t *testing.T, key, value string, asJSON bool) {
		if !secretKeys[key] || len(value) < 8 {
			return
		}
		var body, ctype string
		if asJSON {
			raw, _ := json.Marshal(map[string]any{key: value, "nested": []any{map[string]any{key: value}}})
			body, ctype = string(raw), "application/json"
		} else {
			body, ctype = url.Values{key: {value}, "other": {"x"}}.Encode(), "application/x-www-form-urlencoded"
		}
		out := redactBody([]byte(body), ctype)
		if strings.Contains(out, value) {
			t.Fatalf("the trace shows the %s: %s", key, out)
		}
	})
}
