package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/grant"
)

type whoamiOptions struct {
	JSON bool
}

func newWhoamiCmd(d *Deps) *cobra.Command {
	o := &whoamiOptions{}
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show whose login a profile holds, as the API says",
		Long: `Whoami asks the environment's API who the profile's token speaks for — Pleo's
GET /v1/introspect, with the token refreshed first when needed — and prints the client ID, the
application, the scope, the authentication method and the subject: the Pleo company
(urn:pleo:company:<uuid>) or organisation. --json prints the server's data as it came.`,
		Example: `  pleoauth whoami --env staging
  pleoauth whoami --env staging --profile acme --json | jq -r .subjectURN`,
		Args: cobra.NoArgs,
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, _ []string) error {
			return runWhoami(ctx, d, g, o)
		}),
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the server's data as JSON")
	return cmd
}

func runWhoami(ctx context.Context, d *Deps, g *grant.Grant, o *whoamiOptions) error {
	c, err := apiClient(d, g)
	if err != nil {
		return err
	}
	id, raw, err := c.Introspect(ctx)
	if err != nil {
		return apiError(g, err)
	}
	if o.JSON {
		_, err := fmt.Fprintln(d.Stdout, string(raw))
		return err
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
