package browser

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// launcher writes a script with the given body that first records its arguments in a file.
func launcher(t *testing.T, body string) (script, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script = filepath.Join(dir, "open")
	body = "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\n" + body
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, argsFile
}

func TestOpenerRunsBrowserCommand(t *testing.T) {
	const u = "http://127.0.0.1:1/oauth/authorize?client_id=a&state=b"
	script, argsFile := launcher(t, "echo launcher noise\necho launcher warning >&2\n")
	tests := []struct {
		command string
		want    []string
	}{
		{script, []string{u}},
		{script + " --new-window", []string{"--new-window", u}},
		{script + " %s --flag", []string{u, "--flag"}},
	}
	for _, tt := range tests {
		if err := (Opener{Command: tt.command}).Open(u); err != nil {
			t.Fatalf("Open with %q: %v", tt.command, err)
		}
		data, _ := os.ReadFile(argsFile)
		if got := strings.Split(strings.TrimSpace(string(data)), "\n"); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%q got arguments %q; want %q", tt.command, got, tt.want)
		}
	}
}

// TestOpenerFailure: a failing launcher's last words are part of the one-line error, cleaned of
// control characters; and a browser it left running with the pipe open does not hold Open.
func TestOpenerFailure(t *testing.T) {
	tests := []struct {
		name, body string
		want       string
	}{
		{"says why", "echo 'first line' >&2\necho 'xdg-open: no method available for opening the URL' >&2\nexit 3\n",
			"exit status 3: xdg-open: no method available for opening the URL"},
		{"control characters", "printf 'bad \\033[2J news\\n' >&2\nexit 1\n", "exit status 1: bad [2J news"},
		{"silent", "exit 4\n", "exit status 4"},
		{"leaves a child holding the pipe", "sleep 30 &\necho gone >&2\nexit 1\n", "exit status 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script, _ := launcher(t, tt.body)
			start := time.Now()
			err := (Opener{Command: script}).Open("http://127.0.0.1:1/")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "$BROWSER") {
				t.Fatalf("Open = %v; want an error naming $BROWSER and containing %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\033") {
				t.Errorf("the error is not one clean line: %q", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Open took %v: it waited for the launcher's child", d)
			}
		})
	}
	err := (Opener{Command: "/nonexistent/browser"}).Open("http://127.0.0.1:1/")
	if err == nil || !strings.Contains(err.Error(), "$BROWSER") {
		t.Errorf("Open = %v; want an error naming $BROWSER", err)
	}
}

func TestCanOpen(t *testing.T) {
	tests := []struct {
		goos string
		env  map[string]string
		want bool
	}{
		{"linux", nil, false},
		{"linux", map[string]string{"DISPLAY": ":0"}, true},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, true},
		{"linux", map[string]string{"WSL_DISTRO_NAME": "Debian"}, true},
		{"linux", map[string]string{"SSH_CONNECTION": "192.0.2.1 5 192.0.2.2 22"}, false},
		{"freebsd", nil, false},
		{"darwin", nil, true},
		{"windows", nil, true},
	}
	for _, tt := range tests {
		ok, why := CanOpen(func(k string) string { return tt.env[k] }, tt.goos)
		if ok != tt.want {
			t.Errorf("CanOpen(%s, %v) = %v; want %v", tt.goos, tt.env, ok, tt.want)
		}
		if !ok && !strings.Contains(why, "DISPLAY and WAYLAND_DISPLAY are unset") {
			t.Errorf("CanOpen(%s, %v) says %q; want the variables named", tt.goos, tt.env, why)
		}
	}
}

// TestOpenerWithoutDisplay: with no $BROWSER and no display, no launcher is run.
func TestOpenerWithoutDisplay(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("macOS and Windows open browsers without a display variable")
	}
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	for _, name := range []string{"xdg-open", "x-www-browser", "www-browser"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\ntouch "+ran+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	err := Opener{Getenv: func(string) string { return "" }}.Open("http://127.0.0.1:1/")
	if err == nil || !strings.Contains(err.Error(), "no display") {
		t.Errorf("Open = %v; want the missing display named", err)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("a launcher ran without a display")
	}
}
