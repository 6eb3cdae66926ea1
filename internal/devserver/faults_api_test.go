package devserver

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAPIFaultsForRunawayWork: the faults the interruption and loop tests stand on show what
// their names say — an offset ignored (the first page again, hasNextPage true, no offset said
// back), a body of which half comes at once and the rest after the delay, a 503 asking for a
// long wait.
func TestAPIFaultsForRunawayWork(t *testing.T) {
	s, hs, cfg := start(t, Options{ListItems: 3})
	tok := login(t, cfg)
	get := func(path string) (*http.Response, []byte, time.Duration) {
		req, _ := http.NewRequest("GET", hs.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body, time.Since(start)
	}

	s.InjectFault(FaultAPIIgnoreOffset, 1, 0)
	_, body, _ := get("/v1/expenses?limit=1&offset=2")
	var page struct {
		Data       []struct{ ID string }
		Pagination map[string]any
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	current := page.Pagination["currentRequestPagination"].(map[string]any)
	if len(page.Data) != 1 || !strings.HasSuffix(page.Data[0].ID, "000000000001") || page.Pagination["hasNextPage"] != true || current["offset"] != nil {
		t.Errorf("api-ignore-offset: %s; want the first item, hasNextPage true, no offset", body)
	}

	s.InjectFault(FaultAPISlowBody, 1, 300*time.Millisecond)
	resp, body, took := get("/v2/employees")
	if resp.StatusCode != 200 || !json.Valid(body) || took < 300*time.Millisecond {
		t.Errorf("api-slow-body: %d after %v, %s; want the whole answer after the delay", resp.StatusCode, took, body)
	}

	s.InjectFault(FaultAPIBusy, 1, 0)
	if resp, _, _ := get("/v2/employees"); resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "20" {
		t.Errorf("api-busy: %d, Retry-After %q; want 503 with 20", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
