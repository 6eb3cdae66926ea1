package oauthtest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pleoauth/pleoauth/internal/config"
)

// Host is a second host for a test: a network namespace joined to this machine by a veth pair,
// on the benchmarking range 198.18.0.0/15, so that "another machine" is real without leaving
// this one.
type Host struct {
	// Namespace names it for "ip netns exec".
	Namespace string
	// Addr is the host's address; LocalAddr this machine's address on the link.
	Addr, LocalAddr string
	// Link is the host's end of the link, inside its namespace ("ip link set Link down" cuts
	// it off).
	Link string
}

var hosts atomic.Int32

// NewHost makes a second host for the test and removes it when the test ends. It needs root
// (CI runs as root; elsewhere the test is skipped with a message).
func NewHost(t testing.TB) *Host {
	t.Helper()
	if os.Geteuid() != 0 {
		if config.IsCI(os.Getenv) {
			t.Fatal("CI runs as root and must run the tests with a second host")
		}
		t.Skip("needs root to create a network namespace; run as root (CI does)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("ip (iproute2) is missing: %v", err)
	}
	n := hosts.Add(1)
	id := fmt.Sprintf("pa%d%c", os.Getpid()%100000, 'a'+n%26)
	ns, local, peer := id+"ns", id+"h", id+"n"
	// A /30 of its own: by process in the third octet, by host in the fourth.
	third, fourth := os.Getpid()%250, int(n%60)*4
	h := &Host{Namespace: ns, Link: peer,
		LocalAddr: fmt.Sprintf("198.18.%d.%d", third, fourth+1),
		Addr:      fmt.Sprintf("198.18.%d.%d", third, fourth+2)}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", ns).Run() })
	run("link", "add", local, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "delete", local).Run() })
	run("link", "set", peer, "netns", ns)
	run("addr", "add", h.LocalAddr+"/30", "dev", local)
	run("link", "set", local, "up")
	run("netns", "exec", ns, "ip", "addr", "add", h.Addr+"/30", "dev", peer)
	run("netns", "exec", ns, "ip", "link", "set", peer, "up")
	run("netns", "exec", ns, "ip", "link", "set", "lo", "up")
	return h
}

// Command runs a program on the host.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.Namespace, name}, args...)...)
}

// Reaches reports whether the host can open a TCP connection to addr:port (bash's /dev/tcp,
// which fails at once on a refusal).
func (h *Host) Reaches(addr, port string) bool {
	return h.Command("timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/"+addr+"/"+port).Run() == nil
}
