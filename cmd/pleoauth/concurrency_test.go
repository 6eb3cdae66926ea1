package main

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/keychaintest"
)

// TestConcurrentTokenProcesses: 32 pleoauth processes started at once, over 5 expiry rounds of
// access tokens that live seconds (2 s with the file store, 3 s with the keychain store), with
// the devserver's replay detection on. Every process must succeed,
// all of a round must print the same token, the server must see exactly one refresh per round,
// and the family must never be revoked.
func TestConcurrentTokenProcesses(t *testing.T) {
	for _, tt := range []struct {
		store string
		ttl   time.Duration
	}{
		{"file", 2 * time.Second},
		// 32 processes that each read the keychain over D-Bus can take over a second on two
		// busy cores; then a late process rightly refreshes again. 3 s keeps a round inside one
		// token's life.
		{"keyring", 3 * time.Second},
	} {
		storeName := tt.store
		t.Run(storeName, func(t *testing.T) {
			extra := []string{"PLEOAUTH_STORE=" + storeName}
			if storeName == "keyring" {
				extra = append(extra, keychaintest.Require(t).Env...)
			}
			w := newWorld(t, tt.ttl, extra...)
			// Two profiles at once, half the processes each: one refresh per profile per round.
			w.login()
			saved := w.env
			w.env = append(slices.Clone(w.env), "PLEOAUTH_PROFILE=second")
			w.login()
			w.env = saved
			const procs, rounds = 32, 5
			for round := 1; round <= rounds; round++ {
				waitForExpiry(t, w)
				before := w.stats().TokensIssued["refresh_token"]
				start := time.Now()
				results := storm(t, w, procs, func(i int) []string {
					return []string{"token", "--min-ttl", "100ms", "--profile", []string{"default", "second"}[i%2]}
				})
				took := time.Since(start)
				tokens := [2]map[string]int{{}, {}}
				for i, r := range results {
					if r.code != 0 {
						t.Fatalf("round %d: a process failed: %v", round, r)
					}
					tokens[i%2][strings.TrimSpace(r.stdout)]++
				}
				st := w.stats()
				if st.FamiliesRevoked != 0 || st.TokenErrors["invalid_grant"] != 0 {
					t.Fatalf("round %d: the refresh token family was revoked: %+v", round, st)
				}
				got := st.TokensIssued["refresh_token"] - before
				// A round that outlasts the tokens it refreshed (32 start-ups on two very busy
				// cores) rightly refreshes again; one inside a token's life refreshes exactly once
				// per profile and hands each profile's processes one token.
				if life := tt.ttl - 100*time.Millisecond; took >= life {
					if most := 2 * (1 + int(took/life)); got < 2 || got > most {
						t.Errorf("round %d took %v: %d refreshes; want 2 to %d", round, took, got, most)
					}
					t.Logf("round %d outlasted its tokens (%v): %d refreshes, none revoked", round, took, got)
					continue
				}
				if len(tokens[0]) != 1 || len(tokens[1]) != 1 {
					t.Errorf("round %d: %d and %d different tokens printed for the two profiles; want 1 each", round, len(tokens[0]), len(tokens[1]))
				}
				if got != 2 {
					t.Errorf("round %d: %d refreshes; want exactly 1 per profile", round, got)
				}
			}
		})
	}
}

// storm starts n pleoauth processes as close together as possible, the i-th with args(i), and
// waits for all.
func storm(t *testing.T, w *world, n int, args func(i int) []string) []result {
	t.Helper()
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmds[i] = w.command(args(i)...)
	}
	return runTogether(t, cmds)
}

// runTogether starts the commands as close together as possible and waits for all (each at
// most a minute).
func runTogether(t *testing.T, commands []*exec.Cmd) []result {
	t.Helper()
	n := len(commands)
	cmds := make([]*cmdOutput, n)
	for i := range cmds {
		cmds[i] = &cmdOutput{cmd: commands[i]}
		cmds[i].cmd.Stdout, cmds[i].cmd.Stderr = &cmds[i].stdout, &cmds[i].stderr
	}
	var wg sync.WaitGroup
	results := make([]result, n)
	for i, c := range cmds {
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := waitTimeout(c.cmd, time.Minute)
			results[i] = result{exitCode(err), c.stdout.String(), c.stderr.String()}
		}()
	}
	wg.Wait()
	return results
}

type cmdOutput struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// waitForExpiry waits until every profile's stored access token has expired, so the next
// caller of each must refresh.
func waitForExpiry(t *testing.T, w *world) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, r := w.status()
		if r.code != 0 && r.code != 4 {
			t.Fatalf("status: %v", r)
		}
		expired := st["expired"] == true
		if profiles, ok := st["profiles"].([]any); ok {
			for _, p := range profiles {
				if m, _ := p.(map[string]any); m["expired"] != true {
					expired = false
				}
			}
		}
		if expired {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the access token did not expire within 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
