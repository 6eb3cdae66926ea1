package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/httpclient"
	"github.com/pleoauth/pleoauth/internal/store"
)

// Deps is the outside world a run of pleoauth touches. [SystemDeps] returns the real one; tests
// build their own, so that [Main] runs in-process.
type Deps struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// StdoutIsTerminal and StderrIsTerminal tell whether a person reads the output.
	StdoutIsTerminal func() bool
	StderrIsTerminal func() bool
	// Interactive reports whether a person is at the terminal: stdin is a terminal and CI is not
	// set. A non-interactive run never prompts and never opens a browser on its own.
	Interactive func() bool
	// ReadSecret asks for a secret without echo, until ctx ends (Ctrl-C at the prompt).
	ReadSecret func(ctx context.Context, prompt string) (string, error)
	// Environ lists the process environment, for doctor's check of the PLEOAUTH_* names; nil
	// means none.
	Environ func() []string
	// Getenv reads the process environment (BROWSER, CI).
	Getenv func(string) string
	// Now is the clock.
	Now func() time.Time
	// HTTPClient makes every request pleoauth sends; nil means [httpclient.New], made when the
	// first request is (a cached "pleoauth token" sends none).
	HTTPClient *http.Client
	// OpenBrowser opens a URL; nil means the $BROWSER or desktop opener.
	OpenBrowser func(url string) error
	// Keychain is the OS credential store.
	Keychain store.Keychain
	// Sleep waits before a retry (a busy API's 429 or 503), or until ctx ends; nil means
	// backoff.Sleep.
	Sleep func(ctx context.Context, d time.Duration) error

	// Build identifies this build of pleoauth.
	Build Build

	// jqLimitsOverride replaces [defaultJQLimits] for "api --jq", so that tests reach each limit
	// in a moment; nil means the defaults.
	jqLimitsOverride *jqLimits
}

// jqLimits are the bounds of one --jq run of "api".
func (d *Deps) jqLimits() jqLimits {
	if d.jqLimitsOverride != nil {
		return *d.jqLimitsOverride
	}
	return defaultJQLimits()
}

// SystemDeps returns the Deps of a real process.
func SystemDeps(build Build) *Deps {
	stderr := os.Stderr
	return &Deps{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: stderr,
		Interactive: func() bool {
			return term.IsTerminal(int(os.Stdin.Fd())) && !config.IsCI(os.Getenv)
		},
		ReadSecret: func(ctx context.Context, prompt string) (string, error) {
			return readSecret(ctx, int(os.Stdin.Fd()), stderr, prompt)
		},
		StdoutIsTerminal: func() bool { return term.IsTerminal(int(os.Stdout.Fd())) },
		StderrIsTerminal: func() bool { return term.IsTerminal(int(os.Stderr.Fd())) },
		Getenv:           os.Getenv,
		Environ:          os.Environ,
		Now:              time.Now,
		Keychain:         store.OSKeychain{},
		Build:            build,
	}
}

// httpClient is d.HTTPClient, made on first use.
func (d *Deps) httpClient() *http.Client {
	if d.HTTPClient == nil {
		d.HTTPClient = httpclient.New()
	}
	return d.HTTPClient
}

// grantDeps is the part of the outside world a login touches.
func (d *Deps) grantDeps() grant.Deps {
	return grant.Deps{
		Stderr: d.Stderr, Getenv: d.Getenv, Now: d.Now, HTTPClient: d.httpClient, Keychain: d.Keychain,
		Interactive: d.Interactive, ReadSecret: d.ReadSecret,
	}
}

// readSecret reads a line from the terminal fd without echo. term.ReadPassword cannot be
// stopped, so it runs on its own while this waits for it or for ctx: on Ctrl-C (SIGINT, caught
// by the interrupt context) the terminal gets its echo back at once and the login ends with 130,
// rather than waiting for an Enter that only then reports "no client secret".
func readSecret(ctx context.Context, fd int, stderr io.Writer, prompt string) (string, error) {
	if !term.IsTerminal(fd) {
		return "", errors.New("stdin is not a terminal")
	}
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, prompt)
	type answer struct {
		line []byte
		err  error
	}
	read := make(chan answer, 1)
	go func() {
		line, err := term.ReadPassword(fd)
		read <- answer{line, err}
	}()
	select {
	case a := <-read:
		fmt.Fprintln(stderr)
		return string(a.line), a.err
	case <-ctx.Done():
		_ = term.Restore(fd, state) // the abandoned read ends with the process
		fmt.Fprintln(stderr)
		return "", ctx.Err()
	}
}

func (d *Deps) environ() []string {
	if d.Environ == nil {
		return nil
	}
	return d.Environ()
}
