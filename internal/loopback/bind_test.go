package loopback

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
)

// needIPv6Loopback skips a test that needs ::1 on a machine without it; CI machines have it.
func needIPv6Loopback(t *testing.T) {
	t.Helper()
	if hasIPv6Loopback() {
		return
	}
	if config.IsCI(os.Getenv) {
		t.Fatal("this machine has no IPv6 loopback (::1); the CI image must have one")
	}
	t.Skip("no IPv6 loopback (::1) on this machine")
}

// within runs what (Bind or Listen) with a deadline: a port held by another program is
// answered at once, not tried again and again.
func within[T any](t *testing.T, what string, f func() (T, error)) (T, error) {
	t.Helper()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s has not answered in 10 s", what)
		panic("unreachable")
	}
}

// TestBindRefusesWhenOneLoopbackIsHeld: another program on one of the addresses "localhost"
// names makes Bind refuse, naming that address and the program, and leaves the other address
// free: listening on 127.0.0.1 alone would hand clients that try ::1 first to the squatter.
func TestBindRefusesWhenOneLoopbackIsHeld(t *testing.T) {
	needIPv6Loopback(t)
	for _, squat := range []string{"::1", "127.0.0.1", "::", "0.0.0.0"} {
		t.Run(squat, func(t *testing.T) {
			port := freePort(t)
			// "tcp4" for 0.0.0.0: Go's "tcp" would make it a dual-stack socket, as "::" is;
			// an IPv4-only program (node's server.listen(port, "0.0.0.0")) holds IPv4 alone.
			network := map[string]string{"0.0.0.0": "tcp4"}[squat]
			if network == "" {
				network = "tcp"
			}
			squatter, err := net.Listen(network, net.JoinHostPort(squat, port))
			if err != nil {
				t.Fatal(err)
			}
			defer squatter.Close()
			ls, err := within(t, "Bind(localhost, "+port+")", func() ([]net.Listener, error) { return Bind("localhost", port) })
			var inUse *PortInUseError
			if !errors.As(err, &inUse) {
				for _, l := range ls {
					t.Errorf("listening on %s beside the squatter on %s", l.Addr(), squatter.Addr())
					l.Close()
				}
				t.Fatalf("Bind(localhost, %s) = %v; want *PortInUseError", port, err)
			}
			if want := fmt.Sprintf("pid %d (", os.Getpid()); runtime.GOOS == "linux" && !strings.Contains(inUse.Error(), want) {
				t.Errorf("%q does not name the holder, %s…)", inUse.Error(), want)
			}
			if !strings.HasSuffix(inUse.Addr, ":"+port) {
				t.Errorf("Addr %q; want the port %s", inUse.Addr, port)
			}
			// Nothing is left bound: the addresses the squatter does not hold are free.
			for _, host := range []string{"127.0.0.1", "::1"} {
				if l, err := net.Listen("tcp", net.JoinHostPort(host, port)); err == nil {
					l.Close()
				} else if (squat == "127.0.0.1" || squat == "0.0.0.0") && host == "::1" || squat == "::1" && host == "127.0.0.1" {
					t.Errorf("Bind left %s held: %v", host, err)
				}
			}
		})
	}
}

// TestLoginRefusesWhenOneLoopbackIsHeld: the login's listener is Bind.
func TestLoginRefusesWhenOneLoopbackIsHeld(t *testing.T) {
	needIPv6Loopback(t)
	port := freePort(t)
	squatter, err := net.Listen("tcp", "[::1]:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	u, _ := url.Parse("http://localhost:" + port + "/callback")
	s, err := within(t, "Listen("+u.String()+")", func() (*Server, error) { return Listen(u) })
	var inUse *PortInUseError
	if !errors.As(err, &inUse) || inUse.RedirectURI != u.String() || inUse.Addr != "[::1]:"+port {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Listen(%s) with [::1]:%s held = %v; want *PortInUseError for [::1]:%s", u, port, err, port)
	}
}

func TestBindPortZeroIsOnePortOnBoth(t *testing.T) {
	needIPv6Loopback(t)
	ls, err := Bind("localhost", "0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	if len(ls) != 2 || ls[0].Addr().(*net.TCPAddr).Port != ls[1].Addr().(*net.TCPAddr).Port {
		t.Fatalf("Bind(localhost, 0) = %v; want 127.0.0.1 and ::1 on one port", ls)
	}
}

func TestBindRefusesOtherHosts(t *testing.T) {
	for _, host := range []string{"", "0.0.0.0", "::", "192.0.2.1", "example.com", "localhost.example.com"} {
		if ls, err := Bind(host, "0"); err == nil {
			for _, l := range ls {
				l.Close()
			}
			t.Errorf("Bind(%q) listened", host)
		}
	}
}

// TestPortInUseMessage: a port in use names the address, the program holding it when known,
// and — for a login — the redirect URI and what to do.
func TestPortInUseMessage(t *testing.T) {
	for _, tc := range []struct {
		err  PortInUseError
		want string
	}{
		{PortInUseError{Addr: "[::1]:7536"}, "[::1]:7536 is already in use"},
		{PortInUseError{Addr: "[::1]:7536", Holder: "pid 4242 (node)"}, "[::1]:7536 is already in use by pid 4242 (node)"},
		{PortInUseError{Addr: "127.0.0.1:8765", RedirectURI: "http://localhost:8765/cb"},
			"port 127.0.0.1:8765 of redirect URI http://localhost:8765/cb is already in use; stop the program using it (another pleoauth login?) or register another redirect_uri"},
		{PortInUseError{Addr: "127.0.0.1:8765", RedirectURI: "http://localhost:8765/cb", Holder: "pid 7 (pleoauth)"},
			"port 127.0.0.1:8765 of redirect URI http://localhost:8765/cb is already in use by pid 7 (pleoauth); stop the program using it (another pleoauth login?) or register another redirect_uri"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q; want %q", tc.err, got, tc.want)
		}
	}
}
