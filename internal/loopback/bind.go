package loopback

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// Bind listens on port of every loopback address host names, and returns one listener per
// address: "localhost" is 127.0.0.1 and ::1 (a client may resolve it to either: Node ≥ 17 and
// macOS try ::1 first), a loopback IP is itself. Port "0" picks a free port, the same on every
// address.
//
// It binds all or nothing. ::1 is left out only when the machine has no IPv6; when another program
// holds one of the addresses, Bind closes what it bound and returns a [*PortInUseError] naming
// that address and, where it can be found, the program: listening on the other address alone
// would leave the squatter to receive whatever clients send to "localhost".
func Bind(host, port string) ([]net.Listener, error) {
	addrs := []string{"127.0.0.1", "::1"}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("%s is not a loopback address", host)
		}
		addrs = []string{ip.String()}
	}
	// With port 0 the second address gets the port the kernel gave the first, which another
	// program may hold there; a few fresh picks find one free on both.
	tries := 1
	if port == "0" {
		tries = 10
	}
	for try := 1; ; try++ {
		ls, err := bindAll(addrs, port)
		var inUse *PortInUseError
		if err == nil || try == tries || !errors.As(err, &inUse) {
			return ls, err
		}
	}
}

func bindAll(addrs []string, port string) ([]net.Listener, error) {
	var ls []net.Listener
	for i, host := range addrs {
		addr := net.JoinHostPort(host, port)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			// ::1 missing on an IPv4-only machine is fine when 127.0.0.1 is bound: no client
			// can reach an address the machine does not have either.
			if i > 0 && host == "::1" && noIPv6(err) {
				continue
			}
			for _, l := range ls {
				_ = l.Close()
			}
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, &PortInUseError{Addr: addr, Holder: holder(addr)}
			}
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		ls = append(ls, l)
		port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	}
	return ls, nil
}

// PortInUseError reports that another program holds a loopback address Bind or Listen needs.
type PortInUseError struct {
	Addr string
	// Holder names that program ("pid 4242 (node)"), or is empty when it cannot be found: a
	// process of another user or container, or a system without /proc.
	Holder string
	// RedirectURI is set by [Listen]: the redirect URI that needs the address.
	RedirectURI string
}

func (e *PortInUseError) Error() string {
	by := ""
	if e.Holder != "" {
		by = " by " + e.Holder
	}
	if e.RedirectURI == "" {
		return fmt.Sprintf("%s is already in use%s", e.Addr, by)
	}
	return fmt.Sprintf("port %s of redirect URI %s is already in use%s; stop the program using it (another pleoauth login?) or register another redirect_uri", e.Addr, e.RedirectURI, by)
}

func noIPv6(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EPROTONOSUPPORT)
}
