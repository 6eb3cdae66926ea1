package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/grant"
)

// envReport is what env --json prints.
type envReport struct {
	Selected string      `json:"selected"`
	Envs     []envStatus `json:"envs"`
}

// envStatus is one environment as env lists it.
type envStatus struct {
	Name     string `json:"name"`
	Selected bool   `json:"selected"`
	// LoggedIn and Refused are about the selected profile's login, read from the store only.
	LoggedIn      bool   `json:"logged_in"`
	Refused       bool   `json:"refused"`
	AuthServerURL string `json:"auth_server_url"`
	APIURL        string `json:"api_url"`
	// Profiles are the profiles with a login stored.
	Profiles []string `json:"profiles"`
	// Error says why the store could not tell.
	Error string `json:"error,omitempty"`
}

func newEnvCmd(d *Deps) *cobra.Command {
	o := &jsonOutput{}
	cmd := &cobra.Command{
		Use:   "env",
		Short: "List the environments, the default one, and which are logged in",
		Long: `Env lists every environment pleoauth knows — the built-in staging, production and local, and
those in config.yaml — with whether it is the one selected (by --env, PLEOAUTH_ENV or
default_env), whether the selected profile has tokens stored for it, its authorization server,
and the profiles logged in to it. It contacts no server.`,
		Example: `  pleoauth env
  pleoauth env --jq '.envs[] | select(.profiles != []) | .name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.prepare(); err != nil {
				return err
			}
			cfg, err := loadConfig(cmd, d)
			if err != nil {
				return err
			}
			report := envReport{Selected: cfg.Env, Envs: []envStatus{}}
			for _, name := range cfg.Names() {
				report.Envs = append(report.Envs, envOf(cmd.Context(), cfg, name, name == report.Selected, d))
			}
			cfg.Env = report.Selected
			if o.on() {
				return o.write(cmd.Context(), d.Stdout, report)
			}
			w := tabwriter.NewWriter(d.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ENV\tSELECTED\tLOGGED IN\tAUTH SERVER\tPROFILES")
			for _, e := range report.Envs {
				state := yesNo(e.LoggedIn)
				switch {
				case e.Error != "":
					state = "unknown (" + e.Error + ")"
				case e.Refused:
					state = "refused"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Name, map[bool]string{true: "*", false: ""}[e.Selected], state, orDash(e.AuthServerURL), orDash(strings.Join(e.Profiles, ",")))
			}
			return w.Flush()
		},
	}
	addJSONFlags(cmd, o, "the environments")
	return cmd
}

// envOf reads environment name's logins from the store; cfg.Env is left set to name.
func envOf(ctx context.Context, cfg *config.Config, name string, selected bool, d *Deps) envStatus {
	cfg.Env = name
	e, _ := cfg.Configured(name)
	if selected {
		// The selected environment is shown as this run would use it.
		if resolved, err := cfg.Environment(); err == nil {
			e = resolved
		}
	}
	out := envStatus{Name: name, Selected: selected, AuthServerURL: e.AuthServerURL, APIURL: e.APIURL, Profiles: []string{}}
	g, err := grant.Open(cfg, e, d.grantDeps())
	if err != nil {
		out.Error = err.Error()
		return out
	}
	st, err := g.Status(ctx)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.LoggedIn = st.Bundle != nil && st.Bundle.Refused == nil
	out.Refused = st.Bundle != nil && st.Bundle.Refused != nil
	if profiles, err := g.Profiles(); err == nil {
		out.Profiles = profiles
	}
	return out
}
