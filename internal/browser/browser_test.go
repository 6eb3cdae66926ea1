package browser

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// launcher writes a script that records its arguments in a file and prints noise, as real
// launchers do.
func launcher(t *testing.T) (script, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script = filepath.Join(dir, "open")
	body := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\necho launcher noise\necho launcher warning >&2\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, argsFile
}

func TestOpenerRunsBrowserCommand(t *testing.T) {
	const u = "http://127.0.0.1:1/oauth/authorize?client_id=a&state=b"
	script, argsFile := launcher(t)
	tests := []struct {
		command string
		want    []string
	}{
		{script, []string{u}},
		{script + " --new-window", []string{"--new-window", u}},
		{script + " %s --flag", []string{u, "--flag"}},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := (Opener{Command: tt.command, Output: &out}).Open(u); err != nil {
			t.Fatalf("Open with %q: %v", tt.command, err)
		}
		data, _ := os.ReadFile(argsFile)
		if got := strings.Split(strings.TrimSpace(string(data)), "\n"); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%q got arguments %q; want %q", tt.command, got, tt.want)
		}
		if !strings.Contains(out.String(), "launcher noise") || !strings.Contains(out.String(), "launcher warning") {
			t.Errorf("launcher output did not reach the given writer: %q", out.String())
		}
	}
}

func TestOpenerReportsFailure(t *testing.T) {
	var out bytes.Buffer
	err := (Opener{Command: "/nonexistent/browser", Output: &out}).Open("http://127.0.0.1:1/")
	if err == nil || !strings.Contains(err.Error(), "$BROWSER") {
		t.Errorf("Open = %v; want an error naming $BROWSER", err)
	}
}
