package main

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// stopAtRedirectMain is a $BROWSER for a client whose redirect URI is a page off this machine
// (Postman's callback): it loads its last argument and follows the authorization server's
// redirects, but stops at the one that leaves loopback, as a browser ends on that page, and
// writes the address it stopped at to the file $LANDED.
func stopAtRedirectMain() {
	client := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		switch req.URL.Hostname() {
		case "127.0.0.1", "localhost", "::1":
			return nil
		}
		return http.ErrUseLastResponse
	}}
	resp, err := client.Get(os.Args[len(os.Args)-1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "stop-at-redirect:", err)
		os.Exit(1)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stop-at-redirect: ended on HTTP %d without leaving loopback\n", resp.StatusCode)
		os.Exit(1)
	}
	tmp := os.Getenv("LANDED") + ".tmp"
	if err := os.WriteFile(tmp, []byte(loc.String()+"\n"), 0o600); err != nil || os.Rename(tmp, os.Getenv("LANDED")) != nil {
		fmt.Fprintln(os.Stderr, "stop-at-redirect: cannot write $LANDED:", err)
		os.Exit(1)
	}
}

// pasteLandedMain is the person at the terminal after a browser ended on a page off this
// machine: it runs the command in its arguments, waits for $LANDED (written by
// stop-at-redirect), pastes that address on the command's stdin and closes it. With
// -tamper-state first, it changes the address's state before pasting; see runPerson for the
// other options.
func pasteLandedMain() {
	args, tamper := os.Args[1:], false
	if len(args) > 0 && args[0] == "-tamper-state" {
		args, tamper = args[1:], true
	}
	os.Exit(runPerson(args, func(stderrLines <-chan string) (string, error) {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			data, err := os.ReadFile(os.Getenv("LANDED"))
			if err != nil {
				continue
			}
			addr := strings.TrimSpace(string(data))
			if tamper {
				addr = strings.Replace(addr, "state=", "state=tampered", 1)
			}
			return addr, nil
		}
		return "", errors.New("$LANDED never appeared: the browser did not end on the redirect page")
	}))
}

// pasteRedirectMain is the person at the terminal when no browser opened: it runs the command
// in its arguments, and once the command asks for the address to be pasted, it loads the
// authorization URL printed before on another "machine" (an HTTP client that does not follow
// the redirect), and pastes the address the redirect leads to.
func pasteRedirectMain() {
	os.Exit(runPerson(os.Args[1:], func(stderrLines <-chan string) (string, error) {
		var authURL string
		for line := range stderrLines {
			if u := strings.TrimSpace(line); strings.HasPrefix(u, "http") && strings.Contains(u, "/oauth/authorize?") {
				authURL = u
			}
			// "paste the address your browser ends on here" once the browser failed, "paste
			// the address it ends on" at once with --no-browser.
			if strings.Contains(line, "paste the address") && authURL != "" {
				resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(authURL)
				if err != nil {
					return "", err
				}
				resp.Body.Close()
				loc, err := resp.Location()
				if err != nil {
					return "", fmt.Errorf("authorization answered %d without a redirect", resp.StatusCode)
				}
				return loc.String(), nil
			}
		}
		return "", errors.New("the command never asked for the address to be pasted")
	}))
}

// runPerson runs args with its stdout and stderr passed through, gives find the command's
// stderr line by line, pastes what find returns on the command's stdin, closes it, and returns
// the command's exit code. Options before the command change the paste: -long-line-first
// pastes a line of 70 KiB before the address (a wrong clipboard), -wrap=Q puts the address
// between Q and its match (" ' or <), as chat programs do, -append=S adds S to its end, and
// -query-only pastes only the part after "?".
func runPerson(args []string, find func(stderrLines <-chan string) (string, error)) int {
	var before, open, closing, after string
	queryOnly := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch opt := args[0]; {
		case opt == "-long-line-first":
			before = strings.Repeat("x", 70<<10) + "\n"
		case opt == "-query-only":
			queryOnly = true
		case strings.HasPrefix(opt, "-append="):
			after = strings.TrimPrefix(opt, "-append=")
		case strings.HasPrefix(opt, "-wrap="):
			open = strings.TrimPrefix(opt, "-wrap=")
			closing = map[string]string{"<": ">"}[open]
			if closing == "" {
				closing = open
			}
		default:
			fmt.Fprintln(os.Stderr, "unknown option", opt)
			return 2
		}
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: <helper> command [args...]")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = os.Stdout
	stdin, _ := cmd.StdinPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	lines := make(chan string, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(os.Stderr, sc.Text())
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	go func() {
		addr, err := find(lines)
		if err != nil {
			fmt.Fprintln(os.Stderr, "person:", err)
		} else {
			if _, query, ok := strings.Cut(addr, "?"); ok && queryOnly {
				addr = query
			}
			fmt.Fprint(stdin, before)
			fmt.Fprintln(stdin, open+addr+after+closing)
		}
		stdin.Close()
		for range lines { // keep the reader going
		}
	}()
	wg.Wait()
	err := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}
