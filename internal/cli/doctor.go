package cli

import (
	"fmt"
	"strings"

	"github.com/pleoauth/pleoauth/internal/doctor"
	"github.com/spf13/cobra"
)

type doctorOptions struct {
	jsonOutput
}

func newDoctorCmd(d *Deps) *cobra.Command {
	o := &doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the setup of an environment, each problem with its fix",
		Long: `Doctor checks what a login and a refresh need, and prints each check with a one-line fix
when it fails: PLEOAUTH_* variables it does not read (a typo, with the name it was meant to
be); the config file; the environment's settings; a client secret (never shown); the
token store (the keychain answers, and a file can be written and removed in the real tokens
folder); the browser launcher (on Linux only with a display, DISPLAY or WAYLAND_DISPLAY, or with
$BROWSER set; otherwise login asks for the address to be pasted); the redirect port on 127.0.0.1
and ::1, or "paste-back" for a redirect URI off this machine; the authorization server
(reachable, TLS, and the clock skew read from its Date header); the stored token; and whether
its next refresh can be sent from here (a client secret from PLEOAUTH_CLIENT_SECRET or kept by
the store). It exits 1 when a check fails.`,
		Example: `  pleoauth doctor --env staging
  pleoauth doctor --jq '.checks[] | select(.status != "ok")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd, d, o)
		},
	}
	addJSONFlags(cmd, &o.jsonOutput, "the checks")
	return cmd
}

// doctorReport is what doctor --json prints.
type doctorReport struct {
	OK     bool           `json:"ok"`
	Checks []doctor.Check `json:"checks"`
}

func runDoctor(cmd *cobra.Command, d *Deps, o *doctorOptions) error {
	if err := o.prepare(); err != nil {
		return err
	}
	cfg, err := loadConfig(cmd, d)
	checks := doctor.Run(cmd.Context(), cfg, err, d.grantDeps(), d.environ())
	failed := 0
	for _, c := range checks {
		if c.Status == "fail" {
			failed++
		}
	}
	var printed error
	if o.on() {
		printed = o.write(cmd.Context(), d.Stdout, doctorReport{OK: failed == 0, Checks: checks})
	} else {
		for _, c := range checks {
			fmt.Fprintf(d.Stdout, "%-4s  %-14s %s\n", strings.ToUpper(c.Status), c.Name, c.Detail)
			if c.Fix != "" {
				fmt.Fprintf(d.Stdout, "      %-14s fix: %s\n", "", c.Fix)
			}
		}
	}
	var own error
	if failed > 0 {
		own = fmt.Errorf("doctor: %d of %d checks failed; see the fixes above", failed, len(checks))
	}
	return outcome(d.Stderr, printed, own)
}
