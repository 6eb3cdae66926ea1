package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pleoauth/pleoauth/internal/chaos"
	"github.com/pleoauth/pleoauth/internal/devserver"
)

// nemesis carries out the plan, each action at its time from start; each fault is healed when
// its time is up, before the next one starts.
func (c *chaosRun) nemesis(plan []chaos.Action, start time.Time) {
	for _, a := range plan {
		if wait := time.Until(start.Add(a.At)); wait > 0 {
			time.Sleep(wait)
		}
		if f, ok := c.strike(a); ok {
			c.mu.Lock()
			c.faults = append(c.faults, f)
			c.mu.Unlock()
		}
	}
}

// strike carries out one action and says what it did; false when there was nothing to strike
// (no client running on the host).
func (c *chaosRun) strike(a chaos.Action) (chaos.Fault, bool) {
	f := chaos.Fault{Kind: a.Kind, Host: a.Host, Op: -1, Start: time.Now()}
	h := c.f.hosts[a.Host]
	switch a.Kind {
	case chaos.KillClient, chaos.StopClient, chaos.IntClient:
		r := c.pick(a.Host)
		if r == nil {
			return f, false
		}
		f.Host, f.Op = r.host, r.id
		if !c.signal(&f, r.cmd, r, a) {
			return f, false
		}
	case chaos.KillAtServer, chaos.StopAtServer, chaos.IntAtServer:
		cmd, r, serveHost := c.atServer(a.Host)
		if cmd == nil {
			return f, false
		}
		if r != nil {
			f.Host, f.Op = r.host, r.id
		} else {
			f.Host, f.Serve = serveHost, true
		}
		if !c.signal(&f, cmd, r, a) {
			return f, false
		}
	case chaos.KillServe:
		c.mu.Lock()
		serve := c.serves[a.Host]
		c.mu.Unlock()
		if serve == nil || serve.Process == nil || serve.Process.Kill() != nil {
			return f, false
		}
		f.Serve = true
		// A serve killed between its spend record and its save loses the login like any holder.
		time.Sleep(100 * time.Millisecond)
		f.HeldLock = c.lockHolder() == serve.Process.Pid
	case chaos.RedisKill, chaos.RedisTerm:
		f.Host = -1
		if a.Kind == chaos.RedisKill {
			c.f.redis.Kill()
		} else {
			c.f.redis.Stop()
		}
		time.Sleep(a.For)
		c.f.redis.Start()
	case chaos.PartitionRedis, chaos.PartitionServer:
		port := strconv.Itoa(c.f.redis.Port)
		if a.Kind == chaos.PartitionServer {
			port = c.serverPort
		}
		rule := []string{"OUTPUT", "-p", "tcp", "-d", h.LocalAddr, "--dport", port, "-j", "DROP"}
		c.must(h.Command("iptables", append([]string{"-A"}, rule...)...))
		time.Sleep(a.For)
		c.must(h.Command("iptables", append([]string{"-D"}, rule...)...))
	case chaos.LinkDown:
		c.must(h.Command("ip", "link", "set", h.Link, "down"))
		time.Sleep(a.For)
		c.must(h.Command("ip", "link", "set", h.Link, "up"))
	case chaos.RotateThenDrop:
		f.Host = -1
		c.f.dev.InjectFault(devserver.FaultRotateThenDrop, 1, 0)
	case chaos.ServerError:
		f.Host = -1
		c.f.dev.InjectFault([]devserver.Fault{devserver.Fault500, devserver.Fault502, devserver.Fault503}[a.Host%3], 2, 0)
	case chaos.Slow, chaos.PastTimeout:
		f.Host = -1
		c.f.dev.InjectFault(devserver.FaultDelay, 2, a.For)
	case chaos.DiskFull:
		fill := filepath.Join(c.homes[a.Host], "chaos-fill")
		fillUp(fill)
		time.Sleep(a.For)
		_ = os.Remove(fill)
	case chaos.DiskReadOnly:
		home := c.homes[a.Host]
		c.must(exec.Command("mount", "--bind", home, home))
		c.mu.Lock()
		c.frozen[a.Host] = true
		c.mu.Unlock()
		c.must(exec.Command("mount", "-o", "remount,ro,bind", home))
		time.Sleep(a.For)
		c.thaw(a.Host)
	}
	f.End = time.Now()
	return f, true
}

// signal sends the action's signal to cmd (r is its op, nil for a serve): KILL and INT at once,
// STOP for the action's time and then CONT; f starts when the signal is sent. It sends nothing,
// and says so, when the op has ended meanwhile. After a KILL it waits for the death and reads
// the Redis lock: a lock still naming the dead process was held when it died.
func (c *chaosRun) signal(f *chaos.Fault, cmd *exec.Cmd, r *runningOp, a chaos.Action) bool {
	name, sig := "KILL", syscall.SIGKILL
	switch a.Kind {
	case chaos.StopClient, chaos.StopAtServer:
		name, sig = "STOP", syscall.SIGSTOP
	case chaos.IntClient, chaos.IntAtServer:
		name, sig = "INT", syscall.SIGINT
	}
	c.mu.Lock()
	if r != nil {
		select {
		case <-r.done:
			c.mu.Unlock()
			return false
		default:
		}
		r.signals = append(r.signals, name)
	}
	f.Start = time.Now()
	err := cmd.Process.Signal(sig)
	c.mu.Unlock()
	if err != nil {
		return false
	}
	switch sig {
	case syscall.SIGSTOP:
		time.Sleep(a.For)
		c.mu.Lock()
		_ = cmd.Process.Signal(syscall.SIGCONT)
		if r != nil {
			r.stopped += a.For
		}
		c.mu.Unlock()
	case syscall.SIGKILL:
		if r != nil {
			select {
			case <-r.done:
			case <-time.After(5 * time.Second):
			}
		} else {
			time.Sleep(100 * time.Millisecond)
		}
		f.HeldLock = c.lockHolder() == cmd.Process.Pid
	}
	return true
}

// pick is a pleoauth process running on the host (any host when none runs there), at random;
// half the time (at random), the one holding the refresh lock when there is one.
func (c *chaosRun) pick(host int) *runningOp {
	holder := 0
	if time.Now().UnixNano()%2 == 0 {
		holder = c.lockHolder()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var here, anywhere, holding []*runningOp
	for _, r := range c.running {
		if r.kind == chaos.OpServe {
			continue // curl, not pleoauth
		}
		anywhere = append(anywhere, r)
		if r.host == host {
			here = append(here, r)
		}
		if holder != 0 && r.cmd.Process.Pid == holder {
			holding = append(holding, r)
		}
	}
	for _, list := range [][]*runningOp{holding, here, anywhere} {
		if len(list) > 0 {
			return list[int(time.Now().UnixNano()%int64(len(list)))]
		}
	}
	return nil
}

// atServer puts a refresh on the wire and finds the process that sent it: the token endpoint
// holds its next request 1.5 s, a forced refresh is started on the host, and once a request is
// held, the lock's holder is the sender. It returns the sender's process and op (nil op for a
// serve, with its host), or nil when no request came within 5 s.
func (c *chaosRun) atServer(host int) (*exec.Cmd, *runningOp, int) {
	before := len(c.f.dev.History())
	c.f.dev.InjectFault(devserver.FaultDelay, 1, 1500*time.Millisecond)
	c.background.Add(1)
	go func() {
		defer c.background.Done()
		c.runOp(host, chaos.OpToken, []string{"token", "--force-refresh", "--min-ttl", chaosMinTTL.String()})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		held := false
		for _, ev := range c.f.dev.History()[before:] {
			held = held || (ev.End.IsZero() && ev.Fault == devserver.FaultDelay)
		}
		if held {
			pid := c.lockHolder()
			c.mu.Lock()
			defer c.mu.Unlock()
			for _, r := range c.running {
				if r.cmd.Process.Pid == pid {
					return r.cmd, r, r.host
				}
			}
			for i, s := range c.serves {
				if s != nil && s.Process != nil && s.Process.Pid == pid {
					return s, nil, i
				}
			}
			return nil, nil, 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil, nil, 0
}

// lockHolder is the pid the fleet's Redis lock names ("<random> <host> pid N"), 0 when none.
func (c *chaosRun) lockHolder() int {
	v, err := c.redis().Get(c.t.Context(), "pleoauth:lock:local").Result()
	if err != nil {
		return 0
	}
	i := strings.LastIndex(v, " pid ")
	if i < 0 {
		return 0
	}
	pid, _ := strconv.Atoi(v[i+len(" pid "):])
	return pid
}

// healAll heals whatever is left: queued server faults, rules, links, a frozen or full home.
// The nemesis healed each fault in its time; this is the run's end, so a fault the plan cut
// short cannot outlive it.
func (c *chaosRun) healAll() time.Time {
	c.f.dev.ClearFaults()
	for i, h := range c.f.hosts {
		_ = h.Command("iptables", "-F", "OUTPUT").Run()
		_ = h.Command("ip", "link", "set", h.Link, "up").Run()
		_ = os.Remove(filepath.Join(c.homes[i], "chaos-fill"))
		c.thaw(i)
	}
	return time.Now()
}

// thaw removes the read-only bind mount over a host's home, if there is one.
func (c *chaosRun) thaw(host int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen[host] {
		c.must(exec.Command("umount", c.homes[host]))
		delete(c.frozen, host)
	}
}

// must runs a nemesis command; one that fails is a broken test, not a fault.
func (c *chaosRun) must(cmd *exec.Cmd) {
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Errorf("nemesis: %s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
}

// fillUp writes zeros to path until the file system is full.
func fillUp(path string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				fmt.Fprintln(os.Stderr, "nemesis: fill:", err)
			}
			return
		}
	}
}
