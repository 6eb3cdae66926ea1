package authcode

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestS256Vector is RFC 7636 Appendix B: the challenge pleoauth sends for a known verifier.
func TestS256Vector(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const want = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if got := oauth2.S256ChallengeFromVerifier(verifier); got != want {
		t.Errorf("S256(%q) = %q; want %q", verifier, got, want)
	}
	if err := CheckVerifier(verifier); err != nil {
		t.Errorf("the RFC's verifier is refused: %v", err)
	}
}

func TestNewVerifierAndState(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		v, s := NewVerifier(), NewState()
		if err := CheckVerifier(v); err != nil {
			t.Fatalf("NewVerifier() = %q: %v", v, err)
		}
		if len(v) < 43 || len(s) < 43 { // 32 bytes = 256 bits in base64url
			t.Fatalf("verifier %q or state %q shorter than 256 bits", v, s)
		}
		if seen[v] || seen[s] {
			t.Fatal("a verifier or state repeated")
		}
		seen[v], seen[s] = true, true
	}
}

func TestCheckVerifier(t *testing.T) {
	tests := []struct {
		v    string
		want string // "" for accepted
	}{
		{strings.Repeat("a", 43), ""},
		{strings.Repeat("Z9-._~", 21) + "ab", ""}, // 128
		{strings.Repeat("a", 42), "42 characters"},
		{strings.Repeat("a", 129), "129 characters"},
		{strings.Repeat("a", 42) + "+", `'+' at position 43`},
		{strings.Repeat("a", 42) + "é", "position 43"},
		{strings.Repeat("a", 50) + " ", "position 51"},
	}
	for _, tt := range tests {
		err := CheckVerifier(tt.v)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckVerifier(%q) = %v; want nil", tt.v, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckVerifier(%q) = %v; want error containing %q", tt.v, err, tt.want)
		}
	}
}

func TestCheckCallback(t *testing.T) {
	const state = "the-state-of-this-login"
	tests := []struct {
		name     string
		query    string
		wantCode string
		wantErr  string
	}{
		{"code", "code=abc&state=" + state, "abc", ""},
		{"wrong state", "code=abc&state=other", "", "state does not match"},
		{"no state", "code=abc", "", "state does not match"},
		{"error before state check", "error=access_denied&state=other", "", "state does not match"},
		{"denied", "error=access_denied&error_description=User+said+no&state=" + state, "", "access_denied (User said no)"},
		{"description with control characters", "error=x&error_description=a%1b%5B2Jb%0Ac&state=" + state, "", `x (a\x1b[2Jb\nc)`},
		{"no code", "state=" + state, "", "no authorization code"},
		{"empty code", "code=&state=" + state, "", "no authorization code"},
		{"two codes", "code=a&code=b&state=" + state, "", "carries code more than once, which RFC 6749 §3.1 forbids"},
		{"two states, the first this login's", "code=abc&state=" + state + "&state=zzz", "", "carries state more than once"},
		{"two states, the second this login's", "code=abc&state=zzz&state=" + state, "", "carries state more than once"},
		{"the same state twice", "code=abc&state=" + state + "&state=" + state, "", "carries state more than once"},
		{"two issuers", "code=abc&iss=https%3A%2F%2Fauth.example&iss=https%3A%2F%2Fevil.example&state=" + state, "", "carries iss more than once"},
		{"two errors", "error=a&error=b&state=" + state, "", "carries error more than once"},
		{"two codes with another state", "code=a&code=b&state=other", "", "state does not match"},
		{"other parameters may repeat", "code=abc&x=1&x=2&state=" + state, "abc", ""},
		{"same issuer", "code=abc&iss=https%3A%2F%2Fauth.example%2F&state=" + state, "abc", ""},
		{"other issuer", "code=abc&iss=https%3A%2F%2Fevil.example&state=" + state, "", `names issuer "https://evil.example"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			code, err := CheckCallback(q, state, "https://auth.example")
			if code != tt.wantCode {
				t.Errorf("code = %q; want %q", code, tt.wantCode)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v; want one containing %q", err, tt.wantErr)
			}
		})
	}
	var denied *DeniedError
	_, err := CheckCallback(url.Values{"error": {"access_denied"}, "state": {state}}, state, "")
	if !errors.As(err, &denied) || denied.Code != "access_denied" {
		t.Errorf("err = %#v; want *DeniedError with access_denied", err)
	}
}

// FuzzCheckCallback: no callback query, however malformed, panics or yields a code without the
// right state.
// FuzzCheckCallback: with an issuer known (RFC 9207), a callback is accepted only with this
// login's state, one code, and no other issuer, with no parameter that decides it repeated; a
// wrong, missing or repeated state is always the state-mismatch error, which is what keeps the
// login waiting instead of ending it.
func FuzzCheckCallback(f *testing.F) {
	f.Add("code=abc&state=s")
	f.Add("code=abc&state=s&iss=https%3A%2F%2Fauth.example")
	f.Add("code=abc&state=s&iss=https%3A%2F%2Fauth.example%2F")
	f.Add("error=access_denied&error_description=%3Cscript%3E&state=s")
	f.Add("code=a&code=b&state=s")
	f.Add("%zz&state=s")
	f.Add("code=abc&state=wrong")
	f.Add("code=abc")
	f.Add("error=access_denied&state=S")
	f.Add("code=abc&state=s&state=t")
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		code, err := CheckCallback(q, "s", "https://auth.example")
		if (q.Get("state") != "s" || len(q["state"]) > 1) && !errors.Is(err, ErrStateMismatch) {
			t.Fatalf("%q with another state: %v; want the state-mismatch error", raw, err)
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a message of more than one line: %q", err)
			}
			return
		}
		iss := strings.TrimRight(q.Get("iss"), "/")
		repeated := len(q["state"]) > 1 || len(q["code"]) > 1 || len(q["iss"]) > 1 || len(q["error"]) > 1
		if code == "" || repeated || (iss != "" && iss != "https://auth.example") {
			t.Fatalf("accepted %q: code %q", raw, code)
		}
	})
}

func TestParsePasted(t *testing.T) {
	redirect, _ := url.Parse("http://localhost:8765/callback")
	tests := []struct {
		in, wantCode, wantErr string
	}{
		{"http://localhost:8765/callback?code=abc&state=s", "abc", ""},
		{"  http://localhost:8765/callback?code=abc&state=s  ", "abc", ""},
		{"?code=abc&state=s", "abc", ""},
		{"code=abc&state=s", "abc", ""},
		{`"http://localhost:8765/callback?code=abc&state=s"`, "abc", ""},
		{" 'http://localhost:8765/callback?code=abc&state=s' ", "abc", ""},
		{"<http://localhost:8765/callback?code=abc&state=s>", "abc", ""},
		{"< http://localhost:8765/callback?code=abc&state=s >", "abc", ""},
		{`"code=abc&state=s"`, "abc", ""},
		{"abc", "", "not only the code"},
		{"http://127.0.0.1:8765/callback?code=abc&state=s", "", "not the registered redirect URI"},
	}
	for _, tt := range tests {
		q, err := ParsePasted(tt.in, redirect)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePasted(%q) = %v; want error %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || q.Get("code") != tt.wantCode {
			t.Errorf("ParsePasted(%q) = %v, %v", tt.in, q, err)
		}
	}
}

// TestCheckPasted: a pasted address is checked as a received redirect is — state first, then
// the issuer (RFC 9207), then the server's error or the code — after its address was matched
// with the registered redirect URI. What is not this login's redirect can be pasted again;
// what came with this login's state decides it.
func TestCheckPasted(t *testing.T) {
	const postman = "https://oauth.pstmn.io/v1/callback"
	redirect, _ := url.Parse(postman)
	tests := []struct {
		name      string
		pasted    string
		wantCode  string
		wantAgain bool
		wantErr   string
	}{
		{"the redirect", postman + "?code=abc&state=s", "abc", false, ""},
		{"with iss", postman + "?code=abc&state=s&iss=https%3A%2F%2Fauth.example", "abc", false, ""},
		{"host in capitals and the default port", "https://OAUTH.pstmn.io:443/v1/callback?code=abc&state=s", "abc", false, ""},
		{"in quotes", `"` + postman + `?code=abc&state=s"`, "abc", false, ""},
		{"in single quotes", `'` + postman + `?code=abc&state=s'`, "abc", false, ""},
		{"in angle brackets", "<" + postman + "?code=abc&state=s>", "abc", false, ""},
		{"only the query", "?code=abc&state=s", "", true, "paste the whole address your browser ends on, starting with " + postman},
		{"only the query, no question mark", "code=abc&state=s", "", true, "starting with " + postman},
		{"two states", postman + "?code=abc&state=s&state=zzz", "", true, "carries state more than once"},
		{"two codes", postman + "?code=a&code=b&state=s", "", false, "carries code more than once"},
		{"wrong host", "https://evil.example/v1/callback?code=abc&state=s", "", true, "https://evil.example/v1/callback is not the registered redirect URI " + postman},
		{"wrong path", "https://oauth.pstmn.io/v1/browser-callback?code=abc&state=s", "", true, "not the registered redirect URI"},
		{"wrong scheme", "http://oauth.pstmn.io/v1/callback?code=abc&state=s", "", true, "not the registered redirect URI"},
		{"wrong port", "https://oauth.pstmn.io:8443/v1/callback?code=abc&state=s", "", true, "not the registered redirect URI"},
		{"the login URL itself", "https://auth.example/oauth/authorize?client_id=c&state=s", "", true, "not the registered redirect URI"},
		{"address without its query", postman, "", true, "carries no code and state"},
		{"a bare code", "abc", "", true, "not only part of it"},
		{"quotes that do not match", `"` + postman + `?code=abc&state=s'`, "", true, "paste the whole address"},
		{"two pairs of quotes", `""` + postman + `?code=abc&state=s""`, "", true, "paste the whole address"},
		{"wrong state", postman + "?code=abc&state=tampered", "", true, "state does not match"},
		{"no state", postman + "?code=abc", "", true, "state does not match"},
		{"error with another state", postman + "?error=access_denied&state=tampered", "", true, "state does not match"},
		{"cut before the code", postman + "?state=s", "", true, "no authorization code"},
		{"refused", postman + "?error=access_denied&error_description=User+said+no&state=s", "", false, "access_denied (User said no)"},
		{"another issuer", postman + "?code=abc&state=s&iss=https%3A%2F%2Fevil.example", "", false, `names issuer "https://evil.example"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, again, err := checkPasted(tt.pasted, redirect, "s", "https://auth.example")
			if code != tt.wantCode || again != tt.wantAgain {
				t.Errorf("checkPasted(%q) = code %q, again %v; want %q, %v", tt.pasted, code, again, tt.wantCode, tt.wantAgain)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v; want one containing %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("a message of more than one line: %q", err)
			}
		})
	}
}

// FuzzParsePasted: whatever a person pastes, parsing and checking it never panics, and only an
// address with the login's state yields a code.
func FuzzParsePasted(f *testing.F) {
	f.Add("http://localhost:8765/callback?code=abc&state=s")
	f.Add("?code=abc&state=s&iss=https%3A%2F%2Fauth.example")
	f.Add("abc")
	f.Add("http://[::1]:8765/callback?code=%zz&state=s")
	f.Add("http://localhost:8765/callback?code=abc&state=wrong")
	f.Add("http://localhost:8765/callback?code=abc")
	f.Add("https://evil.example/callback?code=abc&state=s")
	redirect, _ := url.Parse("http://localhost:8765/callback")
	f.Fuzz(func(t *testing.T, pasted string) {
		q, err := ParsePasted(pasted, redirect)
		if err != nil {
			return
		}
		if u, perr := url.Parse(strings.TrimSpace(pasted)); perr == nil && u.Host != "" && !sameAddress(u, redirect) {
			t.Fatalf("accepted %q, which is not the redirect URI's address", pasted)
		}
		code, err := CheckCallback(q, "s", "https://auth.example")
		if err == nil && (q.Get("state") != "s" || code == "") {
			t.Fatalf("accepted %q", pasted)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("a message of more than one line: %q", err)
		}
	})
}

// TestPasteErrorsDoNotShowWhatWasPasted: a line that is not an address — a client secret
// pasted by mistake, say — is refused without being shown: only an address's scheme, host and
// path are ever named.
func TestPasteErrorsDoNotShowWhatWasPasted(t *testing.T) {
	const secret = "Sup3rS3cretValue"
	for _, redirect := range []string{"http://localhost:8765/callback", "https://oauth.pstmn.io/v1/callback"} {
		r, _ := url.Parse(redirect)
		for _, pasted := range []string{
			secret, `"` + secret + `"`, "<" + secret + ">", secret + "=x", "x=" + secret, "?code=" + secret,
			"state=s&code=" + secret + "&state=t", redirect + "?code=" + secret + "&state=other",
			redirect + "?code=" + secret + "&code=" + secret + "&state=s", strings.Repeat(secret, 10),
		} {
			_, _, err := checkPasted(pasted, r, "s", "https://auth.example")
			if err == nil || strings.Contains(err.Error(), secret) {
				t.Errorf("checkPasted(%q) with redirect %s: %v; want an error that does not show the line", pasted, redirect, err)
			}
		}
	}
}
