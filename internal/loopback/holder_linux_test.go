package loopback

import (
	"encoding/binary"
	"fmt"
	"net"
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
