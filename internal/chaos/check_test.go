package chaos

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
)

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

const (
	sec  = time.Second
	ns   = time.Nanosecond
	addr = "10.0.0.1" // host 0
	adr1 = "10.0.0.2" // host 1
	adrX = "10.9.9.9" // a host nobody knows
)

func at(d time.Duration) time.Time { return t0.Add(d) }

// hostOf is the fleet the tests use: two hosts.
func hostOf() map[string]int { return map[string]int{addr: 0, adr1: 1} }

// login is a code exchange that issued refresh token issued and access token access, of family fam.
func login(start, end time.Duration, issued, access, fam string) devserver.TokenEvent {
	return devserver.TokenEvent{Start: at(start), End: at(end), From: addr, Grant: "authorization_code",
		Family: fam, Issued: issued, Access: access, AccessExpires: at(time.Hour), Answer: devserver.AnswerSent}
}

// rotation is a refresh that rotated presented into issued.
func rotation(start, end time.Duration, from, presented, issued, answer string) devserver.TokenEvent {
	return devserver.TokenEvent{Start: at(start), End: at(end), From: from, Grant: "refresh_token",
		Presented: presented, Family: "F1", Issued: issued, Access: "A-" + issued, AccessExpires: at(time.Hour),
		Answer: answer}
}

// replay is a refresh presenting presented that the server did not rotate; revoked says it revoked
// the family.
func replay(start, end time.Duration, from, presented string, revoked bool) devserver.TokenEvent {
	ev := devserver.TokenEvent{Start: at(start), End: at(end), From: from, Grant: "refresh_token",
		Presented: presented, Family: "F1", Revoked: revoked, Answer: devserver.AnswerSent}
	if revoked {
		ev.Error = "invalid_grant"
	}
	return ev
}

func whats(r Report) string {
	var b strings.Builder
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "\n\t%s: %s", clock(v.At), v.What)
	}
	return b.String()
}

// TestReplays: rule 1, a refresh token presented again after a rotation, and its excuses.
func TestReplays(t *testing.T) {
	// The rotation under test: host 0 presents R1 at 10 s, the server rotates it to R2 and
	// answers at 11 s; R1 comes again at 20 s.
	const reqStart, reqEnd = 10 * sec, 11 * sec
	killedOp := func(id int, host int, start time.Duration) Op {
		return Op{ID: id, Host: host, Kind: OpToken, Start: at(start), End: at(reqEnd), Exit: ExitKilled, Signals: []string{"KILL"}}
	}
	kill := func(k Kind, host, op int, when time.Duration) Fault {
		return Fault{Kind: k, Host: host, Op: op, Start: at(when), End: at(when)}
	}
	cut := func(k Kind, host int, start, end time.Duration) Fault {
		return Fault{Kind: k, Host: host, Op: -1, Start: at(start), End: at(end)}
	}
	for _, tc := range []struct {
		name            string
		from            string // who sent the rotation
		answer          string // what became of its answer
		faults          []Fault
		ops             []Op
		replays, excuse int
	}{
		{name: "answer sent", answer: devserver.AnswerSent, replays: 1},
		{name: "answer dropped", answer: devserver.AnswerDropped, replays: 1, excuse: 1},
		{name: "answer cut", answer: devserver.AnswerCut, replays: 1, excuse: 1},
		{name: "client gone", answer: devserver.AnswerClientGone, replays: 1, excuse: 1},

		{name: "partition overlapping", answer: devserver.AnswerSent, replays: 1, excuse: 1,
			faults: []Fault{cut(PartitionServer, 0, 10500*time.Millisecond, 15*sec)}},
		{name: "partition starting as the answer left", answer: devserver.AnswerSent, replays: 1, excuse: 1,
			faults: []Fault{cut(PartitionServer, 0, reqEnd, 15*sec)}},
		{name: "partition starting after the answer left", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{cut(PartitionServer, 0, reqEnd+ns, 15*sec)}},
		{name: "partition ending as the request came", answer: devserver.AnswerSent, replays: 1, excuse: 1,
			faults: []Fault{cut(PartitionServer, 0, 5*sec, reqStart)}},
		{name: "partition ending before the request came", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{cut(PartitionServer, 0, 5*sec, reqStart-ns)}},
		{name: "partition of an instant inside", answer: devserver.AnswerSent, replays: 1, excuse: 1,
			faults: []Fault{{Kind: PartitionServer, Host: 0, Op: -1, Start: at(10500 * time.Millisecond)}}},
		{name: "link down overlapping", answer: devserver.AnswerSent, replays: 1, excuse: 1,
			faults: []Fault{cut(LinkDown, 0, 9*sec, 10500*time.Millisecond)}},
		{name: "partition of another host", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{cut(PartitionServer, 1, 9*sec, 15*sec)}},
		{name: "fleet-wide partition is no host's", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{cut(PartitionServer, -1, 9*sec, 15*sec)}},
		{name: "partition from redis does not cut the answer", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{cut(PartitionRedis, 0, 9*sec, 15*sec)}},
		{name: "partition of a host nobody knows", from: adrX, answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{cut(PartitionServer, 0, 9*sec, 15*sec)}},
		{name: "partition of host 1, request from host 1", from: adr1, answer: devserver.AnswerSent, replays: 1, excuse: 1,
			faults: []Fault{cut(PartitionServer, 1, 9*sec, 15*sec)}},

		{name: "client killed while sending", answer: devserver.AnswerSent, replays: 1, excuse: 1,
			faults: []Fault{kill(KillClient, 0, 0, 10500*time.Millisecond)}, ops: []Op{killedOp(0, 0, 9*sec)}},
		{name: "client killed at the server", answer: devserver.AnswerSent, replays: 1, excuse: 1,
			faults: []Fault{kill(KillAtServer, 0, 3, 10500*time.Millisecond)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "killed as the request came", answer: devserver.AnswerSent, replays: 1, excuse: 1,
			faults: []Fault{kill(KillClient, 0, 3, reqStart)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "killed before the request came", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{kill(KillClient, 0, 3, reqStart-ns)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "killed op started with the request", answer: devserver.AnswerSent, replays: 1, excuse: 1,
			faults: []Fault{kill(KillClient, 0, 3, 10500*time.Millisecond)}, ops: []Op{killedOp(3, 0, reqStart)}},
		{name: "killed op started after the request", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{kill(KillClient, 0, 3, 10500*time.Millisecond)}, ops: []Op{killedOp(3, 0, reqStart+ns)}},
		{name: "kill on another host", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{kill(KillClient, 1, 3, 10500*time.Millisecond)}, ops: []Op{killedOp(3, 1, 9*sec)}},
		{name: "kill of no op", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{kill(KillClient, 0, -1, 10500*time.Millisecond)}, ops: []Op{killedOp(-1, 0, 9*sec)}},
		{name: "kill of an op never recorded", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{kill(KillClient, 0, 4, 10500*time.Millisecond)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "stop is no kill", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{kill(StopClient, 0, 3, 10500*time.Millisecond)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "int is no kill", answer: devserver.AnswerSent, replays: 1,
			faults: []Fault{kill(IntAtServer, 0, 3, 10500*time.Millisecond)}, ops: []Op{killedOp(3, 0, 9*sec)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := tc.from
			if from == "" {
				from = addr
			}
			h := History{Hosts: 0, HostOf: hostOf(), Faults: tc.faults, Ops: tc.ops,
				Server: []devserver.TokenEvent{
					login(1*sec, 2*sec, "R1", "A1", "F1"),
					rotation(reqStart, reqEnd, from, "R1", "R2", tc.answer),
					replay(20*sec, 21*sec, adr1, "R1", false),
				}}
			r := Check(h)
			if r.Replays != tc.replays || r.ReplaysExcused != tc.excuse {
				t.Errorf("replays %d, excused %d; want %d, %d", r.Replays, r.ReplaysExcused, tc.replays, tc.excuse)
			}
			if r.Rotations != 1 {
				t.Errorf("rotations %d, want 1", r.Rotations)
			}
			var replayViolations int
			for _, v := range r.Violations {
				if strings.Contains(v.What, "presented again") {
					replayViolations++
					if !v.At.Equal(at(20 * sec)) {
						t.Errorf("violation at %s, want the replay's start", clock(v.At))
					}
				}
			}
			if want := tc.replays - tc.excuse; replayViolations != want || len(r.Violations) != want {
				t.Errorf("%d replay violations of %d; want %d:%s", replayViolations, len(r.Violations), want, whats(r))
			}
			// An excused replay is a loss; a replay that is not is none.
			if lost := len(h.Server) - 1; tc.excuse == 1 && sum(r.Lost) != 1 || tc.excuse == 0 && sum(r.Lost) != 0 {
				t.Errorf("lost %v (of %d events)", r.Lost, lost)
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestNoReplay: presentations that are not replays.
func TestNoReplay(t *testing.T) {
	unavailable := func(start time.Duration, presented string) devserver.TokenEvent {
		return devserver.TokenEvent{Start: at(start), End: at(start + sec), From: addr, Grant: "refresh_token",
			Presented: presented, Answer: devserver.AnswerSent}
	}
	for _, tc := range []struct {
		name   string
		server []devserver.TokenEvent
	}{
		{name: "one rotation", server: []devserver.TokenEvent{
			login(1*sec, 2*sec, "R1", "A1", "F1"),
			rotation(10*sec, 11*sec, addr, "R1", "R2", devserver.AnswerSent),
		}},
		{name: "a chain of rotations", server: []devserver.TokenEvent{
			login(1*sec, 2*sec, "R1", "A1", "F1"),
			rotation(10*sec, 11*sec, addr, "R1", "R2", devserver.AnswerSent),
			rotation(20*sec, 21*sec, adr1, "R2", "R3", devserver.AnswerSent),
		}},
		{name: "twice unavailable, never rotated", server: []devserver.TokenEvent{
			login(1*sec, 2*sec, "R1", "A1", "F1"),
			unavailable(10*sec, "R1"),
			unavailable(20*sec, "R1"),
		}},
		{name: "code exchanges present nothing", server: []devserver.TokenEvent{
			login(1*sec, 2*sec, "R1", "A1", "F1"),
			login(3*sec, 4*sec, "R9", "A9", "F9"),
			{Start: at(5 * sec), End: at(6 * sec), From: addr, Grant: "refresh_token", Issued: "R5", Access: "A5", Answer: devserver.AnswerSent},
			login(7*sec, 8*sec, "R7", "A7", "F7"),
		}},
		// Rule 1 forbids presenting a token after its rotation; a 503 before it, then the retry
		// that rotated it, is the ordinary course of a server error.
		{name: "unavailable, then rotated", server: []devserver.TokenEvent{
			login(1*sec, 2*sec, "R1", "A1", "F1"),
			unavailable(10*sec, "R1"),
			rotation(20*sec, 21*sec, addr, "R1", "R2", devserver.AnswerSent),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(History{HostOf: hostOf(), Server: tc.server})
			if r.Replays != 0 || r.ReplaysExcused != 0 || len(r.Violations) != 0 {
				t.Errorf("replays %d, excused %d, violations:%s", r.Replays, r.ReplaysExcused, whats(r))
			}
		})
	}
}

// TestRevoked: rule 2, a family revoked only by an excused replay.
func TestRevoked(t *testing.T) {
	for _, tc := range []struct {
		name       string
		answer     string
		presented  string
		revoked    bool
		violations int // revocation violations
		replays    int
	}{
		{name: "after a sent answer", answer: devserver.AnswerSent, presented: "R1", revoked: true, violations: 1, replays: 1},
		{name: "after a dropped answer", answer: devserver.AnswerDropped, presented: "R1", revoked: true, replays: 1},
		{name: "of a token never rotated", answer: devserver.AnswerDropped, presented: "R7", revoked: true, violations: 1},
		{name: "not revoked", answer: devserver.AnswerDropped, presented: "R1", replays: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(History{HostOf: hostOf(), Server: []devserver.TokenEvent{
				login(1*sec, 2*sec, "R1", "A1", "F1"),
				rotation(10*sec, 11*sec, addr, "R1", "R2", tc.answer),
				replay(20*sec, 21*sec, adr1, tc.presented, tc.revoked),
			}})
			revoked := 0
			if tc.revoked {
				revoked = 1
			}
			if r.Revoked != revoked {
				t.Errorf("revoked %d, want %d", r.Revoked, revoked)
			}
			if r.Replays != tc.replays {
				t.Errorf("replays %d, want %d", r.Replays, tc.replays)
			}
			n := 0
			for _, v := range r.Violations {
				if strings.Contains(v.What, "revoked by") {
					n++
					if !v.At.Equal(at(20 * sec)) {
						t.Errorf("revocation violation at %s, want the request's start", clock(v.At))
					}
				}
			}
			if n != tc.violations {
				t.Errorf("%d revocation violations, want %d:%s", n, tc.violations, whats(r))
			}
			if tc.replays == 0 && len(r.Violations) != tc.violations {
				t.Errorf("other violations:%s", whats(r))
			}
		})
	}
}

// exitServer is the server's history the exit code cases run against: a login at 1–2 s (R1,
// access A1 live until 60 s, family F1), a rotation R1→R2 (access A-R2) whose answer was dropped
// at 3–4 s, a refresh with R2 that rotated nothing, and the replay of R1 at 5–6 s, which revoked
// F1. A login of family F2 (access B1) at
// 7–8 s.
func exitServer() []devserver.TokenEvent {
	a1 := login(1*sec, 2*sec, "R1", "A1", "F1")
	a1.AccessExpires = at(60 * sec)
	return []devserver.TokenEvent{
		a1,
		rotation(3*sec, 4*sec, addr, "R1", "R2", devserver.AnswerDropped),
		// A refresh of F1 that rotated nothing replaces no token.
		{Start: at(4200 * time.Millisecond), End: at(4500 * time.Millisecond), From: addr, Grant: "refresh_token", Presented: "R2", Family: "F1"},
		replay(5*sec, 6*sec, addr, "R1", true),
		login(7*sec, 8*sec, "S1", "B1", "F2"),
	}
}

// TestExitZero: rule 3 for exit 0, a live token the server issued.
func TestExitZero(t *testing.T) {
	op := func(kind string, start, end time.Duration, token string) Op {
		return Op{ID: 1, Host: 0, Kind: kind, Start: at(start), End: at(end), Token: token}
	}
	stopped := func(o Op, d time.Duration) Op { o.Stopped = d; return o }
	interrupted := func(o Op) Op { o.Signals = []string{"STOP", "INT"}; return o }
	for _, tc := range []struct {
		name              string
		op                Op
		bad               bool
		checked, finished int
	}{
		{name: "live token", op: op(OpToken, 7*sec, 9*sec, "B1"), checked: 1},
		{name: "exec with a live token", op: op(OpExec, 7*sec, 9*sec, "B1"), checked: 1},
		{name: "serve with a live token", op: op(OpServe, 7*sec, 9*sec, "B1"), checked: 1},
		{name: "unknown token", op: op(OpToken, 7*sec, 9*sec, "ZZ"), bad: true},
		{name: "no token", op: op(OpToken, 7*sec, 9*sec, ""), bad: true},
		{name: "api needs no token", op: op(OpAPI, 7*sec, 9*sec, "")},
		{name: "api with an unknown token", op: op(OpAPI, 7*sec, 9*sec, "ZZ")},

		// A1 expires at 60 s: it must be live tokenSlack before the end, less the time stopped.
		{name: "expired tokenSlack before the end", op: op(OpToken, 2*sec, 60*sec+tokenSlack, "A1"), bad: true},
		{name: "live until just under tokenSlack before the end", op: op(OpToken, 2*sec, 60*sec+tokenSlack-ns, "A1"), checked: 1},
		{name: "stopped long enough", op: stopped(op(OpToken, 2*sec, 60*sec+tokenSlack, "A1"), ns), checked: 1},
		{name: "stopped a second", op: stopped(op(OpToken, 2*sec, 61*sec+tokenSlack, "A1"), sec), bad: true},
		{name: "stopped a second and a bit", op: stopped(op(OpToken, 2*sec, 61*sec+tokenSlack, "A1"), sec+ns), checked: 1},
		{name: "stopped, token live", op: stopped(op(OpToken, 2*sec, 50*sec, "A1"), 30*sec), checked: 1},

		// F1 was revoked at 6 s, and A1 replaced by the rotation that ended at 4 s.
		{name: "family revoked before the op", op: op(OpToken, 6*sec+ns, 9*sec, "A-R2"), bad: true},
		{name: "family revoked as the op started", op: op(OpToken, 6*sec, 9*sec, "A-R2"), checked: 1},
		{name: "family revoked while the op ran", op: op(OpToken, 5*sec, 9*sec, "A-R2"), checked: 1},
		{name: "replaced by a rotation before the op", op: op(OpToken, 4*sec+ns, 9*sec, "A1"), bad: true},
		{name: "replaced by a rotation as the op started", op: op(OpToken, 4*sec, 9*sec, "A1"), checked: 1},
		{name: "replaced by a rotation while the op ran", op: op(OpToken, 3500*time.Millisecond, 9*sec, "A1"), checked: 1},
		{name: "another family revoked", op: op(OpToken, 9*sec, 10*sec, "B1"), checked: 1},

		{name: "INT after finishing", op: interrupted(op(OpToken, 7*sec, 9*sec, "B1")), checked: 1, finished: 1},
		{name: "INT after finishing an api call", op: interrupted(op(OpAPI, 7*sec, 9*sec, "")), finished: 1},
		{name: "INT after finishing with a bad token", op: interrupted(op(OpToken, 7*sec, 9*sec, "ZZ")), bad: true, finished: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(History{HostOf: hostOf(), Server: exitServer(), Ops: []Op{tc.op}})
			if got := len(r.Violations) == 1; got != tc.bad || len(r.Violations) > 1 {
				t.Errorf("violations:%s\nwant one: %v", whats(r), tc.bad)
			}
			if tc.bad && len(r.Violations) == 1 && !r.Violations[0].At.Equal(tc.op.End) {
				t.Errorf("violation at %s, want the op's end", clock(r.Violations[0].At))
			}
			if r.TokensChecked != tc.checked {
				t.Errorf("tokens checked %d, want %d", r.TokensChecked, tc.checked)
			}
			if r.InterruptedAfterFinishing != tc.finished {
				t.Errorf("interrupted after finishing %d, want %d", r.InterruptedAfterFinishing, tc.finished)
			}
			if r.Ops[tc.op.Kind] != 1 || r.Exits[0] != 1 {
				t.Errorf("ops %v, exits %v", r.Ops, r.Exits)
			}
		})
	}
}

// TestExitCodes: rule 3 for every other exit code.
func TestExitCodes(t *testing.T) {
	// The op under test runs on host 0 from 25 s to 30 s; the logins were at 1 s and 20 s.
	const opStart, opEnd = 25 * sec, 30 * sec
	logins := []time.Time{at(1 * sec), at(20 * sec)}
	refused := func(sent time.Duration) devserver.TokenEvent { // a loss counts from the request's start
		return devserver.TokenEvent{Start: at(sent), End: at(sent + sec), From: addr, Grant: "refresh_token",
			Presented: "R1", Error: "invalid_grant", Answer: devserver.AnswerSent}
	}
	dropped := func(sent time.Duration) devserver.TokenEvent {
		return rotation(sent, sent+sec, addr, "R1", "R2", devserver.AnswerDropped)
	}
	fault := func(k Kind, host int, start, end time.Duration) Fault {
		return Fault{Kind: k, Host: host, Op: -1, Start: at(start), End: at(end)}
	}
	heldLock := func(f Fault) Fault { f.HeldLock = true; return f }
	serve := func(f Fault) Fault { f.Serve = true; return f }
	showed := func(start, end time.Duration, f devserver.Fault) devserver.TokenEvent {
		return devserver.TokenEvent{Start: at(start), End: at(end), From: adr1, Grant: "refresh_token", Presented: "R1", Fault: f}
	}
	instant := func(k Kind, host int, start time.Duration) Fault {
		return Fault{Kind: k, Host: host, Op: -1, Start: at(start)}
	}
	for _, tc := range []struct {
		name      string
		exit      int
		signals   []string
		start     time.Duration // when not opStart
		server    []devserver.TokenEvent
		faults    []Fault
		logins    []time.Time // when not logins
		ephemeral bool
		ok        bool
	}{
		{name: "130 after INT", exit: 130, signals: []string{"INT"}, ok: true},
		{name: "130 after STOP and INT", exit: 130, signals: []string{"STOP", "INT"}, ok: true},
		{name: "130 with no signal", exit: 130},
		{name: "130 after KILL", exit: 130, signals: []string{"KILL"}},
		{name: "killed by KILL", exit: ExitKilled, signals: []string{"STOP", "KILL"}, ok: true},
		{name: "killed with no signal", exit: ExitKilled},
		{name: "killed after INT", exit: ExitKilled, signals: []string{"INT"}},

		{name: "4 with no loss", exit: 4},
		{name: "4 after a refusal", exit: 4, server: []devserver.TokenEvent{refused(22 * sec)}, ok: true},
		{name: "4 after a dropped answer", exit: 4, server: []devserver.TokenEvent{dropped(22 * sec)}, ok: true},
		{name: "4 after an error that is no refusal", exit: 4,
			server: []devserver.TokenEvent{{Start: at(21 * sec), End: at(22 * sec), From: addr, Grant: "refresh_token", Presented: "R1", Error: "invalid_request"}}},
		{name: "4 after a refusal before the login", exit: 4, server: []devserver.TokenEvent{refused(20*sec - ns)}},
		{name: "4 after a refusal as the login came", exit: 4, server: []devserver.TokenEvent{refused(20 * sec)}, ok: true},
		{name: "4 after a refusal as the op ended", exit: 4, server: []devserver.TokenEvent{refused(opEnd)}, ok: true},
		{name: "4 before a refusal after the op", exit: 4, server: []devserver.TokenEvent{refused(opEnd + ns)}},
		{name: "4 in an op started as the login came", exit: 4, start: 20 * sec, server: []devserver.TokenEvent{refused(20*sec - ns)}},
		{name: "4 in an op started before the login", exit: 4, start: 20*sec - ns, server: []devserver.TokenEvent{refused(20*sec - ns)}, ok: true},
		{name: "4 with no login, after a refusal", exit: 4, logins: []time.Time{}, server: []devserver.TokenEvent{refused(2 * sec)}, ok: true},
		{name: "4 with the login after the op started", exit: 4, logins: []time.Time{at(26 * sec)}, server: []devserver.TokenEvent{refused(2 * sec)}, ok: true},
		{name: "4 after a lock holder killed", exit: 4, faults: []Fault{heldLock(instant(KillAtServer, 1, 22*sec))}, ok: true},
		{name: "4 after a lock holder killed by kill-client", exit: 4, faults: []Fault{heldLock(instant(KillClient, 1, 22*sec))}, ok: true},
		{name: "4 after a kill of no lock holder", exit: 4, faults: []Fault{instant(KillAtServer, 1, 22*sec)}},
		{name: "4 after an INT of a lock holder", exit: 4, faults: []Fault{heldLock(instant(IntAtServer, 1, 22*sec))}},
		{name: "4 after a lock holder killed before the login", exit: 4, faults: []Fault{heldLock(instant(KillAtServer, 1, 20*sec-ns))}},
		{name: "4 after Redis killed, ephemeral", exit: 4, ephemeral: true, faults: []Fault{fault(RedisKill, -1, 22*sec, 23*sec)}, ok: true},
		{name: "4 after Redis terminated, ephemeral", exit: 4, ephemeral: true, faults: []Fault{fault(RedisTerm, -1, 22*sec, 23*sec)}, ok: true},
		{name: "4 after Redis killed, persistent", exit: 4, faults: []Fault{fault(RedisKill, -1, 22*sec, 23*sec)}},
		{name: "4 after Redis terminated, persistent", exit: 4, faults: []Fault{fault(RedisTerm, -1, 22*sec, 23*sec)}},
		{name: "4 after Redis partitioned, ephemeral", exit: 4, ephemeral: true, faults: []Fault{fault(PartitionRedis, 0, 22*sec, 23*sec)}},
		{name: "4 after Redis killed before the login, ephemeral", exit: 4, ephemeral: true, faults: []Fault{fault(RedisKill, -1, 19*sec, 21*sec)}},

		// Linger is 2 s, Unsaved 5 s.
		{name: "5 with no fault", exit: 5},
		{name: "5 during a fault elsewhere", exit: 5, faults: []Fault{fault(Slow, 1, 26*sec, 27*sec)}, ok: true},
		{name: "5 during a fleet-wide fault", exit: 5, faults: []Fault{fault(RedisKill, -1, 26*sec, 27*sec)}, ok: true},
		{name: "5 as a fault started", exit: 5, faults: []Fault{fault(Slow, 0, opEnd, 40*sec)}, ok: true},
		{name: "5 before a fault started", exit: 5, faults: []Fault{fault(Slow, 0, opEnd+ns, 40*sec)}},
		{name: "5 as a fault's linger ended", exit: 5, faults: []Fault{fault(Slow, 0, 10*sec, opStart-2*sec)}, ok: true},
		{name: "5 after a fault's linger ended", exit: 5, faults: []Fault{fault(Slow, 0, 10*sec, opStart-2*sec-ns)}},
		{name: "5 as an instant fault's linger ended", exit: 5, faults: []Fault{instant(ServerError, -1, opStart-2*sec)}, ok: true},
		{name: "5 after an instant fault's linger ended", exit: 5, faults: []Fault{instant(ServerError, -1, opStart-2*sec-ns)}},
		{name: "5 as a held lock's unsaved time ended", exit: 5, faults: []Fault{heldLock(instant(KillAtServer, 1, opStart-7*sec))}, ok: true},
		{name: "5 after a held lock's unsaved time ended", exit: 5, faults: []Fault{heldLock(instant(KillAtServer, 1, opStart-7*sec-ns))}},
		{name: "5 after a kill's linger, no lock held", exit: 5, faults: []Fault{instant(KillAtServer, 1, opStart-7*sec)}},

		{name: "5 after a 503 at the server", exit: 5, server: []devserver.TokenEvent{showed(20*sec, 23*sec, devserver.Fault503)}, ok: true},
		{name: "5 after a 503 whose linger ended", exit: 5, server: []devserver.TokenEvent{showed(20*sec, 23*sec-ns, devserver.Fault503)}},
		{name: "5 before a 503", exit: 5, server: []devserver.TokenEvent{showed(opEnd, opEnd+sec, devserver.Fault503)}, ok: true},
		{name: "5 well before a 503", exit: 5, server: []devserver.TokenEvent{showed(opEnd+ns, opEnd+sec, devserver.Fault503)}},
		{name: "5 after a request with no fault", exit: 5, server: []devserver.TokenEvent{showed(26*sec, 27*sec, "")}},
		{name: "1 after a 503", exit: 1, server: []devserver.TokenEvent{showed(26*sec, 27*sec, devserver.Fault503)}},

		{name: "1 with the disk full", exit: 1, faults: []Fault{fault(DiskFull, 0, 26*sec, 27*sec)}, ok: true},
		{name: "1 with the disk read-only", exit: 1, faults: []Fault{fault(DiskReadOnly, 0, 20*sec, 26*sec)}, ok: true},
		{name: "1 with every disk full", exit: 1, faults: []Fault{fault(DiskFull, -1, 26*sec, 27*sec)}, ok: true},
		{name: "1 with another host's disk full", exit: 1, faults: []Fault{fault(DiskFull, 1, 26*sec, 27*sec)}},
		{name: "1 with another host's disk read-only", exit: 1, faults: []Fault{fault(DiskReadOnly, 1, 26*sec, 27*sec)}},
		{name: "1 with the disk full after the op", exit: 1, faults: []Fault{fault(DiskFull, 0, opEnd+ns, 40*sec)}},
		{name: "1 during another fault", exit: 1, faults: []Fault{fault(PartitionRedis, 0, 26*sec, 27*sec)}},
		{name: "1 with no fault", exit: 1},

		{name: "no answer, serve killed", exit: ExitNoAnswer, faults: []Fault{serve(instant(KillServe, 0, 26*sec))}, ok: true},
		{name: "no answer, serve stopped", exit: ExitNoAnswer, faults: []Fault{serve(fault(StopClient, 0, 20*sec, 26*sec))}, ok: true},
		{name: "no answer, serve killed as the op ended", exit: ExitNoAnswer, faults: []Fault{serve(instant(KillServe, 0, opEnd))}, ok: true},
		{name: "no answer, serve killed after the op", exit: ExitNoAnswer, faults: []Fault{serve(instant(KillServe, 0, opEnd+ns))}},
		{name: "no answer, serve killed, linger ending as the op started", exit: ExitNoAnswer, faults: []Fault{serve(instant(KillServe, 0, opStart-2*sec))}, ok: true},
		{name: "no answer, serve killed, linger ended before the op", exit: ExitNoAnswer, faults: []Fault{serve(instant(KillServe, 0, opStart-2*sec-ns))}},
		{name: "no answer, another host's serve killed", exit: ExitNoAnswer, faults: []Fault{serve(instant(KillServe, 1, 26*sec))}},
		{name: "no answer, a client killed", exit: ExitNoAnswer, faults: []Fault{instant(KillClient, 0, 26*sec)}},
		{name: "no answer, serve killed long before", exit: ExitNoAnswer, faults: []Fault{serve(instant(KillServe, 0, 10*sec))}},
		{name: "no answer, no fault", exit: ExitNoAnswer},

		{name: "2", exit: 2, faults: []Fault{fault(DiskFull, 0, 26*sec, 27*sec)}, signals: []string{"INT", "KILL"}},
		{name: "3", exit: 3, faults: []Fault{fault(DiskFull, 0, 26*sec, 27*sec)}, signals: []string{"INT", "KILL"}},
		{name: "126", exit: 126, faults: []Fault{fault(DiskFull, 0, 26*sec, 27*sec)}, signals: []string{"INT", "KILL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := tc.start
			if start == 0 {
				start = opStart
			}
			op := Op{ID: 1, Host: 0, Kind: OpToken, Start: at(start), End: at(opEnd), Exit: tc.exit, Signals: tc.signals, Said: "said"}
			h := History{HostOf: hostOf(), Server: tc.server, Faults: tc.faults, Ops: []Op{op}, Logins: logins,
				Ephemeral: tc.ephemeral, Linger: 2 * sec, Unsaved: 5 * sec}
			if tc.logins != nil {
				h.Logins = tc.logins
			}
			r := Check(h)
			var mine []Violation
			for _, v := range r.Violations {
				if strings.Contains(v.What, "exited") {
					mine = append(mine, v)
				}
			}
			switch {
			case tc.ok && len(mine) != 0:
				t.Errorf("violations:%s", whats(r))
			case !tc.ok && len(mine) != 1:
				t.Errorf("want one violation for exit %d, got:%s", tc.exit, whats(r))
			case !tc.ok && !mine[0].At.Equal(op.End):
				t.Errorf("violation at %s, want the op's end", clock(mine[0].At))
			}
			if r.Exits[tc.exit] != 1 || r.TokensChecked != 0 || r.InterruptedAfterFinishing != 0 {
				t.Errorf("exits %v, tokens checked %d, INT after finishing %d", r.Exits, r.TokensChecked, r.InterruptedAfterFinishing)
			}
		})
	}
}

// TestLogins: rule 4, a login again only after a loss since the one before.
func TestLogins(t *testing.T) {
	refused := func(sent time.Duration) devserver.TokenEvent { // a loss counts from the request's start
		return devserver.TokenEvent{Start: at(sent), End: at(sent + sec), From: addr, Grant: "refresh_token",
			Presented: "R1", Error: "invalid_grant", Answer: devserver.AnswerSent}
	}
	for _, tc := range []struct {
		name   string
		logins []time.Duration
		losses []time.Duration
		bad    []time.Duration // when the violations are
	}{
		{name: "one login", logins: []time.Duration{1 * sec}},
		{name: "again with no loss", logins: []time.Duration{1 * sec, 10 * sec}, bad: []time.Duration{10 * sec}},
		{name: "again after a loss", logins: []time.Duration{1 * sec, 10 * sec}, losses: []time.Duration{5 * sec}},
		{name: "again after a loss as the first came", logins: []time.Duration{1 * sec, 10 * sec}, losses: []time.Duration{1 * sec}},
		{name: "again with a loss just before the first", logins: []time.Duration{1 * sec, 10 * sec}, losses: []time.Duration{1*sec - ns}, bad: []time.Duration{10 * sec}},
		{name: "again with a loss as it came", logins: []time.Duration{1 * sec, 10 * sec}, losses: []time.Duration{10 * sec}},
		{name: "again with a loss just after", logins: []time.Duration{1 * sec, 10 * sec}, losses: []time.Duration{10*sec + ns}, bad: []time.Duration{10 * sec}},
		{name: "a third with no loss since the second", logins: []time.Duration{1 * sec, 10 * sec, 20 * sec}, losses: []time.Duration{5 * sec}, bad: []time.Duration{20 * sec}},
		{name: "a third after a loss since the second", logins: []time.Duration{1 * sec, 10 * sec, 20 * sec}, losses: []time.Duration{5 * sec, 15 * sec}},
		{name: "a loss before the last of several", logins: []time.Duration{1 * sec, 10 * sec, 20 * sec}, losses: []time.Duration{15 * sec, 30 * sec}, bad: []time.Duration{10 * sec}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := History{HostOf: hostOf()}
			for _, l := range tc.logins {
				h.Logins = append(h.Logins, at(l))
			}
			for _, l := range tc.losses {
				h.Server = append(h.Server, refused(l))
			}
			r := Check(h)
			if r.Logins != len(tc.logins) {
				t.Errorf("logins %d, want %d", r.Logins, len(tc.logins))
			}
			if r.Lost["refresh refused"] != len(tc.losses) {
				t.Errorf("lost %v", r.Lost)
			}
			var got []time.Duration
			for _, v := range r.Violations {
				got = append(got, v.At.Sub(t0))
			}
			if !slices.Equal(got, tc.bad) {
				t.Errorf("violations at %v, want %v:%s", got, tc.bad, whats(r))
			}
		})
	}
}

// TestFinal: rule 5, every host ends with a live token soon after the heal.
func TestFinal(t *testing.T) {
	const healed, bound = 100 * sec, 30 * sec
	final := func(host, exit int, end time.Duration) Op {
		return Op{ID: 100 + host, Host: host, Kind: OpToken, Start: at(end - sec), End: at(end), Exit: exit, Token: "A1"}
	}
	for _, tc := range []struct {
		name  string
		hosts int
		final []Op
		bad   []time.Duration
	}{
		{name: "every host live", hosts: 2, final: []Op{final(0, 0, 110*sec), final(1, 0, 120*sec)}},
		{name: "no hosts", hosts: 0},
		{name: "a host missing", hosts: 2, final: []Op{final(0, 0, 110*sec)}, bad: []time.Duration{healed}},
		{name: "a host out of the fleet", hosts: 2, final: []Op{final(0, 0, 110*sec), final(2, 0, 120*sec)}, bad: []time.Duration{healed}},
		{name: "a host ending unavailable", hosts: 2, final: []Op{final(0, 0, 110*sec), final(1, 0, 115*sec), final(1, 5, 120*sec)}, bad: []time.Duration{120 * sec}},
		{name: "a host ending live after a failure", hosts: 2, final: []Op{final(0, 0, 110*sec), final(1, 5, 115*sec), final(1, 0, 120*sec)}},
		{name: "live at the bound", hosts: 2, final: []Op{final(0, 0, healed+bound), final(1, 0, 120*sec)}},
		{name: "live just after the bound", hosts: 2, final: []Op{final(0, 0, healed+bound+ns), final(1, 0, 120*sec)}, bad: []time.Duration{healed + bound + ns}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := History{Hosts: tc.hosts, HostOf: hostOf(), Final: tc.final, Healed: at(healed), FinalBound: bound,
				Server: []devserver.TokenEvent{login(1*sec, 2*sec, "R1", "A1", "F1")},
				// A fault lasting through the final ops explains their exit 5.
				Faults: []Fault{{Kind: Slow, Host: -1, Op: -1, Start: at(healed), End: at(200 * sec)}}}
			r := Check(h)
			var got []time.Duration
			for _, v := range r.Violations {
				got = append(got, v.At.Sub(t0))
			}
			if !slices.Equal(got, tc.bad) {
				t.Errorf("violations at %v, want %v:%s", got, tc.bad, whats(r))
			}
			if n := len(tc.final); r.Ops[OpToken] != n {
				t.Errorf("ops %v, want %d final", r.Ops, n)
			}
		})
	}
}

// TestViolationsSorted: the violations come out in time order, whatever rule found them.
func TestViolationsSorted(t *testing.T) {
	h := History{Hosts: 1, HostOf: hostOf(), Healed: at(5 * sec), FinalBound: sec,
		Server: []devserver.TokenEvent{
			login(1*sec, 2*sec, "R1", "A1", "F1"),
			rotation(10*sec, 11*sec, addr, "R1", "R2", devserver.AnswerSent),
			replay(20*sec, 21*sec, adr1, "R1", false),
		},
		Ops:    []Op{{ID: 1, Host: 0, Kind: OpToken, Start: at(40 * sec), End: at(50 * sec), Exit: 2}, {ID: 2, Host: 0, Kind: OpAPI, Start: at(3 * sec), End: at(4 * sec), Exit: 3}},
		Logins: []time.Time{at(2 * sec), at(30 * sec)},
	}
	r := Check(h)
	var got []time.Duration
	for _, v := range r.Violations {
		got = append(got, v.At.Sub(t0))
	}
	// The api exit at 4 s, the missing final op at the heal at 5 s, the replay at 20 s, the
	// second login at 30 s, the token exit at 50 s.
	want := []time.Duration{4 * sec, 5 * sec, 20 * sec, 30 * sec, 50 * sec}
	if !slices.Equal(got, want) {
		t.Errorf("violations at %v, want %v:%s", got, want, whats(r))
	}
}

// TestCounts: the report's figures.
func TestCounts(t *testing.T) {
	h := History{Seed: 7, HostOf: hostOf(),
		Server: []devserver.TokenEvent{
			login(1*sec, 2*sec, "R1", "A1", "F1"),
			rotation(10*sec, 11*sec, addr, "R1", "R2", devserver.AnswerDropped),
			replay(20*sec, 21*sec, adr1, "R1", true),
			rotation(30*sec, 31*sec, addr, "R9", "R10", devserver.AnswerCut),
			{Start: at(40 * sec), End: at(41 * sec), From: addr, Grant: "refresh_token", Presented: "R10", Error: "invalid_grant"},
		},
		Faults: []Fault{
			{Kind: KillAtServer, Host: 0, Op: -1, Start: at(50 * sec), HeldLock: true},
			{Kind: KillAtServer, Host: 0, Op: -1, Start: at(51 * sec)},
			{Kind: RedisKill, Host: -1, Op: -1, Start: at(52 * sec), End: at(53 * sec)},
		},
		Ops: []Op{
			{ID: 1, Kind: OpToken, Start: at(2 * sec), End: at(3 * sec), Token: "A1"},
			{ID: 2, Kind: OpAPI, Start: at(2 * sec), End: at(3 * sec)},
			{ID: 3, Kind: OpAPI, Start: at(50 * sec), End: at(51 * sec), Exit: ExitKilled, Signals: []string{"KILL"}},
		},
		Final:  []Op{{ID: 4, Kind: OpServe, Start: at(2 * sec), End: at(3 * sec), Token: "A1"}},
		Logins: []time.Time{at(2 * sec)},
	}
	r := Check(h)
	if len(r.Violations) != 0 {
		t.Fatalf("violations:%s", whats(r))
	}
	if r.Seed != 7 || r.Rotations != 2 || r.Replays != 1 || r.ReplaysExcused != 1 || r.Revoked != 1 || r.Logins != 1 || r.TokensChecked != 2 {
		t.Errorf("seed %d, rotations %d, replays %d/%d, revoked %d, logins %d, tokens %d",
			r.Seed, r.Rotations, r.Replays, r.ReplaysExcused, r.Revoked, r.Logins, r.TokensChecked)
	}
	wantOps := map[string]int{OpToken: 1, OpAPI: 2, OpServe: 1}
	wantExits := map[int]int{0: 3, ExitKilled: 1}
	wantFaults := map[Kind]int{KillAtServer: 2, RedisKill: 1}
	wantRequests := map[string]int{"authorization_code": 1, "refresh_token": 4}
	wantLost := map[string]int{"answer dropped": 1, "answer cut": 1, "refresh refused": 2, "lock holder killed": 1}
	if !mapsEqual(r.Ops, wantOps) || !mapsEqual(r.Exits, wantExits) || !mapsEqual(r.Faults, wantFaults) ||
		!mapsEqual(r.Requests, wantRequests) || !mapsEqual(r.Lost, wantLost) {
		t.Errorf("ops %v exits %v faults %v requests %v lost %v", r.Ops, r.Exits, r.Faults, r.Requests, r.Lost)
	}
	h.Ephemeral = true
	if r := Check(h); r.Lost["Redis emptied by a restart"] != 1 {
		t.Errorf("ephemeral: lost %v", r.Lost)
	}
}

func mapsEqual[K comparable](a, b map[K]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestTable: the summary names the seed, the figures and the verdict.
func TestTable(t *testing.T) {
	r := Check(History{Seed: 1234, Hosts: 1, HostOf: hostOf(), Healed: at(5 * sec),
		Server: []devserver.TokenEvent{
			login(1*sec, 2*sec, "R1", "A1", "F1"),
			rotation(10*sec, 11*sec, addr, "R1", "R2", devserver.AnswerSent),
			replay(20*sec, 21*sec, adr1, "R1", false),
		},
		Ops:    []Op{{ID: 1, Kind: OpToken, End: at(3 * sec), Exit: ExitKilled, Signals: []string{"KILL"}}},
		Logins: []time.Time{at(2 * sec)},
	})
	row := func(name, value string) string { return fmt.Sprintf("  %-20s %s\n", name, value) }
	table := r.Table(90 * sec)
	for _, want := range []string{
		row("seed", "1234 (PLEOAUTH_CHAOS_SEED=1234 replays it), 1m30s"),
		row("operations", "token 1"),
		row("exits", "killed 1"),
		row("faults", "none"),
		row("token requests", "authorization_code 1, refresh_token 2"),
		row("rotations", "1"),
		row("replays", "1 (0 after an answer the nemesis destroyed)"),
		row("logins", "1 (1 + 0 after a lost login)"),
		row("violations", "2"), // the replay and the missing final op
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
