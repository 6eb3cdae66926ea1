package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/sanitize"
	"github.com/pleoauth/pleoauth/internal/store"
)

type statusOptions struct {
	jsonOutput
}

func newStatusCmd(d *Deps) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether an environment is logged in and until when",
		Long: `Status shows the stored logins of an environment without contacting any server: for each
profile (or only the one --profile names), whether it is logged in, when the access token
expires (RFC 3339 UTC and seconds left), the scopes, whose login it is (the Pleo company or
organisation), whether a refresh token is held, whether the next refresh can be sent from here
(and where its client secret comes from, or why not and what to do), and the store. It exits
with 4 unless every login listed is usable (no tokens, an expired access token that cannot be
refreshed, or a refresh token the server refused, which it names with when and why), also with
--json. A login that cannot be read (a corrupt or unreadable file, another store key, a locked
keychain) is listed with "error:" and why, after which the other profiles are still shown; the
exit code is then that error's.

With --json the first login's fields are at the top, as before profiles existed, and
"profiles" lists every login.`,
		Example: `  pleoauth status --env staging
  pleoauth status --env staging --profile acme
  pleoauth status --jq '.profiles[] | {profile, subject, expires_in}'`,
		Args: cobra.NoArgs,
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, _ []string) error {
			return runStatus(ctx, d, g, o)
		}),
	}
	addJSONFlags(cmd, &o.jsonOutput, "the status")
	return cmd
}

type nextRefresh struct {
	OK  bool   `json:"ok"`
	Why string `json:"why"`
	Fix string `json:"fix,omitempty"`
}

type statusReport struct {
	Env          string `json:"env"`
	Profile      string `json:"profile"`
	LoggedIn     bool   `json:"logged_in"`
	ExpiresAt    string `json:"expires_at,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
	Expired      bool   `json:"expired"`
	Scope        string `json:"scope,omitempty"`
	Subject      string `json:"subject,omitempty"`
	RefreshToken bool   `json:"refresh_token"`
	// NextRefresh says whether the next refresh can be sent from here: where its client
	// secret comes from, or why not and what to do.
	NextRefresh *nextRefresh `json:"next_refresh,omitempty"`
	Store       string       `json:"store"`
	// Refused says when and why the server refused the refresh token; the login is over.
	Refused *store.Refusal `json:"refused,omitempty"`
	// Unsaved says why the login waits for a refresh (or login, or import) that another
	// process sent and whose answer is not in the store, or that it never will be.
	Unsaved string `json:"unsaved,omitempty"`
	// Error says why the login could not be read (a corrupt or unreadable file, another store
	// key, a locked keychain); the other logins are listed all the same.
	Error string `json:"error,omitempty"`
	// Profiles lists every login of the environment, when no --profile chose one.
	Profiles []statusReport `json:"profiles,omitempty"`

	name    string // the login's name, for the error
	broken  error  // why the login could not be read
	stuck   error  // an expired access token whose refresh cannot be sent
	unsaved error  // what token would answer while a spend waits for its answer
}

func runStatus(ctx context.Context, d *Deps, g *grant.Grant, o *statusOptions) error {
	if err := o.prepare(); err != nil {
		return err
	}
	logins := []*grant.Grant{g}
	if !g.ProfileChosen() {
		all, err := g.AllProfiles()
		if err != nil {
			return err
		}
		if len(all) > 0 {
			logins = all
		}
	}
	var reports []statusReport
	for _, l := range logins {
		r, err := loginStatus(ctx, d, l)
		switch {
		case err == nil:
		case g.ProfileChosen() || ctx.Err() != nil:
			return err
		default:
			// One login that cannot be read (a corrupt file, a wrong key, a locked keychain)
			// must not hide the others: it is listed with why, and decides the exit code
			// where it stands in the order (loginsError).
			r.broken = err
			r.Error = sanitize.Text(err.Error(), 500)
		}
		reports = append(reports, r)
	}
	var printed error
	if o.on() {
		out := reports[0]
		if !g.ProfileChosen() {
			out.Profiles = reports
		}
		printed = o.write(ctx, d.Stdout, out)
	} else {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(d.Stdout)
			}
			printStatus(d, r)
		}
	}
	return outcome(d.Stderr, printed, loginsError(logins, reports))
}

// loginsError is status's own outcome: the first login of reports, in order, that cannot give
// a token, worded with its exit code; nil when every one can.
func loginsError(logins []*grant.Grant, reports []statusReport) error {
	for i, r := range reports {
		switch {
		case r.broken != nil:
			return r.broken
		case r.unsaved != nil:
			return r.unsaved
		case r.stuck != nil:
			return r.stuck
		case r.Refused != nil:
			return failure.NeedLogin(r.name, fmt.Sprintf("refresh token refused at %s (%s)", r.Refused.At.UTC().Format(time.RFC3339), r.Refused.Reason), nil)
		case !r.LoggedIn:
			return logins[i].NotLoggedIn()
		}
	}
	return nil
}

func loginStatus(ctx context.Context, d *Deps, g *grant.Grant) (statusReport, error) {
	st, err := g.Status(ctx)
	r := statusReport{Env: g.Env.Name, Profile: g.Profile, Store: st.Store, name: g.Name}
	if err != nil {
		return r, err
	}
	if st.Unsaved != nil {
		r.unsaved = st.Unsaved
		r.Unsaved = st.Unsaved.Error()
	}
	if b := st.Bundle; b != nil && b.AccessToken != "" {
		now := d.Now()
		r.ExpiresAt = b.Expiry.UTC().Format(time.RFC3339)
		r.ExpiresIn = max(int64(b.Expiry.Sub(now).Seconds()), 0)
		r.Expired = !b.Expiry.After(now)
		// Cleaned again as they are shown: a store written by an earlier release, or by hand,
		// may hold them as a server sent them.
		r.Scope = sanitize.Scope(b.Scope)
		r.Subject = sanitize.Text(b.Subject, 200)
		r.RefreshToken = b.RefreshToken != ""
		if b.Refused != nil {
			r.Refused = &store.Refusal{At: b.Refused.At, Reason: sanitize.Text(b.Refused.Reason, 200)}
		}
		next := g.NextRefresh(b)
		r.NextRefresh = &nextRefresh{OK: next.OK, Why: next.Why, Fix: next.Fix}
		r.LoggedIn = (!r.Expired || next.OK) && b.Refused == nil && st.Unsaved == nil
		if r.Expired && r.RefreshToken && !next.OK && b.Refused == nil && st.Unsaved == nil {
			r.stuck = failure.Wrap(failure.LoginRequired, fmt.Errorf("env %s: the access token expired and the next refresh cannot be sent: %s; %s", g.Name, next.Why, next.Fix))
		}
	}
	return r, nil
}

func printStatus(d *Deps, r statusReport) {
	w := d.Stdout
	fmt.Fprintf(w, "env:           %s\n", r.Env)
	fmt.Fprintf(w, "profile:       %s\n", r.Profile)
	fmt.Fprintf(w, "logged in:     %s\n", yesNo(r.LoggedIn))
	if r.Error != "" {
		fmt.Fprintf(w, "error:         %s\n", r.Error)
	}
	if r.ExpiresAt != "" {
		left := "expired"
		if !r.Expired {
			left = (time.Duration(r.ExpiresIn) * time.Second).String() + " left"
		}
		fmt.Fprintf(w, "access token:  expires %s (%s)\n", r.ExpiresAt, left)
		fmt.Fprintf(w, "scope:         %s\n", r.Scope)
		if r.Subject != "" {
			fmt.Fprintf(w, "subject:       %s\n", r.Subject)
		}
		fmt.Fprintf(w, "refresh token: %s\n", map[bool]string{true: "held", false: "none"}[r.RefreshToken])
	}
	if n := r.NextRefresh; n != nil && n.OK {
		fmt.Fprintf(w, "next refresh:  yes (%s)\n", n.Why)
	} else if n != nil && r.Refused == nil {
		fmt.Fprintf(w, "next refresh:  no: %s; %s\n", n.Why, n.Fix)
	}
	if r.Refused != nil {
		fmt.Fprintf(w, "refused:       %s by the server (%s); log in again\n", r.Refused.At.UTC().Format(time.RFC3339), r.Refused.Reason)
	}
	if r.Unsaved != "" {
		fmt.Fprintf(w, "unsaved:       %s\n", r.Unsaved)
	}
	fmt.Fprintf(w, "store:         %s\n", r.Store)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
