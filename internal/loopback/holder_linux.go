package loopback

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// holder names the process listening on addr ("pid 4242 (node)"), so that a port in use says
// what to stop. Best effort, from /proc: the listening socket's inode in /proc/net/tcp{,6}, then
// the process with a descriptor on it. Empty when it cannot be found (another user's process,
// another container, a hardened /proc).
func holder(addr string) string {
	want, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return ""
	}
	inode := listeningInode(want)
	if inode == "" {
		return ""
	}
	pid := socketOwner(inode)
	if pid == "" {
		return ""
	}
	comm, _ := os.ReadFile(filepath.Join("/proc", pid, "comm"))
	// Another program chose its name: cleaned, as anything from outside that reaches a terminal.
	if name := sanitize.Line(string(comm), 32); name != "" {
		return fmt.Sprintf("pid %s (%s)", pid, name)
	}
	return "pid " + pid
}

// listeningInode finds the socket listening on want's port at want's address, or else at the
// unspecified address that holds it (0.0.0.0 holds IPv4 addresses, :: both kinds): its inode,
// or "".
func listeningInode(want *net.TCPAddr) string {
	wildcard := ""
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the column titles
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" { // 0A: TCP_LISTEN
				continue
			}
			ip, port, ok := parseProcAddr(fields[1])
			if !ok || port != want.Port {
				continue
			}
			switch {
			case ip.Equal(want.IP):
				f.Close()
				return fields[9]
			case ip.IsUnspecified() && wildcard == "" && (len(ip) == net.IPv6len || want.IP.To4() != nil):
				wildcard = fields[9]
			}
		}
		f.Close()
	}
	return wildcard
}

// parseProcAddr reads /proc/net/tcp's "0100007F:1D70": the address as the kernel holds it, in
// 32-bit words printed in this machine's byte order, then the port as a number.
func parseProcAddr(s string) (net.IP, int, bool) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	raw, err := hex.DecodeString(hexIP)
	if !ok || err != nil || (len(raw) != 4 && len(raw) != 16) {
		return nil, 0, false
	}
	ip := make(net.IP, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return nil, 0, false
	}
	return ip, int(port), true
}

// socketOwner finds a process with a descriptor on the socket with this inode, or "".
func socketOwner(inode string) string {
	target := "socket:[" + inode + "]"
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if link, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && link == target {
				return p.Name()
			}
		}
	}
	return ""
}
