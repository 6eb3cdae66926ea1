// Package bench measures pleoauth as a whole process against floors run side by side in the
// same benchmark, so the figures are ratios that hold on a shared, noisy machine. Run it with
// "make bench", which ends with a table of every figure against its target.
package bench

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/keychaintest"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// build compiles the programs statically (CGO_ENABLED=0), as releases are built, and installs
// each into the returned folder with one sequential write, as a package manager or cp does. The
// linker writes its output through a memory map, which leaves the file in the page cache in
// small pieces; started from there, the same binary took 10-20% longer to start, by luck of the
// build, which drowned the differences being measured.
func build(b *testing.B) string {
	b.Helper()
	out, dir := b.TempDir(), b.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out+"/",
		"../cmd/pleoauth", "../examples/employees", "./floor-bare", "./floor-linked", "./floor-keyring", "./floor-pleoauth", "./peak-rss")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, msg)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, e.Name()), data, 0o755)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// runOnce runs prog to its end and returns its wall time.
func runOnce(b *testing.B, env []string, prog string, args ...string) time.Duration {
	cmd := exec.Command(prog, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %v: %v\n%s", filepath.Base(prog), args, err, stderr.String())
	}
	return time.Since(start)
}

// peakRSS runs prog through bin/peak-rss and returns its peak resident set in MiB.
func peakRSS(b *testing.B, bin string, env []string, prog string, args ...string) float64 {
	cmd := exec.Command(bin+"/peak-rss", append([]string{prog}, args...)...)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("peak-rss %s: %v", filepath.Base(prog), err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	kib, err := strconv.ParseFloat(lines[len(lines)-1], 64)
	if err != nil {
		b.Fatalf("peak-rss %s printed %q", filepath.Base(prog), out)
	}
	return kib / 1024
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

// ratio is the median of a[i]/b[i]: each iteration's programs ran side by side, under the same
// load, so their ratio is the figure, and the median drops the iterations a noisy neighbour hit.
func ratio(a, b []time.Duration) float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = float64(a[i]) / float64(b[i])
	}
	slices.Sort(r)
	return r[len(r)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

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

	var bare, linked, own, keyFloor, fileTok, keyTok []time.Duration
	var rss float64
	b.ResetTimer()
	for b.Loop() {
		bare = append(bare, runOnce(b, fileEnv, bin+"/floor-bare", bundleFile))
		linked = append(linked, runOnce(b, fileEnv, bin+"/floor-linked", bundleFile))
		own = append(own, runOnce(b, fileEnv, bin+"/floor-pleoauth", bundleFile))
		fileTok = append(fileTok, runOnce(b, fileEnv, bin+"/pleoauth", "token"))
		keyFloor = append(keyFloor, runOnce(b, keyEnv, bin+"/floor-keyring", "pleoauth-bench", "floor"))
		keyTok = append(keyTok, runOnce(b, keyEnv, bin+"/pleoauth", "token"))
		b.StopTimer()
		rss = max(rss, peakRSS(b, bin, fileEnv, bin+"/pleoauth", "token"), peakRSS(b, bin, keyEnv, bin+"/pleoauth", "token"))
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(ms(median(bare)), "bare-ms")
	b.ReportMetric(ms(median(linked)), "linked-ms")
	b.ReportMetric(ms(median(own)), "own-floor-ms")
	b.ReportMetric(ms(median(fileTok)), "file-token-ms")
	b.ReportMetric(ms(median(keyFloor)), "keyring-floor-ms")
	b.ReportMetric(ms(median(keyTok)), "keyring-token-ms")
	report(b, "cached token, file store / floor-linked", "file/linked", ratio(fileTok, linked), atMost(1.2))
	report(b, "cached token, file store / floor-bare", "file/bare", ratio(fileTok, bare), atMost(1.9))
	report(b, "  of it: floor-pleoauth / floor-linked (using the libs)", "own/linked", ratio(own, linked), target{})
	report(b, "  of it: cached token / floor-pleoauth (pleoauth's main)", "file/own", ratio(fileTok, own), target{})
	report(b, "cached token, keychain / one go-keyring Get", "keyring/keyring-floor", ratio(keyTok, keyFloor), atMost(1.3))
	report(b, "peak RSS of any cached token run, MiB", "peak-rss-MiB", rss, below(20))
}

// BenchmarkRefreshStorm starts 24 "pleoauth token" processes at once, twice an iteration: on a
// valid token (all served from the store) and on an expired one (exactly one refreshes, the
// others wait for its lock and use its token). The figure is what needing a refresh adds to the
// storm; both storms pay the same 24 process start-ups on the machine's cores.
func BenchmarkRefreshStorm(b *testing.B) {
	const processes = 24
	bin := build(b)
	dev, env, st := devLogin(b)

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
	storm := func() time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for range processes {
			wg.Go(func() { runOnce(b, env, bin+"/pleoauth", "token") })
		}
		wg.Wait()
		return time.Since(start)
	}
	before := dev.Stats().TokensIssued["refresh_token"]
	var cached, refreshing []time.Duration
	for b.Loop() {
		cached = append(cached, storm())
		expire()
		refreshing = append(refreshing, storm())
	}
	b.ReportMetric(ms(median(cached)), "storm-cached-ms")
	b.ReportMetric(ms(median(refreshing)), "storm-refresh-ms")
	report(b, "storm of 24 needing one refresh / served from cache", "storm-refresh/cached", ratio(refreshing, cached), atMost(1.5))
	st2 := dev.Stats()
	if refreshes := st2.TokensIssued["refresh_token"] - before; st2.FamiliesRevoked != 0 || refreshes != len(cached) {
		b.Fatalf("devserver saw %d refreshes for %d storms and %d revoked families; want exactly one refresh per storm", refreshes, len(cached), st2.FamiliesRevoked)
	}
}

// devLogin starts a devserver and logs in to it, on the file store of a new home: it returns the
// server, the environment of a pleoauth process using the login, and its store. The access
// token is good for 15 minutes.
func devLogin(b *testing.B) (*devserver.Server, []string, store.File) {
	b.Helper()
	dev, err := devserver.New(devserver.Options{ClientID: "pleoauth-local", ClientSecret: "bench",
		RedirectURIs: []string{"http://localhost:1/cb"}, AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, AutoApprove: true})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(dev)
	b.Cleanup(hs.Close)
	home := filepath.Join(b.TempDir(), "home")
	env := append(baseEnv(home, "file"), "PLEOAUTH_AUTH_SERVER_URL="+hs.URL, "PLEOAUTH_CLIENT_SECRET=bench")
	st := store.File{Dir: filepath.Join(home, "tokens")}
	login(b, hs.URL, st)
	return dev, env, st
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
	if err := st.Save("local", grant.NewBundle(tok, time.Now(), cfg.Scopes)); err != nil {
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

	var fileTok, redisTok []time.Duration
	b.ResetTimer()
	for b.Loop() {
		fileTok = append(fileTok, runOnce(b, fileEnv, bin+"/pleoauth", "token"))
		redisTok = append(redisTok, runOnce(b, redisEnv, bin+"/pleoauth", "token"))
	}
	b.StopTimer()
	b.ReportMetric(ms(median(fileTok)), "file-token-ms")
	b.ReportMetric(ms(median(redisTok)), "redis-token-ms")
	report(b, "cached token, redis store / file store", "redis/file", ratio(redisTok, fileTok), atMost(1.5))
}
