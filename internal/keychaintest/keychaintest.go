// Package keychaintest gives tests a real OS keychain on Linux: a private D-Bus session bus and
// an unlocked gnome-keyring Secret Service on it, torn down when the test ends. Nothing of the
// developer's own session is touched.
package keychaintest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
)

// busConfig is a session bus without service activation, so nothing but the keyring started
// here can answer for org.freedesktop.secrets.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=DIR</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// Session is a running keychain.
type Session struct {
	// Env holds the variables a process needs to use it (DBUS_SESSION_BUS_ADDRESS and the
	// private XDG folders).
	Env []string
	// BusAddress is the value of DBUS_SESSION_BUS_ADDRESS.
	BusAddress string
}

// Require starts a keychain or, when its programs are missing, fails the test in CI and skips it
// elsewhere with the command that installs them.
func Require(t testing.TB) *Session {
	t.Helper()
	for _, prog := range []string{"dbus-daemon", "dbus-send", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(prog); err != nil {
			if config.IsCI(os.Getenv) {
				t.Fatalf("%s is missing, and CI must run the keychain tests (.ci/run installs gnome-keyring and dbus)", prog)
			}
			t.Skipf("%s is missing; on Debian: apt-get install gnome-keyring libsecret-tools dbus", prog)
		}
	}
	dir, err := os.MkdirTemp("", "keychain-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	runtime, data := filepath.Join(dir, "run"), filepath.Join(dir, "data")
	for _, d := range []string{runtime, data} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(busConfig, "DIR", dir)), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var procs []*exec.Cmd
	// One cleanup, run before the folder is removed: stop both daemons, then reap them.
	t.Cleanup(func() {
		cancel()
		for _, p := range procs {
			_ = p.Wait()
		}
	})
	bus := exec.CommandContext(ctx, "dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=1")
	out, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	procs = append(procs, bus)
	address, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	s := &Session{BusAddress: strings.TrimSpace(address)}
	s.Env = []string{"DBUS_SESSION_BUS_ADDRESS=" + s.BusAddress, "XDG_RUNTIME_DIR=" + runtime, "XDG_DATA_HOME=" + data}

	keyring := exec.CommandContext(ctx, "gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	keyring.Env = append(os.Environ(), s.Env...)
	keyring.Stdin = strings.NewReader("keychain-test-password") // unlocks the new login keyring
	if err := keyring.Start(); err != nil {
		t.Fatalf("start gnome-keyring-daemon: %v", err)
	}
	procs = append(procs, keyring)

	deadline := time.Now().Add(10 * time.Second)
	for !s.hasSecretService() {
		if time.Now().After(deadline) {
			t.Fatal("gnome-keyring-daemon did not take org.freedesktop.secrets within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

func (s *Session) hasSecretService() bool {
	out, err := s.dbusSend("--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets")
	return err == nil && strings.Contains(out, "boolean true")
}

// Lock locks every collection of the Secret Service, as a screen lock does.
func (s *Session) Lock(t testing.TB) {
	t.Helper()
	if out, err := s.dbusSend("--dest=org.freedesktop.secrets", "/org/freedesktop/secrets",
		"org.freedesktop.Secret.Service.LockService"); err != nil {
		t.Fatalf("lock the keychain: %v\n%s", err, out)
	}
}

func (s *Session) dbusSend(args ...string) (string, error) {
	cmd := exec.Command("dbus-send", append([]string{"--session", "--type=method_call", "--print-reply"}, args...)...)
	cmd.Env = append(os.Environ(), s.Env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Setenv points this test process at the keychain. go-keyring's D-Bus connection is made once
// per process, so a package's tests share one session.
func (s *Session) Setenv(t testing.TB) {
	t.Helper()
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}
