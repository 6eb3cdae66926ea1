package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
)

// paginated logs in on a devserver whose lists hold items.
func paginated(t *testing.T, items int, accessTTL time.Duration) (*harness, *devserver.Server) {
	t.Helper()
	h := newHarness(t)
	dev, _ := h.startDevserver(devserver.Options{AutoApprove: true, ListItems: items, AccessTTL: accessTTL})
	h.browser = followRedirects
	t.Setenv("PLEOAUTH_ENV", "local")
	if r := h.main("login"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	return h, dev
}

// ids decodes {"data": [...]} and returns the items' ids in order.
func ids(t *testing.T, out string) []string {
	t.Helper()
	var doc struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("the output is not one JSON document: %v\n%.500s", err, out)
	}
	var got []string
	for _, d := range doc.Data {
		got = append(got, d.ID)
	}
	return got
}

func wantIDs(prefix string, n int) []string {
	var want []string
	for i := 3; i <= n; i++ {
		want = append(want, fmt.Sprintf("%s%012d", prefix, i))
	}
	return want
}

func TestPaginateCursor25ItemsOver3Pages(t *testing.T) {
	h, dev := paginated(t, 25, 0)
	r := h.main("api", "--paginate", "/v2/employees?limit=10")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	got := ids(t, r.stdout)
	if len(got) != 25 || got[0] != "7a1c9a52-3f5e-4c1e-9d4e-0d5f3e2b1a01" || fmt.Sprint(got[2:]) != fmt.Sprint(wantIDs("7a1c9a52-3f5e-4c1e-9d4e-", 25)) {
		t.Fatalf("%d items: %v", len(got), got)
	}
	if n := dev.Stats().APIRequests["/v2/employees"]; n != 3 {
		t.Errorf("%d requests for 25 items in pages of 10; want 3", n)
	}
}

func TestPaginateOffsetKeepsTheQuery(t *testing.T) {
	h, dev := paginated(t, 25, 0)
	r := h.main("api", "--paginate", "/v1/expenses?limit=7")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var doc struct {
		Data []struct {
			ID     string `json:"id"`
			Amount struct {
				Value int `json:"value"`
			} `json:"amount"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Data) != 25 {
		t.Fatalf("%v: %d items\n%s", err, len(doc.Data), r.stdout)
	}
	for i, e := range doc.Data {
		if e.Amount.Value != (i+1)*100 {
			t.Fatalf("item %d is %+v: out of order or repeated", i, e)
		}
	}
	if n := dev.Stats().APIRequests["/v1/expenses"]; n != 4 {
		t.Errorf("%d requests for 25 items in pages of 7; want 4 (limit kept on every page)", n)
	}
}

func TestPaginateSlurp(t *testing.T) {
	h, _ := paginated(t, 25, 0)
	r := h.main("api", "--paginate", "--slurp", "/v2/employees")
	var pages []struct {
		Data       []json.RawMessage `json:"data"`
		Pagination struct {
			HasNextPage bool `json:"hasNextPage"`
		} `json:"pagination"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &pages) != nil || len(pages) != 3 {
		t.Fatalf("%+v", r)
	}
	if len(pages[0].Data) != 10 || len(pages[2].Data) != 5 || !pages[0].Pagination.HasNextPage || pages[2].Pagination.HasNextPage {
		t.Fatalf("pages: %+v", pages)
	}
}

func TestPaginateJQ(t *testing.T) {
	h, _ := paginated(t, 25, 0)
	r := h.main("api", "--paginate", "/v2/employees", "--jq", `.data[] | select(.lastName == "24" or .firstName == "Ada") | .email`)
	if r.code != 0 || r.stdout != "ada@example.com\nemployee24@example.com\n" {
		t.Fatalf("%+v", r)
	}
	// On a single request too, non-strings as JSON.
	r = h.main("api", "/v2/employees", "--jq", `.pagination | {total, hasNextPage}`)
	if r.code != 0 || r.stdout != `{"hasNextPage":true,"total":25}`+"\n" {
		t.Fatalf("%+v", r)
	}
}

func TestPaginateUsageErrorsBeforeAnyRequest(t *testing.T) {
	h, dev := paginated(t, 25, 0)
	before := dev.Stats().APIRequests["/v2/employees"]
	for _, args := range [][]string{
		{"api", "--paginate", "/v2/employees", "--jq", ".data[] |"},
		{"api", "/v2/employees", "--jq", "nosuchfunction(1)"},
		{"api", "--slurp", "/v2/employees"},
		{"api", "--paginate", "--slurp", "--jq", ".", "/v2/employees"},
		{"api", "--paginate", "-X", "POST", "/v2/employees"},
		{"api", "--paginate", "--include", "/v2/employees"},
		{"api", "--max-pages", "5", "/v2/employees"},
		{"api", "--max-pages", "1000", "/v2/employees"}, // given at its default, still without --paginate
		{"api", "--paginate", "--max-pages", "0", "/v2/employees"},
	} {
		if r := h.main(args...); r.code != exitcode.Usage || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%q: %+v; want exit 2 with one line", args, r)
		}
	}
	if n := dev.Stats().APIRequests["/v2/employees"]; n != before {
		t.Fatalf("%d requests were sent for commands refused as usage errors", n-before)
	}
}

func TestPaginateWaitsOutA429(t *testing.T) {
	h, dev := paginated(t, 25, 0)
	dev.InjectFault(devserver.FaultAPIDelay, 1, time.Millisecond) // page 1 through
	dev.InjectFault(devserver.FaultAPIRateLimit, 1, 0)            // page 2: 429, Retry-After: 1
	start := time.Now()
	r := h.main("api", "--paginate", "/v2/employees")
	if r.code != 0 || len(ids(t, r.stdout)) != 25 {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(r.stderr, "page 2 answered 429 Too Many Requests; waiting 1s (1 of 5)") {
		t.Errorf("no line about the wait on stderr: %q", r.stderr)
	}
	if time.Since(start) < time.Second {
		t.Errorf("the run took %v; Retry-After: 1 was not honoured", time.Since(start))
	}
}

func TestPaginateGivesUpAfterBoundedRetries(t *testing.T) {
	h, dev := paginated(t, 25, 0)
	dev.InjectFault(devserver.FaultAPIUnavailable, 6, 0) // no Retry-After: backoff with jitter
	var waits []time.Duration
	h.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	r := h.main("api", "--paginate", "/v2/employees")
	if r.code != exitcode.Temporary || !strings.Contains(r.stderr, "page 1 (GET ") || !strings.Contains(r.stderr, "503 Service Unavailable 6 times") {
		t.Fatalf("%+v", r)
	}
	if n := strings.Count(r.stderr, "waiting"); n != 5 || len(waits) != 5 {
		t.Errorf("%d waits on stderr, %d waited; want 5", n, len(waits))
	}
	for i, w := range waits { // 1s, 2s, 4s… each between 0.5× and 1.5×
		if base := time.Second << i; w < base/2 || w > base*3/2 {
			t.Errorf("wait %d was %v; want %v ± 50%%", i+1, w, base)
		}
	}
}

func TestPaginateTokenExpiresMidRun(t *testing.T) {
	h, dev := paginated(t, 25, time.Second)
	t.Setenv("PLEOAUTH_MIN_TTL", "0s")
	dev.InjectFault(devserver.FaultAPIDelay, 3, 700*time.Millisecond) // 3 pages span 2 token lives
	before := dev.Stats().TokensIssued["refresh_token"]
	r := h.main("api", "--paginate", "/v2/employees")
	if r.code != 0 || len(ids(t, r.stdout)) != 25 {
		t.Fatalf("%+v", r)
	}
	st := dev.Stats()
	if st.TokensIssued["refresh_token"] == before || st.FamiliesRevoked != 0 {
		t.Fatalf("%d refreshes, %d revoked families during a run longer than a token; want at least one and none",
			st.TokensIssued["refresh_token"]-before, st.FamiliesRevoked)
	}
}

func TestPaginateStopsOnARepeatedCursor(t *testing.T) {
	h, dev := paginated(t, 25, 0)
	dev.InjectFault(devserver.FaultAPIRepeatCursor, 5, 0)
	r := h.main("api", "--paginate", "/v2/employees")
	if r.code != exitcode.Error || !strings.Contains(r.stderr, "page 2") || !strings.Contains(r.stderr, "again; the server is looping") {
		t.Fatalf("%+v", r)
	}
	if n := dev.Stats().APIRequests["/v2/employees"]; n != 2 {
		t.Errorf("%d requests; want 2 (the loop noticed on the first repeat)", n)
	}
}

// TestPaginateStopsOnAnIgnoredOffset: an offset list whose server ignores offset answers every
// page with the first; the run stops at the second, naming it, exit 1 (it once fetched the
// first page again and again, 180 requests in 8 s).
func TestPaginateStopsOnAnIgnoredOffset(t *testing.T) {
	h, dev := paginated(t, 25, 0)
	dev.InjectFault(devserver.FaultAPIIgnoreOffset, 50, 0)
	r := h.main("api", "--paginate", "/v1/expenses?limit=5")
	if r.code != exitcode.Error || !strings.Contains(r.stderr, "page 2 (GET /v1/expenses?limit=5&offset=5) holds the same items as page 1") {
		t.Fatalf("%+v", r)
	}
	if n := dev.Stats().APIRequests["/v1/expenses"]; n != 2 {
		t.Errorf("%d requests; want 2 (the loop noticed on the first repeat)", n)
	}
}

// TestPaginateMaxPages: a run fetches at most --max-pages pages (1000 unless raised); a list
// with more is an error naming the page and the flag, not a silent cut.
func TestPaginateMaxPages(t *testing.T) {
	h, dev := paginated(t, 25, 0)
	r := h.main("api", "--paginate", "--max-pages", "2", "/v2/employees?limit=10")
	if r.code != exitcode.Error || !strings.Contains(r.stderr, "page 2 (GET /v2/employees?") || !strings.Contains(r.stderr, "raise it with --max-pages") {
		t.Fatalf("%+v", r)
	}
	if n := dev.Stats().APIRequests["/v2/employees"]; n != 2 {
		t.Errorf("%d requests; want 2", n)
	}
	if r := h.main("api", "--paginate", "--max-pages", "3", "/v2/employees?limit=10"); r.code != 0 || len(ids(t, r.stdout)) != 25 {
		t.Fatalf("three pages of 25 items with --max-pages 3: %+v", r)
	}
}

func TestPaginateNonJSONPage(t *testing.T) {
	h, dev := paginated(t, 25, 0)
	dev.InjectFault(devserver.FaultAPIDelay, 1, time.Millisecond)
	dev.InjectFault(devserver.FaultAPIHTML, 1, 0)
	r := h.main("api", "--paginate", "/v2/employees")
	if r.code != exitcode.Error || !strings.Contains(r.stderr, `page 2`) || !strings.Contains(r.stderr, `"text/html", not JSON`) {
		t.Fatalf("%+v", r)
	}
}

// countingWriter counts bytes and samples the live heap after every write (pages are written
// and flushed one at a time).
type countingWriter struct {
	n        int
	peakHeap uint64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	c.peakHeap = max(c.peakHeap, m.HeapAlloc)
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)

// TestPaginateMemoryStaysFlat: 10,000 items pass through in the memory of a page. The live heap
// while 10,000 items stream out is compared with the same run over 1,000.
func TestPaginateMemoryStaysFlat(t *testing.T) {
	peak := func(items int) (uint64, int) {
		h, _ := paginated(t, items, 0)
		w := &countingWriter{}
		d := h.deps(w)
		if code := Main(t.Context(), []string{"api", "--paginate", "/v2/employees?limit=100"}, d); code != 0 {
			t.Fatalf("exit %d", code)
		}
		return w.peakHeap, w.n
	}
	small, smallOut := peak(1000)
	large, largeOut := peak(10000)
	t.Logf("live heap: %d KiB for 1,000 items (%d KiB out), %d KiB for 10,000 (%d KiB out)", small>>10, smallOut>>10, large>>10, largeOut>>10)
	if largeOut < 9*smallOut {
		t.Fatalf("10,000 items wrote %d bytes, 1,000 wrote %d: the runs did not do what they say", largeOut, smallOut)
	}
	if large > small+uint64(largeOut-smallOut)/4 {
		t.Fatalf("the live heap grew from %d to %d KiB with the output (%d to %d KiB): items are being held", small>>10, large>>10, smallOut>>10, largeOut>>10)
	}
}

// TestAPIJQFailure: an expression that fails on the answer prints what came before the failure
// — the items of the pages before, on a single answer the results before — then exits 1 naming
// what went wrong, but not the value it went wrong on.
func TestAPIJQFailure(t *testing.T) {
	h, _ := paginated(t, 25, 0)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"api", "/v2/employees", "--jq", `.data[0].email, (.data[1].email | error)`}, "ada@example.com\n"},
		{[]string{"api", "--paginate", "/v2/employees", "--jq", `if .data[0].email == "ada@example.com" then .data[0].email else (.data[0].email | error) end`}, "ada@example.com\n"},
	} {
		r := h.main(tc.args...)
		if r.code != exitcode.Error || r.stdout != tc.want || !strings.Contains(r.stderr, "--jq failed: error") || strings.Contains(r.stderr, "@example.com") {
			t.Errorf("%q = %+v; want exit 1 after %q, no value on stderr", tc.args, r, tc.want)
		}
		oneLine(t, r.stderr)
	}
}
