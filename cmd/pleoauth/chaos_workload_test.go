package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pleoauth/pleoauth/internal/chaos"
	"github.com/pleoauth/pleoauth/internal/devserver"
)

// work is one worker on a host: token, api, exec or a GET to the host's serve, again and again
// until stop, with a short pause between. A lost login (exit 4) is renewed from the laptop,
// once for all workers, after a second look.
func (c *chaosRun) work(host int, seed uint64, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(seed, c.seed))
	for {
		select {
		case <-stop:
			return
		default:
		}
		var op chaos.Op
		switch n := rng.IntN(100); {
		case n < 40:
			args := []string{"token", "--min-ttl", chaosMinTTL.String()}
			if n < 5 {
				args = append(args, "--force-refresh")
			}
			op = c.runOp(host, chaos.OpToken, args)
		case n < 60:
			op = c.runOp(host, chaos.OpAPI, []string{"api", "/v2/employees", "--min-ttl", chaosMinTTL.String()})
		case n < 80:
			op = c.runOp(host, chaos.OpExec, []string{"exec", "--min-ttl", chaosMinTTL.String(), "--", "sh", "-c", `printf %s "$PLEO_ACCESS_TOKEN"`})
		default:
			op = c.serveOp(host)
		}
		if op.Exit == 4 {
			c.renewLogin(host)
		}
		time.Sleep(time.Duration(50+rng.IntN(200)) * time.Millisecond)
	}
}

// renewLogin logs in again when the login is really gone: one worker at a time, and only when
// a second look still says so.
func (c *chaosRun) renewLogin(host int) {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if c.runOp(host, chaos.OpToken, []string{"token", "--min-ttl", chaosMinTTL.String()}).Exit != 4 {
		return
	}
	if err := c.login(); err != nil {
		c.t.Logf("login again: %v", err)
	}
}

// runOp runs pleoauth on a host and records what it did.
func (c *chaosRun) runOp(host int, kind string, args []string) chaos.Op {
	cmd := c.f.command(host+1, nil, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := c.begin(host, kind, cmd)
	if r == nil {
		return chaos.Op{Exit: 0, Kind: kind}
	}
	err := waitTimeout(cmd, 2*time.Minute)
	op := c.end(r, shellExit(err), stderr.String()+signalled(err))
	if op.Exit == 0 && kind != chaos.OpAPI {
		op.Token = devserver.Fingerprint(strings.TrimSpace(stdout.String()))
	}
	return c.record(op)
}

// serveOp asks the host's serve for a token, as a Postman pre-request script does.
func (c *chaosRun) serveOp(host int) chaos.Op {
	// -m 45: longer than pleoauth's 30 s HTTP timeout, which a refresh serve sends may take.
	cmd := c.f.hosts[host].Command("curl", "-sS", "-m", "45", "-H", "@"+c.serveKeyFile, "-w", "\n%{http_code}",
		"http://127.0.0.1:"+chaosServePort+"/token?min_ttl="+chaosMinTTL.String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := c.begin(host, chaos.OpServe, cmd)
	if r == nil {
		return chaos.Op{Kind: chaos.OpServe}
	}
	err := waitTimeout(cmd, time.Minute)
	body, status := "", ""
	if i := strings.LastIndex(stdout.String(), "\n"); i >= 0 {
		body, status = stdout.String()[:i], stdout.String()[i+1:]
	}
	code := exitCode(err)
	exit := chaos.ExitNoAnswer
	switch {
	case code == -1:
		exit = chaos.ExitKilled
	case status == "200":
		exit = 0
	case status == "401":
		exit = 4
	case status == "503" || status == "429":
		exit = 5
	case status != "000" && status != "":
		code, _ := strconv.Atoi(status)
		exit = 1000 + code // an answer no rule allows
	}
	op := c.end(r, exit, stderr.String()+body)
	if exit == 0 {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal([]byte(body), &tok)
		op.Token = devserver.Fingerprint(tok.AccessToken)
	}
	return c.record(op)
}

// begin starts cmd as an op the nemesis may signal; nil when it cannot start.
func (c *chaosRun) begin(host int, kind string, cmd *exec.Cmd) *runningOp {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	r := &runningOp{id: c.nextID, host: host, cmd: cmd, done: make(chan struct{}), kind: kind, start: time.Now()}
	if err := cmd.Start(); err != nil {
		c.t.Errorf("start %v: %v", cmd.Args, err)
		return nil
	}
	c.running[r.id] = r
	return r
}

// end records that r ended, with what the nemesis did to it meanwhile.
func (c *chaosRun) end(r *runningOp, exit int, stderr string) chaos.Op {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.running, r.id)
	close(r.done)
	return chaos.Op{ID: r.id, Host: r.host, Kind: r.kind, Start: r.start, End: time.Now(), Exit: exit,
		Stopped: r.stopped, Signals: r.signals, Said: lastLineOf(stderr)}
}

func (c *chaosRun) record(op chaos.Op) chaos.Op {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops = append(c.ops, op)
	return op
}

// startServe starts "pleoauth serve" on a host, and starts it again whenever it ends, until the
// run stops it.
func (c *chaosRun) startServe(host int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	for len(c.serves) <= host {
		c.serves = append(c.serves, nil)
	}
	cmd := c.f.command(host+1, nil, "serve", "--addr", "127.0.0.1:"+chaosServePort)
	if err := cmd.Start(); err != nil {
		c.t.Errorf("serve on host %d: %v", host, err)
		return
	}
	c.serves[host] = cmd
	go func() {
		_ = cmd.Wait()
		c.mu.Lock()
		again := c.serves[host] == cmd
		c.mu.Unlock()
		if again {
			time.Sleep(200 * time.Millisecond)
			c.startServe(host)
		}
	}()
}

// stopServes ends every serve, for good.
func (c *chaosRun) stopServes() {
	c.mu.Lock()
	serves := c.serves
	c.serves = make([]*exec.Cmd, len(serves))
	c.closing = true
	c.mu.Unlock()
	for _, cmd := range serves {
		if cmd != nil && cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
	}
}

// shellExit is the exit code a script sees: a process that SIGINT ended before it could
// handle the signal (at its very start) is 130 to a shell, as pleoauth's own answer to it is;
// one SIGKILL ended is [chaos.ExitKilled].
func shellExit(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
			return 130
		}
	}
	return exitCode(err)
}

// signalled names the signal that ended a process, for the report.
func signalled(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "\n(ended by " + ws.Signal().String() + ")"
		}
	}
	return ""
}
