// Package chaos judges a randomized fleet run, in Jepsen's manner: a nemesis drawn from a seed
// injects faults while clients work, and a checker reads what the authorization server and
// every client recorded and says whether pleoauth kept its promise — no refresh token sent
// twice, no answer lost that the nemesis did not destroy, every exit code the documented one
// for what happened. The run itself (processes, namespaces, Redis) is cmd/pleoauth's
// TestChaos; this package holds the plan and the rules, so each rule has its own fast test.
package chaos

import (
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
)

// Op is one client operation, as the workload saw it.
type Op struct {
	ID   int
	Host int
	// Kind is what ran: OpToken, OpAPI, OpExec or OpServe (a GET /token to the host's serve).
	Kind       string
	Start, End time.Time
	// Exit is the process's exit code, ExitKilled when a signal ended it. For OpServe it is
	// the exit code the answer stands for: 0 for 200, 4 for 401, 5 for 503, ExitNoAnswer when
	// serve did not answer.
	Exit int
	// Token is the fingerprint ([devserver.Fingerprint]) of the access token it handed out
	// (token, exec, serve), "" for api.
	Token string
	// Stopped is how long the nemesis kept it stopped (SIGSTOP to SIGCONT).
	Stopped time.Duration
	// Signals are the signals the nemesis sent it while it ran: "KILL", "INT", "STOP".
	Signals []string
	// Said is the last line of its stderr, for the report.
	Said string
}

// Operation kinds.
const (
	OpToken = "token"
	OpAPI   = "api"
	OpExec  = "exec"
	OpServe = "serve"
)

// Exit codes the workload records besides a process's own.
const (
	ExitKilled   = -1 // ended by a signal (SIGKILL)
	ExitNoAnswer = -2 // serve did not answer (it was killed, stopped or starting again)
)

// Fault is one fault as the nemesis carried it out.
type Fault struct {
	Kind Kind
	// Host is the host it hit, -1 for the whole fleet (Redis, the token endpoint).
	Host       int
	Start, End time.Time
	// Op is the operation a signal went to, -1 for none.
	Op int
	// Serve: the signal went to the host's "pleoauth serve" (which is then started again).
	Serve bool
	// HeldLock: the process killed held the refresh lock when it died (read after its death,
	// from the lock's value), so it may have spent the refresh token without saving the answer.
	HeldLock bool
}

// History is everything a run recorded.
type History struct {
	Seed  uint64
	Hosts int
	// Server is the authorization server's log of token requests.
	Server []devserver.TokenEvent
	// HostOf names the host behind each client address the server saw.
	HostOf map[string]int
	Ops    []Op
	Faults []Fault
	// Logins are when each login (the first, and each one after a lost login) completed.
	Logins []time.Time
	// Ephemeral: Redis ran without persistence, so a restart lost every login it held.
	Ephemeral bool
	// Linger is how long a fault's effects may outlast it (lock_ttl and a little: a lock its
	// victim held, a save retried); LockWait is lock_timeout, added for a host cut off.
	Linger, LockWait time.Duration
	// ClientTimeout is pleoauth's HTTP timeout: an answer held longer finds its client gone.
	ClientTimeout time.Duration
	// MinTTL is the life the workload asks of every token it is handed.
	MinTTL time.Duration
	// Unsaved is unsaved_timeout: how long others answer "not saved yet" (exit 5) for a
	// refresh token a killed holder spent, before they say the login is lost.
	Unsaved time.Duration
	// Final are the operations after everything was healed: each host's token, in turn.
	Final []Op
	// FinalBound is how long after the heal every host must have a live token.
	FinalBound time.Duration
	// Healed is when the nemesis healed everything.
	Healed time.Time
}
