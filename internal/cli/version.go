package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newVersionCmd(d *Deps) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print pleoauth's version",
		Args:    cobra.NoArgs,
		Example: "  pleoauth version",
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(d.Stdout, "pleoauth %s\n", d.Version)
			return err
		},
	}
}
