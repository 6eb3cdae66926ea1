package main

import (
	"bytes"
	"os/exec"
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
			w.login()
			const procs, rounds = 32, 5
			for round := 1; round <= rounds; round++ {
				waitForExpiry(t, w)
				before := w.stats().TokensIssued["refresh_token"]
				results := storm(t, w, procs, "token", "--min-ttl", "100ms")
				tokens := map[string]int{}
				for _, r := range results {
					if r.code != 0 {
						t.Fatalf("round %d: a process failed: %v", round, r)
					}
					tokens[strings.TrimSpace(r.stdout)]++
				}
				if len(tokens) != 1 {
					t.Errorf("round %d: %d different tokens printed; want 1", round, len(tokens))
				}
				st := w.stats()
				if got := st.TokensIssued["refresh_token"] - before; got != 1 {
					t.Errorf("round %d: %d refreshes; want exactly 1", round, got)
				}
				if st.FamiliesRevoked != 0 || st.TokenErrors["invalid_grant"] != 0 {
					t.Fatalf("round %d: the refresh token family was revoked: %+v", round, st)
				}
			}
		})
	}
}

// storm starts n pleoauth processes as close together as possible and waits for all.
func storm(t *testing.T, w *world, n int, args ...string) []result {
	t.Helper()
	cmds := make([]*cmdOutput, n)
	for i := range cmds {
		cmds[i] = &cmdOutput{cmd: w.command(args...)}
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

// waitForExpiry waits until the stored access token has expired, so the next caller must refresh.
func waitForExpiry(t *testing.T, w *world) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, r := w.status()
		if r.code != 0 && r.code != 4 {
			t.Fatalf("status: %v", r)
		}
		if st["expired"] == true {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the access token did not expire within 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
