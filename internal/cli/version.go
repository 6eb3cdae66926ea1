package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Build says which build of pleoauth this is. Release builds stamp it with -ldflags (see the
// Makefile); a "go install" build leaves it empty and [Build.Resolve] reads the module's build
// information instead.
type Build struct {
	Version string
	Commit  string
	Date    string
}

// Resolve fills what the linker did not stamp from the binary's embedded build information.
func (b Build) Resolve() Build {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b.orUnknown()
	}
	if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && b.Commit == "":
			b.Commit = s.Value
		case s.Key == "vcs.time" && b.Date == "":
			b.Date = s.Value
		}
	}
	return b.orUnknown()
}

func (b Build) orUnknown() Build {
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

// versionReport is what version --json prints.
type versionReport struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Built   string `json:"built"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

func newVersionCmd(d *Deps) *cobra.Command {
	o := &jsonOutput{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print pleoauth's version, commit, build date and Go version",
		Long: `Version prints the release, the commit it was built from, the build date and the Go
version. Release binaries carry these from the build; a "go install" build reads them from the
module's build information.`,
		Args: cobra.NoArgs,
		Example: `  pleoauth version
  pleoauth version --jq .version`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.prepare(); err != nil {
				return err
			}
			b := d.Build.Resolve()
			if o.on() {
				return o.write(cmd.Context(), d.Stdout, versionReport{b.Version, b.Commit, b.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH})
			}
			return printVersion(d)
		},
	}
	addJSONFlags(cmd, o, "the build")
	return cmd
}

// printVersion is what "pleoauth version" and "pleoauth --version" print.
func printVersion(d *Deps) error {
	b := d.Build.Resolve()
	_, err := fmt.Fprintf(d.Stdout, "pleoauth %s\ncommit:  %s\nbuilt:   %s\ngo:      %s %s/%s\n",
		b.Version, b.Commit, b.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
