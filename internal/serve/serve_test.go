package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

const testKey = "the-serve-key-for-tests-0123456789"

// fixture is the handler with a token source the test controls.
type fixture struct {
	h      http.Handler
	log    bytes.Buffer
	err    error         // what the token source fails with
	warn   string        // the warning it gives with its token
	minTTL time.Duration // what it was last asked for
	slept  []time.Duration
	now    time.Time // the handler's clock, which only the test moves
	mu     sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	f.h = Handler(Options{
		Key: testKey, Env: "local", MinTTL: time.Minute, Log: &f.log, Now: f.clock,
		Token: func(_ context.Context, minTTL time.Duration) (*store.Bundle, bool, string, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.minTTL = minTTL
			if f.err != nil {
				return nil, false, "", f.err
			}
			return &store.Bundle{AccessToken: "ory_at_secret-token", Expiry: time.Now().Add(time.Hour)}, true, f.warn, nil
		},
		WriteToken: func(w io.Writer, b *store.Bundle) error {
			return json.NewEncoder(w).Encode(map[string]string{"access_token": b.AccessToken})
		},
		Explain: func(err error) string { return err.Error() + "; run \"pleoauth login --env local\"" },
		Sleep: func(_ context.Context, d time.Duration) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.slept = append(f.slept, d)
		},
	}, []string{"127.0.0.1:7536", "localhost:7536"})
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// do sends a request; edit may change it before it is served.
func (f *fixture) do(path string, edit func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil) // origin-form, as clients send it
	r.Host = "127.0.0.1:7536"
	r.Header.Set("Authorization", "Bearer "+testKey)
	if edit != nil {
		edit(r)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("the refusal is not JSON: %q", w.Body.String())
	}
	return body.Error
}

func TestTokenWithTheKey(t *testing.T) {
	f := newFixture(t)
	w := f.do("/token?min_ttl=90s", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ory_at_secret-token") {
		t.Fatalf("GET /token: %d %s", w.Code, w.Body)
	}
	if f.minTTL != 90*time.Second {
		t.Errorf("min_ttl reached the source as %v; want 90s", f.minTTL)
	}
	if f.do("/token", nil); f.minTTL != time.Minute {
		t.Errorf("without min_ttl the source got %v; want the configured 1m", f.minTTL)
	}
	// min_ttl=0 asks for any token still valid: not a negative duration, so not refused.
	if w := f.do("/token?min_ttl=0s", nil); w.Code != http.StatusOK || f.minTTL != 0 {
		t.Errorf("min_ttl=0s: %d, the source got %v; want 200 and 0s", w.Code, f.minTTL)
	}
	if w := f.do("/healthz", nil); w.Code != http.StatusOK {
		t.Errorf("GET /healthz: %d", w.Code)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("a token answer may be cached: Cache-Control %q", w.Header().Get("Cache-Control"))
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		path   string
		edit   func(*http.Request)
		status int
		code   string
	}{
		{"no key", "/token", func(r *http.Request) { r.Header.Del("Authorization") }, 401, "invalid_key"},
		{"wrong key", "/token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testKey+"x") }, 401, "invalid_key"},
		{"key as Basic", "/token", func(r *http.Request) { r.Header.Set("Authorization", "Basic "+testKey) }, 401, "invalid_key"},
		{"no key on healthz", "/healthz", func(r *http.Request) { r.Header.Del("Authorization") }, 401, "invalid_key"},
		{"rebinding Host", "/token", func(r *http.Request) { r.Host = "attacker.example:7536" }, 403, "forbidden"},
		{"Host on another port", "/token", func(r *http.Request) { r.Host = "127.0.0.1:80" }, 403, "forbidden"},
		{"web page", "/token", func(r *http.Request) { r.Header.Set("Origin", "https://attacker.example") }, 403, "forbidden"},
		{"null origin", "/token", func(r *http.Request) { r.Header.Set("Origin", "null") }, 403, "forbidden"},
		{"POST", "/token", func(r *http.Request) { r.Method = http.MethodPost }, 405, "method_not_allowed"},
		{"other path", "/admin", nil, 404, "not_found"},
		{"bad min_ttl", "/token?min_ttl=soon", nil, 400, "invalid_request"},
		{"negative min_ttl", "/token?min_ttl=-5m", nil, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			w := f.do(tc.path, tc.edit)
			if w.Code != tc.status || errorCode(t, w) != tc.code {
				t.Fatalf("%d %s; want %d %s", w.Code, w.Body, tc.status, tc.code)
			}
			if strings.Contains(w.Body.String(), "ory_at_") {
				t.Fatal("a refusal carried the token")
			}
			for k := range w.Header() {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Fatalf("a CORS header was sent: %s", k)
				}
			}
		})
	}
}

func TestLocalhostHostIsAllowed(t *testing.T) {
	f := newFixture(t)
	if w := f.do("/token", func(r *http.Request) { r.Host = "localhost:7536" }); w.Code != http.StatusOK {
		t.Fatalf("Host localhost:7536: %d %s", w.Code, w.Body)
	}
}

// queued is how long each of n wrong keys sent at one instant waits: until the answers before
// it are out, each wrong key making the queue a penalty longer.
func queued(n int) []time.Duration {
	var at time.Duration
	var want []time.Duration
	for i := 1; i <= n; i++ {
		want = append(want, at)
		at += penalty(i)
	}
	return want
}

var wrongKey = func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }

func TestWrongKeysAreSlowedDown(t *testing.T) {
	f := newFixture(t)
	for range 6 {
		f.do("/token", wrongKey)
	}
	// The fake Sleep does not move the clock: the six came at one instant, so each waits for
	// the penalties of those before it.
	want := []time.Duration{0, 0, 0, 0, 100 * time.Millisecond, 300 * time.Millisecond}
	if fmt.Sprint(f.slept) != fmt.Sprint(want) {
		t.Fatalf("waits before the wrong-key answers: %v; want %v", f.slept, want)
	}
	if penalty(100) != 5*time.Second {
		t.Fatalf("the wait grows past 5s: %v", penalty(100))
	}
}

// TestConcurrentWrongKeysQueue: wrong keys sent at once are answered one after another, not
// side by side — 50 parallel guesses used to be answered within 10 s — and once the queue is
// 30 s long the rest are answered 429 at once, without growing it further.
func TestConcurrentWrongKeysQueue(t *testing.T) {
	const n = 50
	f := newFixture(t)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			w := f.do("/token", wrongKey)
			mu.Lock()
			defer mu.Unlock()
			codes[w.Code]++
		})
	}
	wg.Wait()
	var want []time.Duration
	for _, d := range queued(n) {
		if d <= maxQueueWait {
			want = append(want, d)
		}
	}
	slices.Sort(f.slept)
	if fmt.Sprint(f.slept) != fmt.Sprint(want) {
		t.Fatalf("waits of %d concurrent wrong keys: %v; want %v", n, f.slept, want)
	}
	if codes[http.StatusUnauthorized] != len(want) || codes[http.StatusTooManyRequests] != n-len(want) {
		t.Fatalf("answers to %d concurrent wrong keys: %v; want %d × 401 then 429s", n, codes, len(want))
	}
	if last := f.slept[len(f.slept)-1]; last < 20*time.Second {
		t.Fatalf("the last guess answered 401 waited %v; want tens of seconds", last)
	}
}

// TestRightKeyWaitsLikeAWrongOne: while a penalty is pending, a right key is held exactly as
// long as a wrong key sent in its place — an answer that came sooner would tell a client that
// gives up early that its guess was right.
func TestRightKeyWaitsLikeAWrongOne(t *testing.T) {
	waited := map[string]time.Duration{}
	for _, key := range []string{"right", "wrong"} {
		f := newFixture(t)
		for range 6 {
			f.do("/token", wrongKey)
		}
		w := f.do("/token", func(r *http.Request) {
			if key == "wrong" {
				wrongKey(r)
			}
		})
		if want := map[string]int{"right": 200, "wrong": 401}[key]; w.Code != want {
			t.Fatalf("the %s key: %d; want %d", key, w.Code, want)
		}
		waited[key] = f.slept[len(f.slept)-1]
	}
	if waited["right"] != waited["wrong"] || waited["right"] != 700*time.Millisecond {
		t.Fatalf("after six wrong keys the right key waited %v, a wrong one %v; want both 700ms", waited["right"], waited["wrong"])
	}
}

// TestFullQueueAnswersEveryKeyAlike: past 30 s of queue, a right key and a wrong one get the
// same 429 with the same Retry-After, at once.
func TestFullQueueAnswersEveryKeyAlike(t *testing.T) {
	f := newFixture(t)
	for range 20 {
		f.do("/token", wrongKey)
	}
	slept := len(f.slept)
	right, wrong := f.do("/token", nil), f.do("/token", wrongKey)
	for name, w := range map[string]*httptest.ResponseRecorder{"right": right, "wrong": wrong} {
		if w.Code != http.StatusTooManyRequests || errorCode(t, w) != "too_many_requests" || w.Header().Get("Retry-After") == "" {
			t.Fatalf("the %s key with a full queue: %d %s Retry-After %q; want 429 with Retry-After", name, w.Code, w.Body, w.Header().Get("Retry-After"))
		}
	}
	if right.Body.String() != wrong.Body.String() || fmt.Sprint(right.Header()) != fmt.Sprint(wrong.Header()) {
		t.Fatalf("the answers differ:\nright %v %s\nwrong %v %s", right.Header(), right.Body, wrong.Header(), wrong.Body)
	}
	if len(f.slept) != slept {
		t.Fatalf("a 429 was held %v; want it answered at once", f.slept[slept:])
	}
}

// TestAbandonedGuessesDoNotGrowTheQueue: a wrong key whose client left before its turn is not
// counted and does not make the queue longer — 2,000 abandoned guesses used to push it hours
// ahead, so that a later mistyped key waited for all of them and the count never reset.
func TestAbandonedGuessesDoNotGrowTheQueue(t *testing.T) {
	f := newFixture(t)
	for range 6 {
		f.do("/token", wrongKey)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for range 2000 {
		f.do("/token", func(r *http.Request) { wrongKey(r); *r = *r.WithContext(gone) })
	}
	for i, want := range []time.Duration{700 * time.Millisecond, 1500 * time.Millisecond} {
		if w := f.do("/token", wrongKey); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong key %d after the abandoned ones: %d %s", 7+i, w.Code, w.Body)
		}
		if got := f.slept[len(f.slept)-1]; got != want {
			t.Fatalf("after 2000 abandoned guesses wrong key %d waited %v; want %v, as if they never came", 7+i, got, want)
		}
	}
}

// TestRightKeyDoesNotResetTheWrongKeyCount: a client with the key asking meanwhile does not
// give a guesser a fresh start; only a window without wrong keys does.
func TestRightKeyDoesNotResetTheWrongKeyCount(t *testing.T) {
	f := newFixture(t)
	for range 6 {
		f.do("/token", wrongKey)
	}
	if w := f.do("/token", nil); w.Code != http.StatusOK {
		t.Fatalf("the right key: %d", w.Code)
	}
	f.do("/token", wrongKey)
	f.do("/token", wrongKey)
	if got, want := f.slept[len(f.slept)-1], queued(8)[7]; got != want {
		t.Fatalf("after a right key the 8th wrong one waited %v; want %v, as if the right key never came", got, want)
	}
	f.advance(queued(9)[8] + wrongKeyWindow + time.Second)
	f.do("/token", wrongKey)
	f.do("/token", wrongKey)
	if got := f.slept[len(f.slept)-1]; got != 0 {
		t.Fatalf("a wrong key a window after the queue emptied waited %v; want none", got)
	}
}

func TestWrongKeysWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		gaps  []time.Duration // between the wrong keys, from when the one before is answered
		wants []time.Duration
	}{
		{"in a row", []time.Duration{0, 0, 0, 0, 0, 0}, []time.Duration{0, 0, 0, 0, 100 * time.Millisecond, 200 * time.Millisecond}},
		{"each inside the window", []time.Duration{0, 50 * time.Second, 50 * time.Second, 50 * time.Second, 50 * time.Second, 0}, []time.Duration{0, 0, 0, 0, 0, 200 * time.Millisecond}},
		{"a wrong key a whole window after still counts", []time.Duration{0, 0, 0, wrongKeyWindow, 0}, []time.Duration{0, 0, 0, 0, 100 * time.Millisecond}},
		{"a quiet window starts again", []time.Duration{0, 0, 0, 0, 0, wrongKeyWindow + time.Second, 0, 0, 0}, []time.Duration{0, 0, 0, 0, 100 * time.Millisecond, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var k wrongKeys
			now := t0
			for i, gap := range tc.gaps {
				now = now.Add(gap)
				turn := k.admit(now, true)
				if turn.wait != tc.wants[i] || turn.full {
					t.Fatalf("wrong key %d: wait %v (full %v); want %v", i+1, turn.wait, turn.full, tc.wants[i])
				}
				now = now.Add(turn.wait) // answered
			}
		})
	}
}

func TestErrorsMapToStatuses(t *testing.T) {
	for _, tc := range []struct {
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{failure.NeedLogin("local", "the refresh token was refused", nil), 401, "login_required", ""},
		{failure.Wrap(failure.Temporary, errors.New("the server could not be reached")), 503, "temporarily_unavailable", "5"},
		{fmt.Errorf("refresh: %w", context.DeadlineExceeded), 503, "temporarily_unavailable", "5"},
		{errors.New("the store is unreadable"), 500, "server_error", ""},
	} {
		f := newFixture(t)
		f.err = tc.err
		w := f.do("/token", nil)
		if w.Code != tc.status || errorCode(t, w) != tc.code || w.Header().Get("Retry-After") != tc.retryAfter {
			t.Errorf("%v: %d %s Retry-After %q; want %d %s %q", tc.err, w.Code, w.Body, w.Header().Get("Retry-After"), tc.status, tc.code, tc.retryAfter)
		}
		if tc.code == "login_required" && !strings.Contains(w.Body.String(), `pleoauth login --env local`) {
			t.Errorf("the login_required answer does not name the login to run: %s", w.Body)
		}
	}
}

func TestLogLinesHoldNoSecret(t *testing.T) {
	f := newFixture(t)
	f.do("/token", nil)
	f.do("/token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer guess-"+testKey[:8]) })
	log := f.log.String()
	if n := strings.Count(log, "\n"); n != 2 {
		t.Fatalf("%d log lines for 2 requests:\n%s", n, log)
	}
	if !strings.Contains(log, " 200 env=local refreshed") || !strings.Contains(log, " 401 env=local") {
		t.Errorf("the log does not say status, env and refresh:\n%s", log)
	}
	for _, secret := range []string{"ory_at_", testKey, "guess-"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q:\n%s", secret, log)
		}
	}
}

func TestListenOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.com:0", "7536", "127.0.0.1:http", "127.0.0.1:70000"} {
		if ls, _, err := Listen(addr); err == nil {
			closeAll(ls)
			t.Errorf("Listen(%q) listened; want a refusal", addr)
		} else if failure.KindOf(err) != failure.Usage {
			t.Errorf("Listen(%q): %v is not a usage error", addr, err)
		}
	}
	ls, hosts, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(ls)
	if len(ls) != 1 || !strings.HasPrefix(ls[0].Addr().String(), "127.0.0.1:") {
		t.Fatalf("Listen(127.0.0.1:0) gave %v", ls)
	}
	port := strings.TrimPrefix(ls[0].Addr().String(), "127.0.0.1:")
	if fmt.Sprint(hosts) != fmt.Sprintf("[127.0.0.1:%s localhost:%s]", port, port) {
		t.Fatalf("allowed hosts %v", hosts)
	}
	both, hosts, err := Listen(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(both)
	for _, l := range both {
		if a := l.Addr().String(); !strings.HasPrefix(a, "127.0.0.1:") && !strings.HasPrefix(a, "[::1]:") {
			t.Fatalf("Listen(:0) listened on %s", a)
		}
	}
	if len(both) == 2 && both[0].Addr().(*net.TCPAddr).Port != both[1].Addr().(*net.TCPAddr).Port {
		t.Fatalf("the two loopbacks got different ports: %v %v", both[0].Addr(), both[1].Addr())
	}
}

// TestShortLivedTokenCarriesItsWarning: a token shorter-lived than min_ttl is still handed
// out (200), with the warning in X-Pleoauth-Warning, cleaned to one line.
func TestShortLivedTokenCarriesItsWarning(t *testing.T) {
	for _, tt := range []struct{ warn, want string }{
		{"", ""},
		{"env local: the server issues access tokens valid for 2s, less than --min-ttl 30m", "env local: the server issues access tokens valid for 2s, less than --min-ttl 30m"},
		{"two\nlines\x1b]52;c;x\x07", "two lines ]52;c;x"},
	} {
		f := newFixture(t)
		f.warn = tt.warn
		w := f.do("/token?min_ttl=30m", nil)
		if w.Code != http.StatusOK {
			t.Fatalf("warning %q: status %d; want 200", tt.warn, w.Code)
		}
		if got := w.Header().Get("X-Pleoauth-Warning"); got != tt.want {
			t.Errorf("warning %q: X-Pleoauth-Warning %q; want %q", tt.warn, got, tt.want)
		}
	}
}
