package loopback

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pleoauth/pleoauth/internal/config"
)

// TestNotReachableFromOtherAddresses: the listener answers on loopback and nowhere else. The
// test makes a second host — a network namespace joined to this one by a veth pair, on the
// benchmarking range 198.18.0.0/15 — and connects from it to this machine's address on that
// link. As a control, a listener on all addresses is reachable the same way, so a refusal means
// the bind, not a broken probe.
func TestNotReachableFromOtherAddresses(t *testing.T) {
	if os.Geteuid() != 0 {
		if config.IsCI(os.Getenv) {
			t.Fatal("CI runs as root and must prove the loopback-only bind")
		}
		t.Skip("needs root to create a network namespace; run as root (CI does)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("ip (iproute2) is missing: %v", err)
	}
	id := fmt.Sprintf("pa%d", os.Getpid()%100000)
	ns, host, peer := id+"ns", id+"h", id+"n"
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", ns).Run() })
	run("link", "add", host, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "delete", host).Run() })
	run("link", "set", peer, "netns", ns)
	run("addr", "add", "198.18.77.1/30", "dev", host)
	run("link", "set", host, "up")
	run("netns", "exec", ns, "ip", "addr", "add", "198.18.77.2/30", "dev", peer)
	run("netns", "exec", ns, "ip", "link", "set", peer, "up")

	reachable := func(port string) bool {
		// bash's /dev/tcp opens a TCP connection; it fails at once on a refusal.
		cmd := exec.Command("ip", "netns", "exec", ns, "timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/198.18.77.1/"+port)
		return cmd.Run() == nil
	}

	port := freePort(t)
	u, _ := url.Parse("http://localhost:" + port + "/callback")
	s, err := Listen(u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if reachable(port) {
		t.Error("the redirect listener accepted a connection from another host")
	}

	control, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer control.Close()
	go func() {
		for {
			c, err := control.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if !reachable(fmt.Sprint(control.Addr().(*net.TCPAddr).Port)) {
		t.Fatal("the probe cannot reach even a listener on all addresses; the test proves nothing")
	}
}
