package pleo_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// The examples run as a user's program would: against the bundled server, configured through
// the process environment, which TestMain sets as a deployment would — the environment "local"
// pointed at a devserver, a file store in a home of its own, the client secret, and a Redis with
// its own login for the service example. The tests make logins of their own (newLogin), each
// configured through Options alone.

const exampleSecret = "pleo-example-client-secret"

func TestMain(m *testing.M) {
	flag.Parse()
	code, err := runWithExamples(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pleo tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runWithExamples(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "pleo-examples")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	for _, v := range config.Variables() {
		os.Unsetenv(v)
	}
	srv, err := devserver.New(devserver.Options{ClientID: config.LocalClientID, ClientSecret: exampleSecret,
		RedirectURIs: []string{config.DefaultRedirectURI}, AccessTTL: time.Hour, RefreshTTL: 24 * time.Hour, AutoApprove: true, ListItems: 25})
	if err != nil {
		return 0, err
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for k, v := range map[string]string{"PLEOAUTH_HOME": filepath.Join(dir, "home"), "PLEOAUTH_ENV": "local", "PLEOAUTH_STORE": "file",
		"PLEOAUTH_CLIENT_SECRET": exampleSecret, "PLEOAUTH_AUTH_SERVER_URL": hs.URL, "PLEOAUTH_API_URL": hs.URL} {
		os.Setenv(k, v)
	}
	if err := importLogin(os.Getenv, hs.URL, exampleSecret); err != nil {
		return 0, fmt.Errorf("the examples' login: %w", err)
	}
	stop, err := redisForTheServiceExample(dir, hs.URL)
	if err != nil {
		return 0, err
	}
	defer stop()
	return m.Run(), nil
}

// importLogin logs in to the devserver at server and imports the refresh token into the store
// getenv configures, as "pleoauth import-refresh-token" does.
func importLogin(getenv func(string) string, server, secret string) error {
	ctx := context.Background()
	tok, err := oauthtest.Login(ctx, &oauth2.Config{ClientID: config.LocalClientID, ClientSecret: secret, RedirectURL: config.DefaultRedirectURI,
		Scopes: []string{"users:read"}, Endpoint: oauth2.Endpoint{AuthURL: server + "/oauth/authorize", TokenURL: server + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}})
	if err != nil {
		return err
	}
	g, err := grant.OpenSelected(nil, getenv, grant.Deps{Stderr: io.Discard, Getenv: getenv, Now: time.Now, Keychain: store.OSKeychain{},
		HTTPClient: oauthtest.NoRedirects, Interactive: func() bool { return false }}, false)
	if err != nil {
		return err
	}
	_, err = g.Import(ctx, tok.RefreshToken, false)
	return err
}

// redisForTheServiceExample starts redis-server with a login of its own, and sets REDIS_URL and
// PLEOAUTH_STORE_KEY, which Example_service reads. Without redis-server that example is skipped
// with a message, except in CI, where the tests fail.
func redisForTheServiceExample(dir, server string) (stop func(), err error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if config.IsCI(os.Getenv) {
			return nil, fmt.Errorf("redis-server is missing, and CI must run Example_service (.ci/run installs redis-server)")
		}
		fmt.Fprintln(os.Stderr, "pleo tests: redis-server is not installed, so Example_service is skipped; on Debian: apt-get install redis-server")
		return func() {}, flag.Set("test.skip", "^Example_service$")
	}
	port, err := oauthtest.PickPort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", "")
	oauthtest.DieWithTest(cmd) // a test binary killed (a timeout, a mutant) leaves no Redis behind
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() { cmd.Process.Kill(); cmd.Wait() }
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for deadline := time.Now().Add(30 * time.Second); c.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("redis-server did not answer on %s within 30s", addr)
		}
	}
	os.Setenv("REDIS_URL", "redis://"+addr+"/0")
	os.Setenv("PLEOAUTH_STORE_KEY", grant.NewStoreKey())
	inRedis := func(name string) string {
		if name == "PLEOAUTH_STORE" {
			return "redis"
		}
		if name == "PLEOAUTH_REDIS_URL" {
			return os.Getenv("REDIS_URL")
		}
		return os.Getenv(name)
	}
	if err := importLogin(inRedis, server, exampleSecret); err != nil {
		stop()
		return nil, fmt.Errorf("the service example's login in Redis: %w", err)
	}
	return stop, nil
}
