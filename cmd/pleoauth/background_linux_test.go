package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestBackgroundLoginOnATerminal: "pleoauth login &" from a shell on a terminal logs in while
// the browser opens and the listener gets the redirect. It must not read the terminal: a read
// from a background job stops it (SIGTTIN, "Stopped (tty input)") until someone brings it to the
// foreground.
func TestBackgroundLoginOnATerminal(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl for a browser")
	}
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file", "BROWSER=curl -fsS -L -o /dev/null")
	ptmx, pts := openPTY(t)
	defer ptmx.Close()
	go func() { _, _ = io.Copy(io.Discard, ptmx) }() // the terminal's screen

	dir := t.TempDir()
	errFile, pidFile := filepath.Join(dir, "stderr"), filepath.Join(dir, "pid")
	// A shell with job control on the terminal, as a person's is: the login runs as a background
	// job in its own process group, its stdin the terminal.
	sh := exec.Command("sh", "-c", `set -m; "$0" login --timeout 20s 2>"$1" & echo $! >"$2"; sleep 30`, w.bin, errFile, pidFile)
	sh.Env = w.env
	sh.Stdin, sh.Stdout, sh.Stderr = pts, pts, pts
	sh.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	defer func() {
		_ = syscall.Kill(-sh.Process.Pid, syscall.SIGKILL) // the shell's group: sleep with it
		_ = sh.Wait()
	}()

	var pid int
	for deadline := time.Now().Add(25 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if pid == 0 {
			data, _ := os.ReadFile(pidFile)
			pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
			continue
		}
		if out, _ := os.ReadFile(errFile); strings.Contains(string(out), "Logged in to local") {
			return
		}
		if processState(pid) == "T" {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			out, _ := os.ReadFile(errFile)
			t.Fatalf("the background login was stopped (tty input) while the browser opened and the listener waited:\n%s", out)
		}
	}
	out, _ := os.ReadFile(errFile)
	t.Fatalf("the background login did not finish (pid %d):\n%s", pid, out)
}

// openPTY opens a pseudo-terminal pair: the master side, and the terminal a process is given.
func openPTY(t *testing.T) (ptmx, pts *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	// unlockpt and ptsname, as glibc does them.
	var unlock, n uint32
	if err := ioctl(ptmx, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		ptmx.Close()
		t.Fatal(err)
	}
	if err := ioctl(ptmx, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		ptmx.Close()
		t.Fatal(err)
	}
	pts, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ptmx.Close()
		t.Fatal(err)
	}
	return ptmx, pts
}

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}
