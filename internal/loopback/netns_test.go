package loopback

import (
	"fmt"
	"net"
	"net/url"
	"testing"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestNotReachableFromOtherAddresses: the listener answers on loopback and nowhere else. A
// second host (a network namespace joined to this one by a veth pair) connects to this
// machine's address on that link. As a control, a listener on all addresses is reachable the same way, so a refusal means
// the bind, not a broken probe.
func TestNotReachableFromOtherAddresses(t *testing.T) {
	host := oauthtest.NewHost(t)
	port := freePort(t)
	u, _ := url.Parse("http://localhost:" + port + "/callback")
	s, err := Listen(u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if host.Reaches(host.LocalAddr, port) {
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
	if !host.Reaches(host.LocalAddr, fmt.Sprint(control.Addr().(*net.TCPAddr).Port)) {
		t.Fatal("the probe cannot reach even a listener on all addresses; the test proves nothing")
	}
}
