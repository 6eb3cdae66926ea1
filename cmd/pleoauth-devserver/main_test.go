package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

func TestRunRefusesBadSetup(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		secret string
		want   string
	}{
		{"no secret", []string{"--addr", "127.0.0.1:0"}, "", "set PLEOAUTH_DEVSERVER_CLIENT_SECRET"},
		{"non-loopback address", []string{"--addr", "0.0.0.0:0"}, "s", "must be a loopback host:port"},
		{"bad lifetime", []string{"--addr", "127.0.0.1:0", "--access-ttl", "0s"}, "s", "lifetimes must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == secretEnv {
					return tt.secret
				}
				return ""
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, getenv, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr oauthtest.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, func(string) string { return "s" }, &stdout, &stderr)
	}()
	for !strings.Contains(stdout.String(), "http://127.0.0.1:") {
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v (%s)", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel = %v", err)
	}
}
