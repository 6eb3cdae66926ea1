package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/pleo"
)

// The library tests' login: access tokens that live libraryTTL, handed out while they have
// libraryMinTTL left (PLEOAUTH_MIN_TTL), so a token is refreshed every libraryTTL-libraryMinTTL
// while it is used; and libraryEmployees employees, three pages of the example's 100.
const (
	libraryTTL       = 3 * time.Second
	libraryMinTTL    = time.Second
	libraryEmployees = 250
)

// libraryWorld is a devserver and a PLEOAUTH_HOME for the library tests, logged in; the store
// is the file store unless extra variables, appended (a later one wins), choose another.
func libraryWorld(t *testing.T, extra ...string) *world {
	t.Helper()
	w := newWorldWith(t, devserver.Options{AccessTTL: libraryTTL, ListItems: libraryEmployees},
		append([]string{"PLEOAUTH_STORE=file", "PLEOAUTH_MIN_TTL=" + libraryMinTTL.String()}, extra...)...)
	w.login()
	return w
}

// commandOf is bin (the example program, or pleoauth) in w's environment, extra variables
// appended (a later one wins).
func (w *world) commandOf(bin string, extra []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(slices.Clone(w.env), extra...)
	return cmd
}

// runCommand runs cmd to completion (at most a minute); one that cannot start exits -1.
func runCommand(cmd *exec.Cmd) result {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return result{-1, "", err.Error()}
	}
	err := waitTimeout(cmd, time.Minute)
	return result{exitCode(err), stdout.String(), stderr.String()}
}

// buildEmployees builds examples/employees, inside this module, once per test run.
func buildEmployees(t *testing.T) string {
	t.Helper()
	const key = "examples/employees"
	builds.Lock()
	defer builds.Unlock()
	if p, ok := builds.path[key]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "pleoauth-bin-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "employees")
	if out, err := exec.Command("go", "build", "-o", path, "../../examples/employees").CombinedOutput(); err != nil {
		t.Fatalf("go build examples/employees: %v\n%s", err, out)
	}
	builds.path[key] = path
	return path
}

// buildOutsideModule copies examples/employees into a module of its own, example.com/libuser,
// that requires this one (replaced by this checkout) as any program using package pleo would,
// and builds it. Only what package pleo exports is reachable from there: internal packages
// are not. Without the modules to resolve the requirement (no module cache and no proxy) the
// test is skipped, except in CI.
func buildOutsideModule(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mainMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go [0-9.]+$`).Find(mainMod)
	if !bytes.HasPrefix(mainMod, []byte("module github.com/pleoauth/pleoauth\n")) || goLine == nil {
		t.Fatalf("%s is not the go.mod of github.com/pleoauth/pleoauth with a go line", filepath.Join(root, "go.mod"))
	}
	dir := t.TempDir()
	goMod := fmt.Sprintf("module example.com/libuser\n\n%s\n\nrequire github.com/pleoauth/pleoauth v0.0.0\n\nreplace github.com/pleoauth/pleoauth => %s\n", goLine, root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ from, to string }{{"go.sum", "go.sum"}, {"examples/employees/main.go", "main.go"}} {
		data, err := os.ReadFile(filepath.Join(root, f.from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd := func(args ...string) *exec.Cmd {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		// Its own module, not a workspace holding this one; -mod=mod lets tidy write go.mod.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		return cmd
	}
	if out, err := goCmd("mod", "tidy").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("go mod tidy in a module outside this one: %v\n%s", err, out)
		if config.IsCI(os.Getenv) {
			t.Fatal(msg + "\nCI must build a program outside the module (it needs the module cache or the Go module proxy)")
		}
		t.Skip(msg + "\n(the modules it requires are neither in the module cache nor reachable through the Go module proxy)")
	}
	bin := filepath.Join(dir, "libuser")
	// Once tidy resolved the requirement, a failure to build is the library's, wherever it runs.
	if out, err := goCmd("build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build of examples/employees as a module of its own: %v\n%s", err, out)
	}
	return bin
}

// libraryHistory is what the devserver's history says of a login's tokens.
type libraryHistory struct {
	events []devserver.TokenEvent
	// expires maps each access token issued (by fingerprint) to when the server stops
	// accepting it.
	expires map[string]time.Time
}

func historyOf(dev *devserver.Server) libraryHistory {
	h := libraryHistory{events: dev.History(), expires: map[string]time.Time{}}
	for _, ev := range h.events {
		if ev.Access != "" {
			h.expires[ev.Access] = ev.AccessExpires
		}
	}
	return h
}

// refreshes are the refresh_token requests among the events from index from on.
func (h libraryHistory) refreshes(from int) []devserver.TokenEvent {
	var out []devserver.TokenEvent
	for _, ev := range h.events[from:] {
		if ev.Grant == "refresh_token" {
			out = append(out, ev)
		}
	}
	return out
}

// checkNoReplay fails the test for a refresh token presented twice, a refused refresh or a
// revoked family, anywhere in the history. It returns how many refresh tokens were presented
// more than once.
func (h libraryHistory) checkNoReplay(t *testing.T, st devserver.Stats) (replayed int) {
	t.Helper()
	presented := map[string]int{}
	for _, ev := range h.events {
		if ev.Grant != "refresh_token" {
			continue
		}
		presented[ev.Presented]++
		if presented[ev.Presented] == 2 {
			replayed++
			t.Errorf("refresh token %s presented twice (a replay): %+v", ev.Presented, ev)
		}
		if ev.Revoked || ev.Error != "" || ev.Issued == "" {
			t.Errorf("a refresh was refused or revoked the login: %+v", ev)
		}
	}
	if st.FamiliesRevoked != 0 || len(st.TokenErrors) != 0 {
		t.Errorf("devserver: %d families revoked, token errors %v; want none", st.FamiliesRevoked, st.TokenErrors)
	}
	return replayed
}

// checkEmployees checks the example's listing: every employee of the devserver, in order, one
// per line, which it gets only by following the pagination.
func checkEmployees(out string) error {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != libraryEmployees {
		return fmt.Errorf("%d lines; want %d employees", len(lines), libraryEmployees)
	}
	want := map[int]string{0: "Ada Lovelace <ada@example.com>", 1: "Alan Turing <alan@example.com>",
		100: "Employee 101 <employee101@example.com>", libraryEmployees - 1: fmt.Sprintf("Employee %d <employee%d@example.com>", libraryEmployees, libraryEmployees)}
	for i, w := range want {
		if lines[i] != w {
			return fmt.Errorf("line %d is %q; want %q", i+1, lines[i], w)
		}
	}
	return nil
}

// TestLibraryOutsideTheModule: examples/employees, built as a program of another module that
// requires this one, gets its tokens through package pleo from the login "pleoauth login" made,
// lists the employees page by page through pleo.Client, refreshes on its own when the token
// expired, and shares every refresh with "pleoauth token": after each expiry, programs and
// pleoauth processes started together make one refresh between them, print the token it
// issued, and never present a refresh token twice.
func TestLibraryOutsideTheModule(t *testing.T) {
	prog := buildOutsideModule(t)
	w := libraryWorld(t)
	dev := w.dev

	// The login's token, as the program and pleoauth print it: read from the store, not
	// refreshed, while it is valid for the min TTL. That is checked when both ran before the
	// min TTL began (status shows the expiry to the second, rounded down); a machine too busy
	// for that in 2 s may rightly refresh.
	st, sr := w.status()
	expiresAt, err := time.Parse(time.RFC3339, fmt.Sprint(st["expires_at"]))
	if err != nil {
		t.Fatalf("status after the login: %v; %v", sr, err)
	}
	r := runCommand(w.commandOf(prog, nil, "-token"))
	token := strings.TrimSpace(r.stdout)
	if r.code != 0 || token == "" || strings.Contains(token, "\n") || r.stderr != "" {
		t.Fatalf("the program with -token: %v; want one token and nothing on stderr", r)
	}
	if _, ok := historyOf(dev).expires[devserver.Fingerprint(token)]; !ok {
		t.Fatalf("the program printed a token the devserver never issued")
	}
	if cli := w.run("token"); cli.code != 0 || strings.TrimSpace(cli.stdout) != token {
		t.Fatalf("pleoauth token after the program: %v; want the program's token", cli)
	}
	if n := len(historyOf(dev).refreshes(0)); time.Now().Before(expiresAt.Add(-libraryMinTTL)) && n != 0 {
		t.Errorf("the program and pleoauth made %d refreshes of a token valid for the min TTL; want none", n)
	}

	// The listing: three pages through pleo.Client.
	before := w.stats().APIRequests["/v2/employees"]
	r = runCommand(w.commandOf(prog, nil))
	if r.code != 0 {
		t.Fatalf("the program listing the employees: %v", r)
	}
	if err := checkEmployees(r.stdout); err != nil {
		t.Fatalf("the program's listing: %v", err)
	}
	if got := w.stats().APIRequests["/v2/employees"] - before; got != 3 {
		t.Errorf("the listing made %d requests to /v2/employees; want 3 pages", got)
	}

	// The program alone after an expiry refreshes, and saves what it got where pleoauth reads it.
	waitForExpiry(t, w)
	from := len(dev.History())
	r = runCommand(w.commandOf(prog, nil, "-token"))
	token = strings.TrimSpace(r.stdout)
	refreshed := historyOf(dev).refreshes(from)
	if r.code != 0 || len(refreshed) != 1 || refreshed[0].Access != devserver.Fingerprint(token) {
		t.Fatalf("the program after the token expired: %v, %d refreshes; want one refresh, its token printed", r, len(refreshed))
	}
	if cli := w.run("token"); cli.code != 0 || strings.TrimSpace(cli.stdout) != token {
		t.Fatalf("pleoauth token after the program refreshed: %v; want the program's token", cli)
	}

	// Programs and pleoauth processes together, after each expiry.
	const rounds, procs = 3, 8
	life := libraryTTL - libraryMinTTL // how long a refreshed token is handed out
	for round := 1; round <= rounds; round++ {
		waitForExpiry(t, w)
		from := len(dev.History())
		cmds := make([]*exec.Cmd, procs)
		for i := range cmds {
			if i%2 == 0 {
				cmds[i] = w.commandOf(prog, nil, "-token")
			} else {
				cmds[i] = w.command("token")
			}
		}
		start := time.Now()
		results := runTogether(t, cmds)
		took := time.Since(start)
		h := historyOf(dev)
		refreshed := h.refreshes(from)
		issued := map[string]bool{}
		for _, ev := range refreshed {
			issued[ev.Access] = true
		}
		printed := map[string]bool{}
		for i, r := range results {
			who := [2]string{"the program", "pleoauth token"}[i%2]
			tok := strings.TrimSpace(r.stdout)
			if r.code != 0 || tok == "" {
				t.Fatalf("round %d: %s failed: %v", round, who, r)
			}
			if !issued[devserver.Fingerprint(tok)] {
				t.Errorf("round %d: %s printed a token no refresh of this round issued", round, who)
			}
			printed[tok] = true
		}
		// A round that outlasts the token it refreshed (8 start-ups on two very busy cores)
		// rightly refreshes again; one inside the token's life refreshes exactly once and hands
		// every process, program or pleoauth, its token.
		if took >= life {
			if most := 1 + int(took/life); len(refreshed) < 1 || len(refreshed) > most {
				t.Errorf("round %d took %v: %d refreshes; want 1 to %d", round, took, len(refreshed), most)
			}
			t.Logf("round %d outlasted its token (%v): %d refreshes", round, took, len(refreshed))
		} else if len(refreshed) != 1 || len(printed) != 1 {
			t.Errorf("round %d (%v): %d refreshes, %d different tokens printed; want 1 and 1", round, took.Round(time.Millisecond), len(refreshed), len(printed))
		} else {
			t.Logf("round %d: %d processes in %v, one refresh, one token", round, procs, took.Round(time.Millisecond))
		}
	}
	historyOf(dev).checkNoReplay(t, w.stats())
}

// libraryOp is one operation of the storm: what did it, when, and what it got.
type libraryOp struct {
	kind       string
	start, end time.Time
	err        string // empty when it succeeded
	token      string // for the kinds that hand out a token
}

// The storm's kinds of operation.
const (
	opLibToken    = "library Token"           // pleo.TokenSource's Token, in this process
	opLibClient   = "library Client"          // GET /v2/employees through pleo.Client, in this process
	opCLIToken    = "pleoauth token"          // a process
	opCLIAPI      = "pleoauth api"            // a process: pleoauth api /v2/employees
	opProgToken   = "employees -token"        // a process of examples/employees
	opProgListing = "employees (the listing)" // a process of examples/employees
)

// TestLibraryStorm: for stormFor, goroutines of this process (pleo.TokenSource and pleo.Client,
// configured through Options.Getenv alone), examples/employees processes and pleoauth processes
// (token, api) use one login whose access tokens live 3 s, with the file store (one
// PLEOAUTH_HOME for all) and with the Redis store (a PLEOAUTH_HOME for each of the three, as on
// three machines). Every operation succeeds with a token the server still accepted, no refresh
// token is ever presented twice, no family is revoked, and the login is refreshed about once per
// token's life, not once per user.
func TestLibraryStorm(t *testing.T) {
	for _, storeName := range []string{"file", "redis"} {
		t.Run(storeName, func(t *testing.T) { libraryStorm(t, storeName) })
	}
}

const stormFor = 15 * time.Second

func libraryStorm(t *testing.T, storeName string) {
	prog := buildEmployees(t)
	var extra []string
	if storeName == "redis" {
		r := oauthtest.StartRedis(t)
		extra = []string{"PLEOAUTH_STORE=redis", "PLEOAUTH_REDIS_URL=" + r.URL(), "PLEOAUTH_STORE_KEY=" + store.NewStoreKey()}
	}
	w := libraryWorld(t, extra...) // logs in: into Redis, for the redis store
	dev := w.dev

	// Who uses which PLEOAUTH_HOME: one for all with the file store; with Redis, where the
	// login and its lock are, one each, as separate machines would.
	homes := map[string]string{"cli": w.home, "program": w.home, "library": w.home}
	if storeName == "redis" {
		for _, who := range []string{"program", "library"} {
			homes[who] = filepath.Join(t.TempDir(), who)
			if err := os.MkdirAll(homes[who], 0o700); err != nil {
				t.Fatal(err)
			}
		}
	}
	progEnv := []string{"PLEOAUTH_HOME=" + homes["program"]}
	// The library's settings are the processes' PLEOAUTH_* variables, read through
	// Options.Getenv from a map: nothing from this process's environment.
	settings := map[string]string{}
	for _, kv := range w.env {
		if name, value, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, "PLEOAUTH_") {
			settings[name] = value
		}
	}
	settings["PLEOAUTH_HOME"] = homes["library"]
	var warnings oauthtest.SyncBuffer
	opts := pleo.Options{
		Getenv: func(name string) string { return settings[name] },
		Logger: slog.New(slog.NewTextHandler(&warnings, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	ctx, cancel := context.WithTimeout(t.Context(), stormFor+time.Minute)
	defer cancel()
	// Two of each, as two parts of a program that each made their own.
	var sources []oauth2.TokenSource
	var clients []*http.Client
	for range 2 {
		ts, err := pleo.TokenSource(ctx, opts)
		if err != nil {
			t.Fatalf("pleo.TokenSource: %v", err)
		}
		sources = append(sources, ts)
		c, err := pleo.Client(ctx, opts)
		if err != nil {
			t.Fatalf("pleo.Client: %v", err)
		}
		clients = append(clients, c)
	}

	var (
		mu  sync.Mutex
		ops []libraryOp
		wg  sync.WaitGroup
	)
	record := func(op libraryOp) {
		mu.Lock()
		ops = append(ops, op)
		mu.Unlock()
	}
	from := len(dev.History())
	start := time.Now()
	deadline := start.Add(stormFor)
	worker := func(do func() libraryOp, pause time.Duration) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				record(do())
				time.Sleep(pause)
			}
		}()
	}
	for i := range 4 {
		ts := sources[i%2]
		worker(func() libraryOp {
			op := libraryOp{kind: opLibToken, start: time.Now()}
			tok, err := ts.Token()
			op.end = time.Now()
			switch {
			case err != nil:
				op.err = err.Error()
			case tok.AccessToken == "" || !tok.Expiry.After(op.end):
				op.err = fmt.Sprintf("a token that expires at %v, handed out at %v", tok.Expiry, op.end)
			default:
				op.token = tok.AccessToken
			}
			return op
		}, 10*time.Millisecond)
	}
	for _, c := range clients {
		worker(func() libraryOp {
			op := libraryOp{kind: opLibClient, start: time.Now()}
			op.err = listFirstPage(ctx, c)
			op.end = time.Now()
			return op
		}, 20*time.Millisecond)
	}
	process := func(kind string, cmd func() *exec.Cmd, check func(r result) string) {
		worker(func() libraryOp {
			op := libraryOp{kind: kind, start: time.Now()}
			r := runCommand(cmd())
			op.end = time.Now()
			switch {
			case r.code != 0:
				op.err = r.String()
			case check != nil:
				op.err = check(r)
			default:
				op.token = strings.TrimSpace(r.stdout)
			}
			return op
		}, 0)
	}
	for range 2 {
		process(opCLIToken, func() *exec.Cmd { return w.command("token") }, nil)
		process(opProgToken, func() *exec.Cmd { return w.commandOf(prog, progEnv, "-token") }, nil)
	}
	process(opCLIAPI, func() *exec.Cmd { return w.command("api", "/v2/employees") }, func(r result) string {
		if !strings.Contains(r.stdout, `"ada@example.com"`) {
			return "pleoauth api printed no employees: " + r.String()
		}
		return ""
	})
	process(opProgListing, func() *exec.Cmd { return w.commandOf(prog, progEnv) }, func(r result) string {
		if err := checkEmployees(r.stdout); err != nil {
			return err.Error()
		}
		return ""
	})
	wg.Wait()
	took := time.Since(start)

	h := historyOf(dev)
	replayed := h.checkNoReplay(t, w.stats())
	counts := map[string]int{}
	failed := 0
	for _, op := range ops {
		counts[op.kind]++
		if op.err == "" && op.token != "" {
			// Live when handed out: the server accepted it after the operation began (for a
			// goroutine, after Token returned).
			handed := op.start
			if op.kind == opLibToken {
				handed = op.end
			}
			expires, ok := h.expires[devserver.Fingerprint(op.token)]
			switch {
			case !ok:
				op.err = "a token the devserver never issued"
			case !expires.After(handed):
				op.err = fmt.Sprintf("a token the devserver accepted until %v, handed out after %v", expires, handed)
			}
		}
		if op.err != "" {
			if failed++; failed <= 5 {
				t.Errorf("%s at %v: %s", op.kind, op.start.Sub(start).Round(time.Millisecond), op.err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d operations failed", failed, len(ops))
	}
	for _, kind := range []string{opLibToken, opLibClient, opCLIToken, opCLIAPI, opProgToken, opProgListing} {
		if counts[kind] == 0 {
			t.Errorf("no %s ran", kind)
		}
	}

	// One refresh per expiry. A user refreshes only a token with less than the min TTL left
	// (grant.TokenResult: ValidFor(now, effectiveMinTTL); 1 s here, as the tokens live longer
	// than that), and re-reads the store under the lock first, so the next refresh is sent no
	// sooner than the last one's expiry less the min TTL. That expiry counts from when the last
	// refresh was sent (and the devserver announces at least libraryTTL), so two refreshes are
	// sent at least gap = libraryTTL - libraryMinTTL apart, whoever sends them: in took, at most
	// took/gap + 1. One more is allowed for an answer that aged in flight (an answer later than
	// gap, on a machine stalled that long: grant refreshes again at once, under the same lock).
	// Users that did not share would refresh once per expiry each, and present each other's
	// spent refresh tokens.
	refreshed := h.refreshes(from)
	gap := libraryTTL - libraryMinTTL
	most := int(took/gap) + 1 + 1
	if len(refreshed) > most {
		t.Errorf("%d refreshes in %v; want at most %d, one per %v", len(refreshed), took.Round(time.Millisecond), most, gap)
	}
	if len(refreshed) < 2 {
		t.Errorf("%d refreshes in %v of tokens that live %v; want at least 2", len(refreshed), took.Round(time.Millisecond), libraryTTL)
	}
	if s := warnings.String(); s != "" {
		t.Logf("the library's warnings:\n%s", s)
	}
	var summary []string
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		summary = append(summary, fmt.Sprintf("%s %d", k, counts[k]))
	}
	t.Logf("%s store: %d operations in %v (%s); %d refreshes (at most %d), %d refresh tokens presented twice",
		storeName, len(ops), took.Round(time.Millisecond), strings.Join(summary, ", "), len(refreshed), most, replayed)
}

// listFirstPage gets the first page of /v2/employees through c: "" when it holds the demo's
// first employee.
func listFirstPage(ctx context.Context, c *http.Client) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/v2/employees?limit=100", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := c.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var page struct {
		Data []struct {
			Email string `json:"email"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("GET /v2/employees: %s, %v", resp.Status, err)
	}
	if len(page.Data) != 100 || page.Data[0].Email != "ada@example.com" {
		return fmt.Sprintf("GET /v2/employees: %d employees, the first %+v", len(page.Data), page.Data)
	}
	return ""
}
