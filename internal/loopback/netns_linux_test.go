package loopback

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pleoauth/pleoauth/internal/config"
)

var namespaces atomic.Int32

// onIPv4OnlyMachine runs f on a thread of its own inside a new network namespace whose
// loopback has no ::1, as on a machine with IPv6 turned off.
func onIPv4OnlyMachine(t *testing.T, f func()) {
	t.Helper()
	onMachine(t, []string{"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.lo.disable_ipv6=1"}, func() error {
		if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
			l.Close()
			return errors.New("::1 is still there")
		}
		f()
		return nil
	})
}

// onMachine runs f on a thread of its own inside a new network namespace, a machine of its own
// with only a loopback, set up by sysctls; f's error fails the test. It needs root, as the
// netns test.
func onMachine(t *testing.T, sysctls []string, f func() error) {
	t.Helper()
	if os.Geteuid() != 0 {
		if config.IsCI(os.Getenv) {
			t.Fatal("CI runs as root and must run the tests with a network namespace")
		}
		t.Skip("needs root to create a network namespace; run as root (CI does)")
	}
	ns := fmt.Sprintf("pa%dv4%d", os.Getpid()%100000, namespaces.Add(1))
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	if len(sysctls) > 0 {
		run(append([]string{"netns", "exec", ns, "sysctl", "-qw"}, sysctls...)...)
	}
	run("netns", "exec", ns, "ip", "link", "set", "lo", "up")
	// The open file keeps the namespace alive; its name goes at once, so that none is left
	// behind even when the test process is killed.
	nsFile, err := os.Open("/run/netns/" + ns)
	run("netns", "delete", ns)
	if err != nil {
		t.Fatal(err)
	}
	defer nsFile.Close()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer home.Close()
	done := make(chan error, 1)
	go func() {
		// The thread goes back to the pool only once it is home again; were that to fail, it
		// stays locked and ends with this goroutine. (A thread left in the other namespace
		// would hide this process's sockets from /proc/self/net, where holder looks.)
		runtime.LockOSThread()
		if err := unix.Setns(int(nsFile.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		err := f()
		if unix.Setns(int(home.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the test in its own network namespace did not end within 5 s")
	}
}

// TestIPv4OnlyMachine: without IPv6, "localhost" is 127.0.0.1 alone — no client can reach a ::1
// the machine does not have — but a redirect URI naming [::1] itself cannot be received, and
// says so rather than listening nowhere.
func TestIPv4OnlyMachine(t *testing.T) {
	onIPv4OnlyMachine(t, func() {
		ls, err := Bind("localhost", "0")
		if err != nil || len(ls) != 1 || !strings.HasPrefix(ls[0].Addr().String(), "127.0.0.1:") {
			t.Errorf("Bind(localhost, 0) without IPv6 = %v, %v; want 127.0.0.1 alone", ls, err)
		}
		for _, l := range ls {
			l.Close()
		}
		if ls, err := Bind("::1", "0"); err == nil {
			for _, l := range ls {
				l.Close()
			}
			t.Errorf("Bind(::1, 0) without IPv6 = %v, nil; want an error", ls)
		}
		u, _ := url.Parse("http://[::1]:8765/callback")
		if s, err := Listen(u); err == nil {
			s.Close()
			t.Errorf("Listen(%s) without IPv6 succeeded", u)
		} else if !strings.Contains(err.Error(), u.String()) {
			t.Errorf("Listen(%s) without IPv6: %v; want the redirect URI named", u, err)
		}
	})
}

// TestPortZeroGivesUpOnAHeldPort: with port 0 Bind picks a fresh port a few times when ::1
// holds the one 127.0.0.1 got, then reports the port in use — it never tries forever. Here the
// machine has a single ephemeral port, held on ::1, so every pick collides.
func TestPortZeroGivesUpOnAHeldPort(t *testing.T) {
	onMachine(t, []string{"net.ipv4.ip_local_port_range=40000 40000"}, func() error {
		squatter, err := net.Listen("tcp", "[::1]:40000")
		if err != nil {
			return err
		}
		defer squatter.Close()
		ls, err := Bind("localhost", "0")
		for _, l := range ls {
			l.Close()
		}
		var inUse *PortInUseError
		if !errors.As(err, &inUse) || inUse.Addr != "[::1]:40000" {
			return fmt.Errorf("Bind(localhost, 0) with the only port held on ::1 = %v, %v; want *PortInUseError for [::1]:40000", ls, err)
		}
		return nil
	})
}
