package serve

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/loopback"
)

// Listen opens addr, which must be loopback: 127.0.0.1 or ::1 with a port (0 picks one), or
// ":PORT", "localhost:PORT" or "" for both loopbacks on that port (DefaultPort when empty). It
// listens on every address addr names or on none (see [loopback.Bind]): were ::1 held by another
// program, clients that try ::1 first for "localhost" (Node ≥ 17, so Newman; macOS) would send
// the key to it. It returns the listeners and the Host values their requests may carry.
//
// A malformed or non-loopback addr is a [failure.Usage] error; an address in use wraps a
// [*loopback.PortInUseError].
func Listen(addr string) ([]net.Listener, []string, error) {
	if addr == "" {
		addr = ":" + strconv.Itoa(DefaultPort)
	}
	host, port, err := net.SplitHostPort(addr)
	if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil {
		return nil, nil, failure.Wrap(failure.Usage, fmt.Errorf("--addr %q is not host:port; use :%d, 127.0.0.1:PORT or [::1]:PORT", addr, DefaultPort))
	}
	if host == "" {
		host = "localhost"
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, nil, failure.Wrap(failure.Usage, fmt.Errorf("--addr %q is not a loopback address; serve listens only on 127.0.0.1 and ::1, never another interface", addr))
	}
	ls, err := loopback.Bind(host, port)
	var inUse *loopback.PortInUseError
	switch {
	case errors.As(err, &inUse):
		return nil, nil, fmt.Errorf("%w; stop that program, or choose another port with --addr :PORT (:0 picks a free one)", err)
	case err != nil:
		return nil, nil, err
	}
	var allowed []string
	for _, l := range ls {
		allowed = append(allowed, l.Addr().String(), "localhost:"+strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ls, allowed, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		_ = l.Close()
	}
}
