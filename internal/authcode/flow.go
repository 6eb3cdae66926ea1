// Package authcode runs the OAuth 2.0 authorization code flow with PKCE (RFC 6749 §4.1,
// RFC 7636) for a native app: loopback redirect or pasted address, browser, state check, code
// exchange.
package authcode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/loopback"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

// Login is one run of the flow.
type Login struct {
	// OAuth2 names the client, endpoints (with a pinned AuthStyle), redirect URL and scopes.
	OAuth2 *oauth2.Config
	// Issuer is the authorization server's issuer identifier, checked against an "iss" in the
	// redirect (RFC 9207); empty skips the check.
	Issuer string
	// Verifier is the PKCE code verifier; a fresh one is made when empty.
	Verifier string
	// AuthParams are extra parameters of the authorization request, such as Pleo's
	// urn_pleo_params_oauth_subject.
	AuthParams url.Values
	// HTTPClient makes the token request.
	HTTPClient *http.Client
	// OpenBrowser opens the authorization URL; nil only prints it.
	OpenBrowser func(url string) error
	// Stderr receives the URL and progress for the person at the terminal.
	Stderr io.Writer
	// Paste, when set, is read for a redirect address pasted by hand, but only once a paste is
	// needed or asked for: at once when there is no browser to open (OpenBrowser nil), the
	// redirect URI is off this machine, or its port is held by another program; otherwise only
	// once the browser could not open. While a browser opened fine and the listener waits,
	// Paste is never read, so a calling script's input is left alone and a login in a
	// terminal's background is not stopped for reading it. Once read, the listener keeps
	// waiting too and whichever arrives first wins. With Paste set, a redirect port held by
	// another program is not fatal: the login continues by paste alone. A redirect URI off
	// this machine needs it: the paste is then the only way the redirect arrives, and its end
	// fails the login.
	Paste io.Reader
	// Waiting, when set, runs while the login waits for a browser it opened on the loopback
	// redirect, with a context that ends — and Run waits for it to return — before anything
	// asks the person to paste and before the wait ends (a progress display, which must have
	// cleared its line by then).
	Waiting func(ctx context.Context)
	// BeforeExchange, when set, runs once a valid redirect arrived and before its code is
	// exchanged; an error stops the login without spending the code. The caller proves there
	// that it can keep the tokens.
	BeforeExchange func(ctx context.Context) error
	// Keep, when set, stores the tokens the exchange brought; the browser's result page says
	// "Logged in" only once it returned nil.
	Keep func(ctx context.Context, tok *oauth2.Token) error
}

// Run listens on the redirect URI, sends the user to the authorization URL, waits for the
// redirect until ctx ends, checks it, and exchanges the code for tokens.
//
// A redirect URI off this machine (an https page such as Postman's callback) is not listened
// on: the person pastes the address the browser ends on, and it is checked as a received
// redirect would be. Such a login needs Paste.
func (l *Login) Run(ctx context.Context) (*oauth2.Token, error) {
	redirect, err := url.Parse(l.OAuth2.RedirectURL)
	if err != nil {
		return nil, fmt.Errorf("redirect URI %q: %w", l.OAuth2.RedirectURL, err)
	}
	// Goroutines that outlive the login (a browser launcher that returns late, a stray request,
	// a paste) write through out, which goes quiet when Run returns.
	out := &lateWriter{w: l.Stderr}
	defer out.close()
	pasteBack := !loopback.Receivable(redirect)
	if pasteBack && l.Paste == nil {
		return nil, fmt.Errorf("redirect URI %s is a page off this machine, so its address must be pasted, and nothing can be pasted here; run pleoauth login in a terminal", redirect)
	}
	var receiver *loopback.Server
	var portInUse error // why there is no listener on a loopback redirect URI
	if !pasteBack {
		// Listen before the browser opens, so the redirect always finds us.
		receiver, err = loopback.Listen(redirect)
		var inUse *loopback.PortInUseError
		switch {
		case errors.As(err, &inUse) && l.Paste != nil:
			fmt.Fprintf(out, "%v\nContinuing without it: paste the address instead.\n", err)
			receiver, portInUse = nil, err
		case err != nil:
			return nil, err
		default:
			defer receiver.Close()
		}
	}

	verifier := l.Verifier
	if verifier == "" {
		verifier = NewVerifier()
	}
	state := NewState()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	for k, vs := range l.AuthParams {
		for _, v := range vs {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	authURL := l.OAuth2.AuthCodeURL(state, opts...)

	fmt.Fprintf(out, "Open this URL in a browser to log in:\n\n    %s\n\n", authURL)
	switch {
	case pasteBack:
		// Said once, before the browser opens: where the code goes, and why that is safe.
		fmt.Fprintf(out, "The redirect goes to %s, a page off this machine. After you log in, paste the address your browser ends on here and press Enter.\n"+
			"The code in that address is protected by PKCE: it is useless without the verifier, which never leaves this machine.\n", redirect)
	case receiver != nil:
		fmt.Fprintf(out, "Waiting for the redirect to %s ...\n", redirect)
	}
	if !pasteBack && l.Paste != nil && (receiver == nil || l.OpenBrowser == nil) {
		fmt.Fprintf(out, "If the browser cannot reach this machine, paste the address it ends on (%s?...) here and press Enter.\n", redirect)
	}

	waitCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	// The progress display runs only while nobody is asked to type: it stops, its line
	// cleared, before a paste prompt and before the wait ends.
	stopProgress := func() {}
	if l.Waiting != nil && l.OpenBrowser != nil && !pasteBack && receiver != nil {
		stopProgress = l.progress(waitCtx)
	}
	defer stopProgress()
	// Stdin is read for a paste only when one is needed or was asked for; pasteNow opens it.
	pasteNow := make(chan struct{})
	var pasteOnce sync.Once
	askPaste := func() { pasteOnce.Do(func() { close(pasteNow) }) }
	if pasteBack || receiver == nil || l.OpenBrowser == nil {
		askPaste()
	}
	if l.OpenBrowser != nil {
		go func() {
			err := l.OpenBrowser(authURL)
			if err == nil {
				return
			}
			stopProgress()
			if l.Paste == nil || receiver == nil {
				// Nothing new to ask: the paste prompt, if any, was shown already.
				fmt.Fprintf(out, "Could not open a browser (%v); open the URL above yourself.\n", err)
				return
			}
			// As gcloud does: the same run goes on by paste, and the listener keeps waiting
			// too, for a browser opened by hand on this machine.
			askPaste()
			fmt.Fprintf(out, "Could not open a browser (%v).\nOpen the URL above in a browser on any machine, log in, then paste the address your browser ends on here and press Enter.\n", err)
		}()
	}

	code, err := l.wait(waitCtx, receiver, redirect, state, pasteNow, out)
	if errors.Is(err, ErrNothingPasted) && portInUse != nil {
		err = fmt.Errorf("%w, and stdin ended before an address was pasted", portInUse)
	}
	stopProgress()
	stopWaiting()
	if err == nil && l.BeforeExchange != nil {
		err = l.BeforeExchange(ctx)
	}
	var tok *oauth2.Token
	if err == nil {
		tok, err = l.exchange(ctx, code, verifier)
	}
	if err == nil && l.Keep != nil {
		err = l.Keep(ctx, tok)
	}
	if receiver != nil {
		receiver.Finish(err) // the browser's result page tells the truth
	}
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// progress starts l.Waiting and returns what stops it: the stop returns only once Waiting has
// returned, so its line is cleared before anything else is written.
func (l *Login) progress(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Waiting(ctx)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}

// wait returns the code from the first valid redirect, by the listener or by paste; l.Paste is
// read only once pasteNow is closed.
func (l *Login) wait(ctx context.Context, receiver *loopback.Server, redirect *url.URL, state string, pasteNow <-chan struct{}, out io.Writer) (string, error) {
	type outcome struct {
		code string
		err  error
	}
	done := make(chan outcome, 2)
	if receiver != nil {
		var once sync.Once
		stray := func(reason string) {
			once.Do(func() {
				fmt.Fprintf(out, "Ignored a request to the redirect address that is not this login's: %s. Still waiting for the browser.\n", reason)
			})
		}
		go func() {
			var code string
			_, err := receiver.Receive(ctx, func(q url.Values) error {
				c, err := CheckCallback(q, state, l.Issuer)
				// Not this login's: any local program or web page can send it, so it must not
				// end the wait; and its code is never used (RFC 6749 §10.12).
				switch {
				case errors.Is(err, ErrStateMismatch) && errors.Is(err, ErrRepeated):
					return &loopback.Stray{Reason: "it carries state more than once (RFC 6749 §3.1)"}
				case errors.Is(err, ErrStateMismatch):
					return &loopback.Stray{Reason: "its state does not match (a stale browser tab, or a forged request)"}
				}
				code = c
				return err
			}, stray)
			done <- outcome{code, err}
		}()
	}
	if l.Paste != nil {
		go func() {
			select {
			case <-pasteNow:
			case <-ctx.Done():
				return
			}
			if ctx.Err() != nil {
				return // a launcher that failed only after the login ended asks for nothing
			}
			in := bufio.NewReader(l.Paste)
			for {
				line, tooLong, readErr := readLine(in, maxPasteLine)
				if tooLong {
					fmt.Fprintf(out, "That line is too long to be the address; paste it again.\n")
					continue
				}
				if line = strings.TrimSpace(line); line == "" {
					if readErr != nil {
						break
					}
					continue
				}
				code, again, err := checkPasted(line, redirect, state, l.Issuer)
				if again {
					// A mistyped paste is not the end of the login: say why and keep waiting.
					fmt.Fprintf(out, "That address was not accepted: %v. Paste it again.\n", err)
					continue
				}
				done <- outcome{code, err}
				return
			}
			if receiver == nil {
				// Nothing else can bring the redirect: waiting on would only time out.
				done <- outcome{"", fmt.Errorf("%w; the redirect goes to %s, so run pleoauth login in a terminal and paste that address, or give it on stdin", ErrNothingPasted, redirect)}
			}
		}()
	}
	if receiver == nil && l.Paste == nil {
		return "", errors.New("nothing can receive the redirect")
	}
	select {
	case o := <-done:
		return o.code, o.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// exchange trades the code for tokens (RFC 6749 §4.1.3) with the PKCE verifier (RFC 7636 §4.5).
func (l *Login) exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, l.HTTPClient)
	tok, err := l.OAuth2.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, tokenendpoint.Classify(l.OAuth2.Endpoint.TokenURL, err, append(tokenendpoint.CredentialForms(l.OAuth2.ClientID, l.OAuth2.ClientSecret), code, verifier)...)
	}
	if err := tokenendpoint.CheckTokenType(tok.TokenType); err != nil {
		return nil, fmt.Errorf("token endpoint %s: %w", l.OAuth2.Endpoint.TokenURL, err)
	}
	if err := tokenendpoint.CheckAccessToken(tok.AccessToken); err != nil {
		return nil, fmt.Errorf("token endpoint %s: %w", l.OAuth2.Endpoint.TokenURL, err)
	}
	return tok, nil
}

// lateWriter passes writes on until it is closed, and drops them after: a goroutine that
// outlives the login must not write to the terminal once the command prints its result.
type lateWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (l *lateWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return len(p), nil
	}
	return l.w.Write(p)
}

func (l *lateWriter) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
}
