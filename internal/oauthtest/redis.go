package oauthtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pleoauth/pleoauth/internal/config"
)

// Redis is a real redis-server (Debian's package) that a test starts on a free port, with its
// own folder and the append-only file on and synced on every write, so a restart, even after a
// kill -9, keeps what was written.
type Redis struct {
	t    testing.TB
	Port int
	// Binds are the addresses it listens on: 127.0.0.1 and any the test adds (a second
	// host's link).
	Binds []string
	dir   string
	cmd   *exec.Cmd
	// Ephemeral, when set before a Start, runs the server without persistence: a restart
	// comes back empty.
	Ephemeral bool
}

// StartRedis starts redis-server for the test and stops it when the test ends. Without the
// package the test is skipped with how to get it, except in CI, where it fails.
func StartRedis(t testing.TB, binds ...string) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if config.IsCI(os.Getenv) {
			t.Fatal("redis-server is missing, and CI must run the fleet tests (.ci/run installs redis-server)")
		}
		t.Skip("redis-server is not installed; on Debian: apt-get install redis-server")
	}
	r := &Redis{t: t, Port: FreePort(t), Binds: append([]string{"127.0.0.1"}, binds...), dir: t.TempDir()}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// URL is the server's address for this machine.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

// URLOn is the server's address as seen over one of its other binds.
func (r *Redis) URLOn(addr string) string {
	return "redis://" + net.JoinHostPort(addr, strconv.Itoa(r.Port)) + "/0"
}

// Start runs the server (again) and waits until it answers.
func (r *Redis) Start() {
	r.t.Helper()
	appendOnly := "yes"
	if r.Ephemeral {
		appendOnly = "no"
	}
	// appendfsync always: an acknowledged write survives a kill -9 (with everysec, the last
	// second of writes may not — docs/fleet.md).
	args := []string{"--port", strconv.Itoa(r.Port), "--dir", r.dir, "--appendonly", appendOnly, "--appendfsync", "always", "--save", "",
		"--protected-mode", "no", "--daemonize", "no", "--logfile", ""}
	args = append(args, "--bind")
	args = append(args, r.Binds...)
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port))})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			r.t.Fatal("redis-server did not answer within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends the server (SIGTERM: it flushes the append-only file first) and waits for it.
func (r *Redis) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(os.Interrupt)
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Kill ends the server with SIGKILL, as a crash or the OOM killer would, and waits for it.
func (r *Redis) Kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Client is a client of the server, for a test to look inside.
func (r *Redis) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port))})
	r.t.Cleanup(func() { c.Close() })
	return c
}
