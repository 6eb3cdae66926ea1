// Command employees lists a Pleo company's employees through the login pleoauth keeps: the
// program holds no token of its own, and refreshes, when a token needs it, once with every
// pleoauth command and program using the same login. Log in once first:
//
//	pleoauth login --env staging
//	go run ./examples/employees -env staging
//
// With -token it prints an access token and nothing else, as "pleoauth token" does.
//
// Copy it as the start of your own program: it needs only github.com/pleoauth/pleoauth/pleo.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/pleoauth/pleoauth/pleo"
)

func main() {
	env := flag.String("env", "", "environment (default: PLEOAUTH_ENV, config.yaml's default_env, or staging)")
	profile := flag.String("profile", "", "which login of the environment (default: the default profile)")
	token := flag.Bool("token", false, "print an access token and nothing else")
	flag.Parse()

	opts := pleo.Options{Env: *env, Profile: *profile, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	var err error
	if *token {
		// Nothing to stop here but one token's read or refresh, which is seen through anyway;
		// catching signals would cost a seventh of the run (docs/performance.md).
		err = printToken(context.Background(), opts)
	} else {
		// Ctrl-C or SIGTERM stops the listing between pages and requests.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = listEmployees(ctx, opts)
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "employees:", err)
		os.Exit(exitCode(err))
	}
}

// printToken prints an access token valid for the min TTL.
func printToken(ctx context.Context, opts pleo.Options) error {
	ts, err := pleo.TokenSource(ctx, opts)
	if err != nil {
		return err
	}
	t, err := ts.Token()
	if err != nil {
		return err
	}
	fmt.Println(t.AccessToken)
	return nil
}

// page is one page of GET /v2/employees (Pleo API reference, "Pagination").
type page struct {
	Data []struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
		Email     string `json:"email"`
	} `json:"data"`
	Pagination struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pagination"`
}

// listEmployees prints every employee, one per line, page by page.
func listEmployees(ctx context.Context, opts pleo.Options) error {
	client, err := pleo.Client(ctx, opts)
	if err != nil {
		return err
	}
	after := ""
	for {
		q := url.Values{"limit": {"100"}}
		if after != "" {
			q.Set("after", after)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/v2/employees?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		var p page
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		switch {
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("GET /v2/employees: %s", printable(resp.Status))
		case err != nil:
			return fmt.Errorf("GET /v2/employees: %w", err)
		}
		for _, e := range p.Data {
			fmt.Printf("%s %s <%s>\n", printable(e.FirstName), printable(e.LastName), printable(e.Email))
		}
		if !p.Pagination.HasNextPage || p.Pagination.EndCursor == "" || p.Pagination.EndCursor == after {
			return nil
		}
		after = p.Pagination.EndCursor
	}
}

// printable is server text made safe for a terminal: every control character — which could
// move the cursor, set the window title or forge lines — and every bidi control, which could
// reverse the text after it, becomes U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError {
			return '�'
		}
		return r
	}, s)
}

// exitCode is pleoauth's exit code for err, so that scripts treat both alike: 4 to log in
// again, 5 to retry later, 2 for a setting to fix.
func exitCode(err error) int {
	switch {
	case errors.Is(err, pleo.ErrLoginRequired):
		return 4
	case errors.Is(err, pleo.ErrTemporary):
		return 5
	case errors.Is(err, pleo.ErrConfiguration):
		return 2
	}
	return 1
}
