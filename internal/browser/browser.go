// Package browser opens the authorization URL in the user's browser. What the launcher prints
// never reaches the terminal while it runs, where it would break into the progress line, and
// never stdout, which carries only data: it is kept, and its last line is part of the error
// when the launcher fails.
package browser

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	pkgbrowser "github.com/pkg/browser"

	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// Opener opens URLs with the command in Command (the value of $BROWSER), or with the desktop's
// default browser through github.com/pkg/browser when Command is empty.
type Opener struct {
	// Command is split on spaces; the URL replaces a "%s" argument or is appended as the last one.
	Command string
	// Getenv reads the environment, to tell whether a desktop browser can open ([CanOpen]);
	// nil means os.Getenv.
	Getenv func(string) string
	// Env is the launcher's environment; nil means pleoauth's own. A browser the launcher
	// starts keeps it for as long as it runs (/proc/<pid>/environ), so pleoauth passes its
	// environment without its secrets.
	Env []string
}

// lastWordsWait bounds how long a failed launcher's output is awaited after it exited: a
// browser it started may hold the pipe open for as long as it runs.
const lastWordsWait = time.Second

// Open starts the browser on url and waits for the launcher to exit. Without $BROWSER and
// without a display it fails at once rather than run a launcher that cannot show a window (or
// that starts a text browser on the terminal pleoauth is reading).
func (o Opener) Open(url string) error {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if strings.TrimSpace(o.Command) == "" {
		if ok, why := CanOpen(getenv, runtime.GOOS); !ok {
			return fmt.Errorf("%s", why)
		}
	}
	// The launcher writes into a pipe that is drained into memory: an *os.File, so that
	// os/exec does not wait for a browser the launcher leaves running to close it.
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start a browser: %w", err)
	}
	said := make(chan string, 1)
	go func() {
		said <- lastLine(pr)
		pr.Close()
	}()
	runErr := o.run(url, pw)
	pw.Close()
	if runErr == nil {
		return nil // what it said is drained and dropped
	}
	select {
	case last := <-said:
		if last != "" {
			return fmt.Errorf("%w: %s", runErr, last)
		}
	case <-time.After(lastWordsWait):
	}
	return runErr
}

func (o Opener) run(url string, out *os.File) error {
	if strings.TrimSpace(o.Command) == "" {
		if o.Env != nil && desktopLaunchers[runtime.GOOS] != nil {
			return o.runDesktop(url, out)
		}
		// pkg/browser keeps its output streams in package variables.
		pkgbrowser.Stdout = out
		pkgbrowser.Stderr = out
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
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = o.Env
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run $BROWSER (%s): %w", args[0], err)
	}
	return nil
}

// desktopLaunchers are the programs pkg/browser tries, in its order, where the browser they
// start is their child and so inherits their environment. Elsewhere (macOS's open, Windows'
// rundll32) the system starts the browser, and pkg/browser is used as it is.
var desktopLaunchers = map[string][]string{
	"linux":   {"xdg-open", "x-www-browser", "www-browser"},
	"freebsd": {"xdg-open", "x-www-browser", "www-browser"},
	"openbsd": {"xdg-open", "x-www-browser", "www-browser"},
	"netbsd":  {"xdg-open", "x-www-browser", "www-browser"},
}

// runDesktop runs the first desktop launcher found, as pkg/browser does, with o.Env.
func (o Opener) runDesktop(url string, out *os.File) error {
	for _, name := range desktopLaunchers[runtime.GOOS] {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		cmd := exec.Command(path, url)
		cmd.Stdout, cmd.Stderr, cmd.Env = out, out, o.Env
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("run %s: %w", name, err)
		}
		return nil
	}
	return fmt.Errorf("none of %s is installed", strings.Join(desktopLaunchers[runtime.GOOS], ", "))
}

// lastLine reads r to its end and returns its last non-blank line, cleaned for one terminal
// line; it keeps only the tail of what it read.
func lastLine(r io.Reader) string {
	const keep = 4096
	var tail []byte
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		tail = append(tail, buf[:n]...)
		if len(tail) > keep {
			tail = tail[len(tail)-keep:]
		}
		if err != nil {
			break
		}
	}
	lines := bytes.Split(bytes.TrimSpace(tail), []byte("\n"))
	return sanitize.Line(string(lines[len(lines)-1]), 200)
}

// CanOpen reports whether a desktop browser can be opened on this machine without $BROWSER,
// and if not, why. On Linux and the BSDs a launcher needs a graphical session — DISPLAY
// (X11) or WAYLAND_DISPLAY — unless it runs under WSL, where the Windows browser opens; an SSH
// session or a container has none. macOS and Windows always have their own.
func CanOpen(getenv func(string) string, goos string) (bool, string) {
	switch goos {
	case "darwin", "windows":
		return true, ""
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" || getenv("WSL_DISTRO_NAME") != "" {
		return true, ""
	}
	return false, "no display to open a browser on: DISPLAY and WAYLAND_DISPLAY are unset"
}
