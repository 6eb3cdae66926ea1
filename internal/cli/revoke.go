package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/pleoauth/pleoauth/internal/api"
	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// installationPath is Pleo's disconnect: DELETE revokes every access and refresh token of the
// client's installation (204), or answers 404 when there is none. Pleo documents no endpoint
// that revokes a single token.
const installationPath = "/v1/installations/me"

// revokeOnce revokes g's installation at Pleo, unless a login earlier in this run (another
// profile, the same company) already did: its tokens are dead then, and a second call could
// only fail. revoked maps each company revoked to the profile that did it.
func revokeOnce(ctx context.Context, d *Deps, g *grant.Grant, revoked map[string]string) error {
	st, err := g.Status(ctx)
	if err != nil {
		return err
	}
	if st.Bundle == nil {
		return failure.NeedLogin(g.Name, "no token held here to revoke the installation with", nil)
	}
	subject := st.Bundle.Subject
	if by, ok := revoked[subject]; ok && subject != "" {
		fmt.Fprintf(d.Stderr, "The installation of %s, profile %s was revoked with profile %s.\n", g.Env.Name, g.Profile, by)
		return nil
	}
	if err := revokeInstallation(ctx, d, g, subject); err != nil {
		return err
	}
	revoked[subject] = g.Profile
	return nil
}

// revokeInstallation calls Pleo's disconnect with g's access token, refreshed when needed. When
// it fails, nothing was revoked and the error says the login is kept here, with the two ways on.
func revokeInstallation(ctx context.Context, d *Deps, g *grant.Grant, subject string) error {
	whose := "its company"
	if subject != "" {
		whose = sanitize.Text(subject, 200) // a store of an earlier release may hold it raw
	}
	fmt.Fprintf(d.Stderr, "pleoauth: warning: revoking at Pleo EVERY access and refresh token of this client's installation for %s (env %s), not only this login's: every machine, CI job and fleet member using it is logged out too.\n", whose, g.Env.Name)
	client, err := apiClient(d, g)
	if err != nil {
		return kept(g, err)
	}
	resp, err := client.Do(ctx, api.Request{Method: http.MethodDelete, Path: installationPath})
	if err != nil {
		return kept(g, apiError(g, err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound:
		fmt.Fprintf(d.Stderr, "Nothing to revoke: Pleo has no installation of this client for env %s (404).\n", g.Env.Name)
	case code >= 200 && code < 300:
		fmt.Fprintf(d.Stderr, "Revoked at Pleo every access and refresh token of the installation (env %s).\n", g.Env.Name)
	default:
		err := fmt.Errorf("env %s: DELETE %s answered %s", g.Env.Name, resp.Request.URL.Redacted(), api.Status(resp))
		if code >= 500 || code == http.StatusTooManyRequests {
			err = failure.Wrap(failure.Temporary, err)
		}
		return kept(g, err)
	}
	return nil
}

// kept words a failed revocation: nothing was revoked, so the login stays here, and the user
// either tries again or forgets it here only. A login the server no longer accepts keeps its
// exit code 4 and gets the login command as its next step from [Main].
func kept(g *grant.Grant, err error) error {
	var login *failure.LoginRequiredError
	if errors.As(err, &login) {
		return fmt.Errorf("nothing revoked, the login is kept: %w", err)
	}
	flags := " --env " + g.Env.Name
	if g.Profile != "" && g.Profile != config.DefaultProfile {
		flags += " --profile " + g.Profile
	}
	return failure.Wrap(failure.KindOf(err), fmt.Errorf("%v; nothing was revoked and the login is kept here: run \"pleoauth logout --revoke%s\" again, or \"pleoauth logout%s\" to forget it here only", err, flags, flags))
}
