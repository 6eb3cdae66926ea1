package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pleoauth/pleoauth/internal/backoff"
	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// Page is one page of a Pleo list endpoint: {"data": [...], "pagination": {...}} (Pleo API
// reference, "Pagination").
type Page struct {
	// Raw is the page as the server sent it.
	Raw json.RawMessage
	// Items are the page's data, each as sent.
	Items []json.RawMessage
	// Number counts pages from 1; URL is the page's request.
	Number int
	URL    string
}

// PageOptions bound how long a paginated run waits out a busy server.
type PageOptions struct {
	// Retries is how many 429 or 503 answers one page may get before the run fails; zero means 5.
	Retries int
	// MaxWait caps one wait, whatever Retry-After says; zero means 30 s.
	MaxWait time.Duration
	// Sleep waits d or until ctx ends; nil means [backoff.Sleep].
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock an HTTP-date in Retry-After is read against; nil means time.Now.
	Now func() time.Time
	// Notice gets a line for each wait, for stderr.
	Notice func(msg string)
	// MaxPages is how many pages a run may fetch; zero means [DefaultMaxPages]. A page past it
	// that the server says has a next is an error, not a silent cut.
	MaxPages int
}

// DefaultMaxPages bounds a paginated run unless the caller raises it: 1,000 pages of Pleo's
// largest (limit=100) are 100,000 items, and a server that never says the last page comes must
// not keep a script fetching for ever.
const DefaultMaxPages = 1000

// pageJSON is what pagination needs of a page.
type pageJSON struct {
	Data       []json.RawMessage `json:"data"`
	Pagination *struct {
		HasNextPage bool    `json:"hasNextPage"`
		EndCursor   *string `json:"endCursor"`
		Current     struct {
			Offset *int `json:"offset"`
		} `json:"currentRequestPagination"`
	} `json:"pagination"`
}

// PageStatusError is a page the API answered with a status other than 2xx (after the waits for
// 429 and 503 ran out).
type PageStatusError struct {
	Page       int
	Method     string
	URL        string
	Status     string // the status line, cleaned ([Status])
	StatusCode int
	Attempts   int
}

func (e *PageStatusError) Error() string {
	s := fmt.Sprintf("page %d (%s %s) answered %s", e.Page, e.Method, e.URL, e.Status)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" %d times", e.Attempts)
	}
	return s
}

// Paginate fetches path's pages in order and hands each to page as it arrives, so that a
// collection of any size passes through in the memory of one page. It follows Pleo's
// pagination: while pagination.hasNextPage, the same request again with after=<endCursor>, or,
// for an endpoint that gives no cursor, with offset advanced by the page's length; the caller's
// other query parameters stay. It stops at a page with no items. A server bug must not loop
// forever, so it fails on a cursor the server already gave, on an offset that does not advance,
// on a page whose items are those of any earlier page of the run (an offset the server ignores,
// or pages that come round again: A, B, A…), and on a next page past [PageOptions.MaxPages]. Every page gets a token valid for
// the client's minimum and the 401 retry of [Client.Do]; a 429 or 503 is waited out
// (Retry-After, capped; else exponential backoff with jitter) a bounded number of times.
func (c *Client) Paginate(ctx context.Context, path string, o PageOptions, page func(Page) error) error {
	o = o.withDefaults()
	next, err := url.Parse(path)
	if err != nil {
		return fmt.Errorf("%q is not a path: %w", path, err)
	}
	seen := map[string]bool{}
	// earlier maps each page's items, as a hash, to the first page that held them: a run of
	// MaxPages pages keeps MaxPages hashes, not the items.
	earlier := map[[sha256.Size]byte]int{}
	for number := 1; ; number++ {
		raw, err := c.fetchPage(ctx, next.String(), number, o)
		if err != nil {
			return err
		}
		var p pageJSON
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("page %d (GET %s) is not a page of a Pleo list: %w", number, next, err)
		}
		if len(p.Data) > 0 {
			h := itemsHash(p.Data)
			if first, ok := earlier[h]; ok {
				return fmt.Errorf("page %d (GET %s) holds the same items as page %d; the server ignores the page asked for, so pleoauth stopped rather than loop", number, next, first)
			}
			earlier[h] = number
		}
		if err := page(Page{Raw: raw, Items: p.Data, Number: number, URL: next.String()}); err != nil {
			return err
		}
		if len(p.Data) == 0 || p.Pagination == nil || !p.Pagination.HasNextPage {
			return nil
		}
		if number >= o.MaxPages {
			return fmt.Errorf("page %d (GET %s) says more pages follow, and %d is the most a run fetches; raise it with --max-pages, or ask for larger pages with limit=100", number, next, o.MaxPages)
		}
		current := next.String()
		q := next.Query()
		switch pg := p.Pagination; {
		case pg.EndCursor != nil && *pg.EndCursor != "":
			if seen[*pg.EndCursor] {
				return fmt.Errorf("page %d (GET %s) gave cursor \"%s\" again; the server is looping, so pleoauth stopped", number, next, sanitize.Text(*pg.EndCursor, 80))
			}
			seen[*pg.EndCursor] = true
			q.Set("after", *pg.EndCursor)
			q.Del("offset")
		default:
			offset := 0
			if pg.Current.Offset != nil {
				offset = *pg.Current.Offset
			} else if v, err := strconv.Atoi(q.Get("offset")); err == nil {
				offset = v
			}
			q.Set("offset", strconv.Itoa(offset+len(p.Data)))
		}
		next.RawQuery = q.Encode()
		if next.String() == current {
			return fmt.Errorf("page %d (GET %s) gives no cursor and an offset that does not advance; the server is looping, so pleoauth stopped", number, current)
		}
	}
}

// itemsHash is a page's items, byte for byte as sent, as one SHA-256: two pages hash alike
// exactly when they hold the same items in the same order. Each item is written after its
// length, so that ["ab"] and ["a","b"] cannot hash alike.
func itemsHash(items []json.RawMessage) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, item := range items {
		binary.BigEndian.PutUint64(n[:], uint64(len(item)))
		h.Write(n[:])
		h.Write(item)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func (o PageOptions) withDefaults() PageOptions {
	if o.Retries <= 0 {
		o.Retries = 5
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 30 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = backoff.Sleep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Notice == nil {
		o.Notice = func(string) {}
	}
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultMaxPages
	}
	return o
}

// fetchPage GETs one page and returns its JSON body, waiting out 429 and 503 answers.
func (c *Client) fetchPage(ctx context.Context, path string, number int, o PageOptions) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path})
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if attempt > o.Retries {
				return nil, &PageStatusError{Page: number, Method: http.MethodGet, URL: resp.Request.URL.Redacted(),
					Status: Status(resp), StatusCode: resp.StatusCode, Attempts: attempt}
			}
			wait := retryWait(resp.Header.Get("Retry-After"), o.Now(), attempt, o.MaxWait)
			o.Notice(fmt.Sprintf("page %d answered %s; waiting %s (%d of %d)", number, Status(resp), wait.Round(10*time.Millisecond), attempt, o.Retries))
			if err := o.Sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		defer resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, &PageStatusError{Page: number, Method: http.MethodGet, URL: resp.Request.URL.Redacted(),
				Status: Status(resp), StatusCode: resp.StatusCode, Attempts: attempt}
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); !strings.HasSuffix(mt, "json") {
			return nil, fmt.Errorf("page %d (GET %s) is \"%s\", not JSON; check the path and api_url, and any proxy or captive portal in between", number, resp.Request.URL.Redacted(), sanitize.Text(resp.Header.Get("Content-Type"), 64))
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
		if err != nil {
			return nil, &TransportError{URL: resp.Request.URL.Redacted(), Err: err}
		}
		if len(body) > maxPage {
			return nil, fmt.Errorf("page %d (GET %s) is larger than %d MB; ask for smaller pages with limit=", number, resp.Request.URL.Redacted(), maxPage>>20)
		}
		return body, nil
	}
}

// maxPage bounds one page in memory.
const maxPage = 64 << 20

// retryWait is how long to wait before the attempt-th retry: the server's Retry-After when it
// sent one ([backoff.RetryAfter]), else exponential backoff from one second with jitter
// (0.5–1.5×), so that clients the same outage stopped do not all come back at once; never more
// than most.
func retryWait(header string, now time.Time, attempt int, most time.Duration) time.Duration {
	d, ok := backoff.RetryAfter(header, now)
	if !ok {
		base := time.Second << min(attempt-1, 10)
		d = time.Duration(float64(base) * (0.5 + rand.Float64()))
	}
	return max(0, min(d, most))
}
