package oauthtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDieWithTestEndsTheChildWithItsParent: a child started with DieWithTest ends when the
// process that started it is killed, so a killed test leaves no server running.
func TestDieWithTestEndsTheChildWithItsParent(t *testing.T) {
	if os.Getenv("OAUTHTEST_PARENT") == "1" {
		child := exec.Command("sleep", "300")
		DieWithTest(child)
		if err := child.Start(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(child.Process.Pid)
		time.Sleep(5 * time.Minute) // until killed
		return
	}
	parent := exec.Command(os.Args[0], "-test.run", "^TestDieWithTestEndsTheChildWithItsParent$")
	parent.Env = append(os.Environ(), "OAUTHTEST_PARENT=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, convErr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || convErr != nil {
		parent.Process.Kill()
		t.Fatalf("the parent said %q (%v)", line, err)
	}
	parent.Process.Kill()
	parent.Wait()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// Signal 0 probes; a zombie reaped by init is gone soon after.
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		if state, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); strings.Contains(string(state), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the child (pid %d) outlived its killed parent by 30s", pid)
		}
	}
}
