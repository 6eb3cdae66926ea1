package loopback

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"testing"
)

func TestParseProcAddr(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the cases are written as a little-endian kernel prints them")
	}
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"0100007F:1D70", "127.0.0.1:7536"},
		{"00000000:0050", "0.0.0.0:80"},
		{"00000000000000000000000001000000:1D70", "[::1]:7536"},
		{"0000000000000000FFFF00000100007F:1F90", "127.0.0.1:8080"},
		{"00000000000000000000000000000000:0016", "[::]:22"},
	} {
		ip, port, ok := parseProcAddr(tc.in)
		if got := net.JoinHostPort(ip.String(), fmt.Sprint(port)); !ok || got != tc.want {
			t.Errorf("parseProcAddr(%q) = %s, %v; want %s", tc.in, got, ok, tc.want)
		}
	}
	for _, bad := range []string{"", "0100007F", "0100007G:0050", "01007F:0050", "0100007F:10000"} {
		if _, _, ok := parseProcAddr(bad); ok {
			t.Errorf("parseProcAddr(%q) accepted it", bad)
		}
	}
}

// TestHolderNameIsCleaned: the holder's name is another program's choice and reaches the
// terminal: its control characters are dropped, and a name of nothing else leaves the pid
// alone. (The process names itself here, as any program may.)
func TestHolderNameIsCleaned(t *testing.T) {
	own, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Skip("no /proc/self/comm:", err)
	}
	t.Cleanup(func() { _ = os.WriteFile("/proc/self/comm", bytes.TrimSuffix(own, []byte("\n")), 0) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pid := os.Getpid()
	for _, tc := range []struct{ name, want string }{
		{"\x1b]2;pwn\x07", fmt.Sprintf("pid %d (]2;pwn)", pid)},
		{"\x1b\x07\x1b", fmt.Sprintf("pid %d", pid)},
	} {
		if err := os.WriteFile("/proc/self/comm", []byte(tc.name), 0); err != nil {
			t.Skip("cannot rename this process:", err)
		}
		if got := holder(l.Addr().String()); got != tc.want {
			t.Errorf("the holder named %q is shown as %q; want %q", tc.name, got, tc.want)
		}
	}
}
