package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/grant"
)

type whoamiOptions struct {
	jsonOutput
}

func newWhoamiCmd(d *Deps) *cobra.Command {
	o := &whoamiOptions{}
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show whose login a profile holds, as the API says",
		Long: `Whoami asks the environment's API who the profile's token speaks for — Pleo's
GET /v1/introspect, with the token refreshed first when needed — and prints the client ID, the
application, the scope, the authentication method and the subject: the Pleo company
(urn:pleo:company:<uuid>) or organisation. --json prints the same in pleoauth's snake_case
fields (docs/json.md); "pleoauth api /v1/introspect" prints the server's answer as it came.`,
		Example: `  pleoauth whoami --env staging
  pleoauth whoami --env staging --profile acme --jq .subject`,
		Args: cobra.NoArgs,
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, _ []string) error {
			return runWhoami(ctx, d, g, o)
		}),
	}
	addJSONFlags(cmd, &o.jsonOutput, "the login's identity")
	return cmd
}

// whoamiReport is what whoami --json prints: Pleo's /v1/introspect answer under pleoauth's
// snake_case names, with the login it was asked for.
type whoamiReport struct {
	Env             string `json:"env"`
	Profile         string `json:"profile"`
	Subject         string `json:"subject"`
	ClientID        string `json:"client_id"`
	ApplicationName string `json:"application_name"`
	Scope           string `json:"scope"`
	AuthMethod      string `json:"auth_method"`
}

func runWhoami(ctx context.Context, d *Deps, g *grant.Grant, o *whoamiOptions) error {
	if err := o.prepare(); err != nil {
		return err
	}
	c, err := apiClient(d, g)
	if err != nil {
		return err
	}
	id, err := c.Introspect(ctx)
	if err != nil {
		return apiError(g, err)
	}
	if o.on() {
		return o.write(ctx, d.Stdout, whoamiReport{
			Env: g.Env.Name, Profile: g.Profile, Subject: id.SubjectURN, ClientID: id.ClientID,
			ApplicationName: id.ApplicationName, Scope: id.Scope, AuthMethod: id.AuthMethod,
		})
	}
	w := d.Stdout
	fmt.Fprintf(w, "env:          %s (profile %s)\n", g.Env.Name, g.Profile)
	fmt.Fprintf(w, "subject:      %s\n", orDash(id.SubjectURN))
	fmt.Fprintf(w, "client id:    %s\n", orDash(id.ClientID))
	fmt.Fprintf(w, "application:  %s\n", orDash(id.ApplicationName))
	fmt.Fprintf(w, "scope:        %s\n", orDash(id.Scope))
	fmt.Fprintf(w, "auth method:  %s\n", orDash(id.AuthMethod))
	return nil
}
