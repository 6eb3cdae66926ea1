package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/spf13/cobra"
)

// configListReport is what config list --json prints.
type configListReport struct {
	Env      string          `json:"env"`
	Settings []settingReport `json:"settings"`
}

type settingReport struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

func newConfigListCmd(d *Deps) *cobra.Command {
	o := &jsonOutput{}
	cmd := &cobra.Command{
		Use: "list", Short: "List the settings and their sources", Args: cobra.NoArgs,
		Long: `List shows every setting of the selected environment, its value and where the value comes
from: a flag, a PLEOAUTH_* variable, config.yaml, a built-in default, or derived from
auth_server_url. The client secret is shown only as set or not.`,
		Example: `  pleoauth config list --env production
  pleoauth config list --jq '.settings[] | select(.source == "file") | .key'`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.prepare(); err != nil {
				return err
			}
			cfg, err := loadConfig(cmd, d)
			if err != nil {
				return err
			}
			settings, err := cfg.Settings()
			if err != nil {
				return config.MarkUsage(err)
			}
			if o.on() {
				report := configListReport{Env: cfg.Env, Settings: []settingReport{}}
				for _, s := range settings {
					report.Settings = append(report.Settings, settingReport{s.Key, s.Value, s.Source})
				}
				return o.write(cmd.Context(), d.Stdout, report)
			}
			w := tabwriter.NewWriter(d.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SETTING\tVALUE\tFROM")
			for _, s := range settings {
				fmt.Fprintf(w, "%s\t%s\t%s\n", s.Key, orDash(s.Value), s.Source)
			}
			return w.Flush()
		},
	}
	addJSONFlags(cmd, o, "the settings")
	return cmd
}
