package pleo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/pleoauth/pleoauth/pleo"
)

// A token for the login "pleoauth login" made, as "pleoauth token" prints it.
func ExampleTokenSource() {
	ts, err := pleo.TokenSource(context.Background(), pleo.Options{})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	// tok.AccessToken goes in an Authorization header: tok.SetAuthHeader(req) sets it.
	fmt.Println(tok.Type(), "token, valid for at least a minute:", time.Until(tok.Expiry) >= time.Minute)
	// Output: Bearer token, valid for at least a minute: true
}

// Every employee of the company, page by page (Pleo API reference, "Pagination"): the client
// adds the token, refreshed when needed, and joins relative paths to the environment's API.
func ExampleClient() {
	ctx := context.Background()
	client, err := pleo.Client(ctx, pleo.Options{})
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	after := ""
	for {
		q := url.Values{"limit": {"10"}}
		if after != "" {
			q.Set("after", after)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/v2/employees?"+q.Encode(), nil)
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		var page struct {
			Data []struct {
				FirstName, LastName string
			}
			Pagination struct {
				HasNextPage bool
				EndCursor   string
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			log.Fatalf("GET /v2/employees: %s %v", resp.Status, err)
		}
		for _, e := range page.Data {
			names = append(names, e.FirstName+" "+e.LastName)
		}
		if !page.Pagination.HasNextPage {
			break
		}
		after = page.Pagination.EndCursor
	}
	fmt.Printf("%d employees, from %s to %s\n", len(names), names[0], names[len(names)-1])
	// Output: 25 employees, from Ada Lovelace to Employee 25
}

// A login that is not there: the error says what a person runs, and a program can tell it
// from a failure worth retrying.
func Example_loginRequired() {
	ts, err := pleo.TokenSource(context.Background(), pleo.Options{Profile: "acme"})
	if err != nil {
		log.Fatal(err)
	}
	_, err = ts.Token()
	var e *pleo.Error
	switch {
	case errors.Is(err, pleo.ErrTemporary):
		fmt.Println("retry later")
	case errors.As(err, &e) && errors.Is(err, pleo.ErrLoginRequired):
		fmt.Println("a person must run:", e.Command)
	}
	// Output: a person must run: pleoauth login --env local --profile acme
}

// A long-running service on each machine of a fleet: the login lives in Redis, shared with
// every machine's services and pleoauth commands, which refresh it once per expiry between
// them. The service's settings come from its own configuration here — REDIS_URL — and the store
// key and client secret from its environment (PLEOAUTH_STORE_KEY, PLEOAUTH_CLIENT_SECRET).
// One client serves every request handler at once.
func Example_service() {
	settings := map[string]string{
		"PLEOAUTH_STORE":     "redis",
		"PLEOAUTH_REDIS_URL": os.Getenv("REDIS_URL"),
	}
	client, err := pleo.Client(context.Background(), pleo.Options{
		Logger: slog.Default(), // waits for another machine's refresh, and warnings
		Getenv: func(name string) string {
			if v, ok := settings[name]; ok {
				return v
			}
			return os.Getenv(name)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	var served sync.WaitGroup
	statuses := make(chan int, 20)
	for range 20 { // twenty requests at once, as handlers would make them
		served.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/v2/employees?limit=1", nil)
			resp, err := client.Do(req)
			if err != nil {
				log.Print(err) // errors.Is(err, pleo.ErrTemporary): retry; pleo.ErrLoginRequired: page a person
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	served.Wait()
	close(statuses)
	ok := 0
	for s := range statuses {
		if s == http.StatusOK {
			ok++
		}
	}
	fmt.Println(ok, "requests answered 200")
	// Output: 20 requests answered 200
}
