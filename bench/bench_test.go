// Package bench measures pleoauth as a whole process against floors run side by side in the
// same benchmark, so the figures are ratios that hold on a shared, noisy machine. Run it with
// "make bench".
package bench

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/keychaintest"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokens"
)

// build compiles the programs statically (CGO_ENABLED=0), as releases are built.
func build(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", dir+"/",
		"../cmd/pleoauth", "./floor-bare", "./floor-linked", "./floor-keyring")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// sample is one run of one program.
type sample struct {
	wall time.Duration
	rss  int64 // peak resident set, bytes
}

func runOnce(b *testing.B, env []string, prog string, args ...string) sample {
	cmd := exec.Command(prog, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %v: %v\n%s", filepath.Base(prog), args, err, stderr.String())
	}
	wall := time.Since(start)
	return sample{wall, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024}
}

func median(s []sample) time.Duration {
	w := make([]time.Duration, len(s))
	for i := range s {
		w[i] = s[i].wall
	}
	slices.Sort(w)
	return w[len(w)/2]
}

func peakRSS(s []sample) int64 {
	var m int64
	for _, x := range s {
		m = max(m, x.rss)
	}
	return m
}

// validBundle is a stored login whose access token is good for a day.
func validBundle() *store.Bundle {
	return &store.Bundle{AccessToken: "ory_at_" + strings.Repeat("A", 87), RefreshToken: "ory_rt_" + strings.Repeat("R", 87),
		TokenType: "bearer", Scope: "users:read", Expiry: time.Now().Add(24 * time.Hour), ObtainedAt: time.Now()}
}

func baseEnv(home, storeName string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PLEOAUTH_") && !strings.HasPrefix(kv, "CI=") {
			env = append(env, kv)
		}
	}
	return append(env, "PLEOAUTH_HOME="+home, "PLEOAUTH_ENV=local", "PLEOAUTH_STORE="+storeName)
}

// BenchmarkTokenCached runs, once per iteration and interleaved, the cached path of
// "pleoauth token" on the file store and on the keychain store, and the three floors. It
// reports each program's median wall time and the ratios the performance targets are set in.
func BenchmarkTokenCached(b *testing.B) {
	bin := build(b)
	kc := keychaintest.Require(b)

	home := filepath.Join(b.TempDir(), "home")
	fileStore := store.File{Dir: filepath.Join(home, "tokens")}
	if err := fileStore.Save("local", validBundle()); err != nil {
		b.Fatal(err)
	}
	fileEnv := baseEnv(home, "file")

	khome := filepath.Join(b.TempDir(), "khome")
	keyEnv := append(baseEnv(khome, "keyring"), kc.Env...)
	// Save through a pleoauth-shaped keyring store in a child process, so this process never
	// holds a D-Bus connection of its own.
	seed := exec.Command(bin+"/floor-keyring", "pleoauth", "absent")
	seed.Env = keyEnv
	_ = seed.Run() // warms the Secret Service; exit 1 (not found) is expected
	kc.Setenv(b)
	if err := (store.Keyring{Dir: filepath.Join(khome, "tokens"), Scope: khome, Keychain: store.OSKeychain{}}).Save("local", validBundle()); err != nil {
		b.Fatal(err)
	}
	if err := (store.OSKeychain{}).Set("pleoauth-bench", "floor", "value"); err != nil {
		b.Fatal(err)
	}
	bundleFile := filepath.Join(home, "tokens", "local.json")

	var bare, linked, keyFloor, fileTok, keyTok []sample
	b.ResetTimer()
	for b.Loop() {
		bare = append(bare, runOnce(b, fileEnv, bin+"/floor-bare", bundleFile))
		linked = append(linked, runOnce(b, fileEnv, bin+"/floor-linked", bundleFile))
		fileTok = append(fileTok, runOnce(b, fileEnv, bin+"/pleoauth", "token"))
		keyFloor = append(keyFloor, runOnce(b, keyEnv, bin+"/floor-keyring", "pleoauth-bench", "floor"))
		keyTok = append(keyTok, runOnce(b, keyEnv, bin+"/pleoauth", "token"))
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(median(bare)), "bare-ms")
	b.ReportMetric(ms(median(linked)), "linked-ms")
	b.ReportMetric(ms(median(fileTok)), "file-token-ms")
	b.ReportMetric(ms(median(keyFloor)), "keyring-floor-ms")
	b.ReportMetric(ms(median(keyTok)), "keyring-token-ms")
	b.ReportMetric(float64(median(fileTok))/float64(median(linked)), "file/linked")
	b.ReportMetric(float64(median(fileTok))/float64(median(bare)), "file/bare")
	b.ReportMetric(float64(median(keyTok))/float64(median(keyFloor)), "keyring/keyring-floor")
	b.ReportMetric(float64(max(peakRSS(fileTok), peakRSS(keyTok)))/(1<<20), "peak-rss-MiB")
}

// BenchmarkRefreshStorm compares one process that refreshes with 32 processes started at once
// on an expired token, of which exactly one refreshes and the others wait for the lock.
func BenchmarkRefreshStorm(b *testing.B) {
	bin := build(b)
	dev, err := devserver.New(devserver.Options{ClientID: "pleoauth-local", ClientSecret: "bench",
		RedirectURIs: []string{"http://localhost:1/cb"}, AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, AutoApprove: true})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(dev)
	defer hs.Close()
	home := filepath.Join(b.TempDir(), "home")
	env := append(baseEnv(home, "file"), "PLEOAUTH_AUTH_SERVER_URL="+hs.URL, "PLEOAUTH_CLIENT_SECRET=bench")
	st := store.File{Dir: filepath.Join(home, "tokens")}
	login(b, hs.URL, st)

	expire := func() {
		bnd, err := st.Load("local")
		if err != nil {
			b.Fatal(err)
		}
		bnd.Expiry = time.Now().Add(-time.Second)
		if err := st.Save("local", bnd); err != nil {
			b.Fatal(err)
		}
	}
	var single, storm []time.Duration
	for b.Loop() {
		expire()
		start := time.Now()
		runOnce(b, env, bin+"/pleoauth", "token")
		single = append(single, time.Since(start))

		expire()
		start = time.Now()
		var wg sync.WaitGroup
		for range 32 {
			wg.Add(1)
			go func() { defer wg.Done(); runOnce(b, env, bin+"/pleoauth", "token") }()
		}
		wg.Wait()
		storm = append(storm, time.Since(start))
	}
	slices.Sort(single)
	slices.Sort(storm)
	s, m := single[len(single)/2], storm[len(storm)/2]
	b.ReportMetric(float64(s.Microseconds())/1000, "one-refresh-ms")
	b.ReportMetric(float64(m.Microseconds())/1000, "storm-32-ms")
	b.ReportMetric(float64(m)/float64(s), "storm/one")
	if st := dev.Stats(); st.FamiliesRevoked != 0 || st.TokensIssued["refresh_token"] != 2*b.N {
		b.Fatalf("devserver saw %+v; want exactly 2 refreshes per iteration", st)
	}
}

// login stores a first token pair got straight from the devserver.
func login(b *testing.B, base string, st store.File) {
	b.Helper()
	cfg := &oauth2.Config{ClientID: "pleoauth-local", ClientSecret: "bench", RedirectURL: "http://localhost:1/cb",
		Scopes: []string{"users:read"}, Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth/authorize",
			TokenURL: base + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	tok, err := oauthtest.Login(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Save("local", tokens.NewBundle(tok, time.Now(), cfg.Scopes)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTokenCachedRedis runs, interleaved, the cached path of "pleoauth token" on the redis
// store (a real redis-server on loopback) and on the file store, and reports the ratio (the
// target: at most 1.5).
func BenchmarkTokenCachedRedis(b *testing.B) {
	bin := build(b)
	srv := oauthtest.StartRedis(b)
	key := store.NewStoreKey()
	k, _ := store.DecodeStoreKey(key)
	rs := &store.Redis{Client: srv.Client(), URL: srv.URL(), Key: k, Timeout: 5 * time.Second}
	unlock, err := store.RedisLock{R: rs, Timeout: 5 * time.Second}.Lock(context.Background(), "local")
	if err != nil {
		b.Fatal(err)
	}
	if err := rs.Save("local", validBundle()); err != nil {
		b.Fatal(err)
	}
	unlock()
	rhome := filepath.Join(b.TempDir(), "rhome")
	redisEnv := append(baseEnv(rhome, "redis"), "PLEOAUTH_REDIS_URL="+srv.URL(), "PLEOAUTH_STORE_KEY="+key)

	home := filepath.Join(b.TempDir(), "home")
	if err := (store.File{Dir: filepath.Join(home, "tokens")}).Save("local", validBundle()); err != nil {
		b.Fatal(err)
	}
	fileEnv := baseEnv(home, "file")

	var fileTok, redisTok []sample
	b.ResetTimer()
	for b.Loop() {
		fileTok = append(fileTok, runOnce(b, fileEnv, bin+"/pleoauth", "token"))
		redisTok = append(redisTok, runOnce(b, redisEnv, bin+"/pleoauth", "token"))
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(median(fileTok)), "file-token-ms")
	b.ReportMetric(ms(median(redisTok)), "redis-token-ms")
	b.ReportMetric(float64(median(redisTok))/float64(median(fileTok)), "redis/file")
}
