// Package browser opens the authorization URL in the user's browser. Whatever the launcher
// prints goes to the given writer (stderr), never to stdout, which carries only data.
package browser

import (
	"fmt"
	"io"
	"os/exec"
	"strings"

	pkgbrowser "github.com/pkg/browser"
)

// Opener opens URLs with the command in Command (the value of $BROWSER), or with the desktop's
// default browser through github.com/pkg/browser when Command is empty.
type Opener struct {
	// Command is split on spaces; the URL replaces a "%s" argument or is appended as the last one.
	Command string
	// Output receives the launcher's stdout and stderr.
	Output io.Writer
}

// Open starts the browser on url and waits for the launcher to exit.
func (o Opener) Open(url string) error {
	if strings.TrimSpace(o.Command) == "" {
		// pkg/browser keeps its output streams in package variables; point them away from stdout.
		pkgbrowser.Stdout = o.Output
		pkgbrowser.Stderr = o.Output
		return pkgbrowser.OpenURL(url)
	}
	args := strings.Fields(o.Command)
	placed := false
	for i, a := range args {
		if a == "%s" {
			args[i], placed = url, true
		}
	}
	if !placed {
		args = append(args, url)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = o.Output
	cmd.Stderr = o.Output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run $BROWSER (%s): %w", args[0], err)
	}
	return nil
}
