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
		fmt.Fprintf(&b, "\n\t%s: %s", clock(v.At), v)
	}
	return b.String()
}

// ofRule is the violations of one rule.
func ofRule(r Report, rule int) []Violation {
	var vs []Violation
	for _, v := range r.Violations {
		if v.Rule == rule {
			vs = append(vs, v)
		}
	}
	return vs
}

// TestViolationString: a violation prints as "rule N: what".
func TestViolationString(t *testing.T) {
	for _, tc := range []struct {
		v    Violation
		want string
	}{
		{Violation{Rule: 1, At: t0, What: "refresh token R1 presented again"}, "rule 1: refresh token R1 presented again"},
		{Violation{Rule: 5, What: "host 0 ran nothing after the heal"}, "rule 5: host 0 ran nothing after the heal"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}

// TestReplays: rule 1, a refresh token presented again after a rotation — a violation whatever
// became of the rotation's answer — and which rotations' answers the nemesis destroyed (a loss,
// and a replay after it counted apart).
func TestReplays(t *testing.T) {
	// The rotation under test: host 0 presents R1 at 10 s, the server rotates it to R2 (access
	// A-R2) and answers at 11 s; R1 comes again from host 1 at 20 s.
	const reqStart, reqEnd = 10 * sec, 11 * sec
	const mid = 10500 * time.Millisecond
	killedOp := func(id int, host int, start time.Duration) Op {
		return Op{ID: id, Host: host, Kind: OpToken, Start: at(start), End: at(reqEnd), Exit: ExitKilled, Signals: []string{"KILL"}}
	}
	interruptedOp := func(id int, host int, start time.Duration) Op {
		return Op{ID: id, Host: host, Kind: OpToken, Start: at(start), End: at(reqEnd), Exit: 130, Signals: []string{"INT"}}
	}
	handedOut := func(token string) Op { // a later op that handed out token
		return Op{ID: 7, Host: 1, Kind: OpToken, Start: at(12 * sec), End: at(13 * sec), Token: token}
	}
	kill := func(k Kind, host, op int, when time.Duration) Fault {
		return Fault{Kind: k, Host: host, Op: op, Start: at(when), End: at(when)}
	}
	cut := func(k Kind, host int, start, end time.Duration) Fault {
		return Fault{Kind: k, Host: host, Op: -1, Start: at(start), End: at(end)}
	}
	presents := func(start time.Duration, token string) devserver.TokenEvent { // a 503, rotating nothing
		return devserver.TokenEvent{Start: at(start), End: at(start + 100*time.Millisecond), From: adr1, Grant: "refresh_token",
			Presented: token, Family: "F1", Fault: devserver.Fault503, Answer: devserver.AnswerSent}
	}
	partition := []Fault{cut(PartitionServer, 0, mid, 15*sec)}
	const (
		dropped  = "answer dropped by the server"
		cutShort = "answer cut by the server"
		timedOut = "client timed out"
		atServer = "client killed at the server"
		cutOff   = "host cut off from the server"
		killed   = "client killed"
	)
	for _, tc := range []struct {
		name      string
		from      string        // who sent the rotation, when not host 0
		answer    string        // what became of its answer
		held      time.Duration // how long the server held it, when not 1 s
		timeout   time.Duration // History.ClientTimeout
		faults    []Fault
		ops       []Op
		final     []Op
		pre, post []devserver.TokenEvent // events before the rotation, and between it and the replay
		lost      string                 // the loss the rotation was, "" for none
	}{
		{name: "answer sent", answer: devserver.AnswerSent},
		{name: "answer dropped", answer: devserver.AnswerDropped, lost: dropped},
		{name: "answer cut", answer: devserver.AnswerCut, lost: cutShort},
		{name: "answer dropped, though used", answer: devserver.AnswerDropped, ops: []Op{handedOut("A-R2")}, lost: dropped},
		{name: "answer dropped from a host nobody knows", from: adrX, answer: devserver.AnswerDropped, lost: dropped},

		// The client closed its connection: a loss only after its timeout, or a kill.
		{name: "client gone, no timeout", answer: devserver.AnswerClientGone},
		{name: "client gone, held no time, no timeout", answer: devserver.AnswerClientGone, held: -1},
		{name: "client gone, held the timeout", answer: devserver.AnswerClientGone, timeout: sec, lost: timedOut},
		{name: "client gone, held past the timeout", answer: devserver.AnswerClientGone, timeout: sec - ns, lost: timedOut},
		{name: "client gone, held just under the timeout", answer: devserver.AnswerClientGone, timeout: sec + ns},
		{name: "client gone, timed out from a host nobody knows", from: adrX, answer: devserver.AnswerClientGone, timeout: sec, lost: timedOut},
		{name: "client gone, timed out though used", answer: devserver.AnswerClientGone, timeout: sec, ops: []Op{handedOut("A-R2")}, lost: timedOut},
		{name: "client gone, killed at the server", answer: devserver.AnswerClientGone,
			faults: []Fault{kill(KillAtServer, 0, 3, mid)}, lost: atServer},
		{name: "client gone, killed by kill-client", answer: devserver.AnswerClientGone,
			faults: []Fault{kill(KillClient, 0, -1, mid)}, lost: atServer},
		{name: "client gone, serve killed", answer: devserver.AnswerClientGone,
			faults: []Fault{kill(KillServe, 0, -1, mid)}, lost: atServer},
		{name: "client gone, killed as the request came", answer: devserver.AnswerClientGone,
			faults: []Fault{kill(KillAtServer, 0, 3, reqStart)}, lost: atServer},
		{name: "client gone, killed as the answer was due", answer: devserver.AnswerClientGone,
			faults: []Fault{kill(KillAtServer, 0, 3, reqEnd)}, lost: atServer},
		{name: "client gone, killed just before the request came", answer: devserver.AnswerClientGone,
			faults: []Fault{kill(KillAtServer, 0, 3, reqStart-ns)}},
		{name: "client gone, killed just after the answer was due", answer: devserver.AnswerClientGone,
			faults: []Fault{kill(KillAtServer, 0, 3, reqEnd+ns)}},
		{name: "client gone, a kill on another host", answer: devserver.AnswerClientGone,
			faults: []Fault{kill(KillAtServer, 1, 3, mid)}},
		{name: "client gone from a host nobody knows, a kill on host 0", from: adrX, answer: devserver.AnswerClientGone,
			faults: []Fault{kill(KillAtServer, 0, 3, mid)}},
		{name: "client gone after an INT", answer: devserver.AnswerClientGone,
			faults: []Fault{kill(IntAtServer, 0, 3, mid)}, ops: []Op{interruptedOp(3, 0, 9*sec)}},
		{name: "client gone after a STOP", answer: devserver.AnswerClientGone,
			faults: []Fault{cut(StopAtServer, 0, mid, 15*sec)}},
		{name: "client gone, host cut off", answer: devserver.AnswerClientGone, faults: partition},

		// The answer left for a host cut off, and nobody used it.
		{name: "partition overlapping", answer: devserver.AnswerSent, faults: partition, lost: cutOff},
		{name: "partition starting as the answer left", answer: devserver.AnswerSent, lost: cutOff,
			faults: []Fault{cut(PartitionServer, 0, reqEnd, 15*sec)}},
		{name: "partition starting after the answer left", answer: devserver.AnswerSent,
			faults: []Fault{cut(PartitionServer, 0, reqEnd+ns, 15*sec)}},
		{name: "partition ending as the request came", answer: devserver.AnswerSent, lost: cutOff,
			faults: []Fault{cut(PartitionServer, 0, 5*sec, reqStart)}},
		{name: "partition ending before the request came", answer: devserver.AnswerSent,
			faults: []Fault{cut(PartitionServer, 0, 5*sec, reqStart-ns)}},
		{name: "partition of an instant inside", answer: devserver.AnswerSent, lost: cutOff,
			faults: []Fault{{Kind: PartitionServer, Host: 0, Op: -1, Start: at(mid)}}},
		{name: "link down overlapping", answer: devserver.AnswerSent, lost: cutOff,
			faults: []Fault{cut(LinkDown, 0, 9*sec, mid)}},
		{name: "partition of another host", answer: devserver.AnswerSent,
			faults: []Fault{cut(PartitionServer, 1, 9*sec, 15*sec)}},
		{name: "fleet-wide partition is no host's", answer: devserver.AnswerSent,
			faults: []Fault{cut(PartitionServer, -1, 9*sec, 15*sec)}},
		{name: "partition from redis does not cut the answer", answer: devserver.AnswerSent,
			faults: []Fault{cut(PartitionRedis, 0, 9*sec, 15*sec)}},
		{name: "a stop does not cut the answer", answer: devserver.AnswerSent,
			faults: []Fault{cut(StopClient, 0, 9*sec, 15*sec)}},
		{name: "partition of a host nobody knows", from: adrX, answer: devserver.AnswerSent,
			faults: []Fault{cut(PartitionServer, 0, 9*sec, 15*sec)}},
		{name: "partition of host 1, request from host 1", from: adr1, answer: devserver.AnswerSent, lost: cutOff,
			faults: []Fault{cut(PartitionServer, 1, 9*sec, 15*sec)}},

		// ... and used after all: not lost.
		{name: "cut off, refresh token presented later", answer: devserver.AnswerSent, faults: partition,
			post: []devserver.TokenEvent{presents(15*sec, "R2")}},
		{name: "cut off, refresh token presented only before", answer: devserver.AnswerSent, faults: partition, lost: cutOff,
			pre: []devserver.TokenEvent{presents(5*sec, "R2")}},
		{name: "cut off, another token presented later", answer: devserver.AnswerSent, faults: partition, lost: cutOff,
			post: []devserver.TokenEvent{presents(15*sec, "R7")}},
		{name: "cut off, access token handed out", answer: devserver.AnswerSent, faults: partition,
			ops: []Op{handedOut("A-R2")}},
		{name: "cut off, access token handed out after the heal", answer: devserver.AnswerSent, faults: partition,
			final: []Op{handedOut("A-R2")}},
		{name: "cut off, another token handed out", answer: devserver.AnswerSent, faults: partition, lost: cutOff,
			ops: []Op{{ID: 8, Host: 1, Kind: OpAPI, Start: at(12 * sec), End: at(13 * sec), Token: "A-R9"}}},

		// The answer left for a client SIGKILLed after sending, and nobody used it.
		{name: "client killed while sending", answer: devserver.AnswerSent, lost: killed,
			faults: []Fault{kill(KillClient, 0, 0, mid)}, ops: []Op{killedOp(0, 0, 9*sec)}},
		{name: "client killed at the server", answer: devserver.AnswerSent, lost: killed,
			faults: []Fault{kill(KillAtServer, 0, 3, mid)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "serve killed while sending", answer: devserver.AnswerSent, lost: killed,
			faults: []Fault{kill(KillServe, 0, 3, mid)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "killed as the request came", answer: devserver.AnswerSent, lost: killed,
			faults: []Fault{kill(KillClient, 0, 3, reqStart)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "killed after the answer left", answer: devserver.AnswerSent, lost: killed,
			faults: []Fault{kill(KillClient, 0, 3, 15*sec)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "killed before the request came", answer: devserver.AnswerSent,
			faults: []Fault{kill(KillClient, 0, 3, reqStart-ns)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "killed op started with the request", answer: devserver.AnswerSent, lost: killed,
			faults: []Fault{kill(KillClient, 0, 3, mid)}, ops: []Op{killedOp(3, 0, reqStart)}},
		{name: "killed op started after the request", answer: devserver.AnswerSent,
			faults: []Fault{kill(KillClient, 0, 3, mid)}, ops: []Op{killedOp(3, 0, reqStart+ns)}},
		{name: "killed, but the op exited on an INT", answer: devserver.AnswerSent,
			faults: []Fault{kill(KillClient, 0, 3, mid)}, ops: []Op{interruptedOp(3, 0, 9*sec)}},
		{name: "killed, but the access token handed out", answer: devserver.AnswerSent,
			faults: []Fault{kill(KillClient, 0, 3, mid)}, ops: []Op{killedOp(3, 0, 9*sec), handedOut("A-R2")}},
		{name: "killed, but the refresh token presented later", answer: devserver.AnswerSent,
			faults: []Fault{kill(KillClient, 0, 3, mid)}, ops: []Op{killedOp(3, 0, 9*sec)},
			post: []devserver.TokenEvent{presents(15*sec, "R2")}},
		{name: "kill on another host", answer: devserver.AnswerSent,
			faults: []Fault{kill(KillClient, 1, 3, mid)}, ops: []Op{killedOp(3, 1, 9*sec)}},
		{name: "kill of no op", answer: devserver.AnswerSent,
			faults: []Fault{kill(KillClient, 0, -1, mid)}, ops: []Op{killedOp(-1, 0, 9*sec)}},
		{name: "kill of an op never recorded", answer: devserver.AnswerSent,
			faults: []Fault{kill(KillClient, 0, 4, mid)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "kill of an op only among the final ones", answer: devserver.AnswerSent,
			faults: []Fault{kill(KillClient, 0, 3, mid)}, final: []Op{killedOp(3, 0, 9*sec)}},
		{name: "kill from a host nobody knows", from: adrX, answer: devserver.AnswerSent,
			faults: []Fault{kill(KillClient, 0, 3, mid)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "stop is no kill", answer: devserver.AnswerSent,
			faults: []Fault{kill(StopClient, 0, 3, mid)}, ops: []Op{killedOp(3, 0, 9*sec)}},
		{name: "int is no kill", answer: devserver.AnswerSent,
			faults: []Fault{kill(IntAtServer, 0, 3, mid)}, ops: []Op{killedOp(3, 0, 9*sec)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := tc.from
			if from == "" {
				from = addr
			}
			held := tc.held
			switch held {
			case 0:
				held = sec
			case -1:
				held = 0
			}
			server := []devserver.TokenEvent{login(1*sec, 2*sec, "R1", "A1", "F1")}
			server = append(server, tc.pre...)
			server = append(server, rotation(reqStart, reqStart+held, from, "R1", "R2", tc.answer))
			server = append(server, tc.post...)
			server = append(server, replay(20*sec, 21*sec, adr1, "R1", false))
			h := History{Hosts: 0, HostOf: hostOf(), Faults: tc.faults, Ops: tc.ops, Final: tc.final,
				Server: server, ClientTimeout: tc.timeout}
			r := Check(h)
			afterLoss := 0
			if tc.lost != "" {
				afterLoss = 1
			}
			if r.Replays != 1 || r.ReplaysAfterLoss != afterLoss {
				t.Errorf("replays %d, after a loss %d; want 1, %d", r.Replays, r.ReplaysAfterLoss, afterLoss)
			}
			if r.Rotations != 1 {
				t.Errorf("rotations %d, want 1", r.Rotations)
			}
			// The replay is a violation, lost answer or not; nothing else is.
			if len(r.Violations) != 1 || r.Violations[0].Rule != 1 || !r.Violations[0].At.Equal(at(20*sec)) ||
				!strings.Contains(r.Violations[0].What, "R1 presented again") {
				t.Errorf("want one rule-1 violation at 20 s, got:%s", whats(r))
			}
			if tc.lost == "" && len(r.Lost) != 0 || tc.lost != "" && (len(r.Lost) != 1 || r.Lost[tc.lost] != 1) {
				t.Errorf("lost %v, want %q", r.Lost, tc.lost)
			}
			if tc.lost != "" && len(r.Violations) == 1 && !strings.HasSuffix(r.Violations[0].What, ", "+tc.lost+")") {
				t.Errorf("violation %q does not name the loss %q", r.Violations[0].What, tc.lost)
			}
		})
	}
}

// TestReplayAfterLoss: only the replay of a lost rotation counts as one after a loss.
func TestReplayAfterLoss(t *testing.T) {
	r := Check(History{HostOf: hostOf(), Server: []devserver.TokenEvent{
		login(1*sec, 2*sec, "R1", "A1", "F1"),
		rotation(10*sec, 11*sec, addr, "R1", "R2", devserver.AnswerDropped),
		rotation(12*sec, 13*sec, addr, "R2", "R3", devserver.AnswerSent),
		replay(20*sec, 21*sec, adr1, "R1", false),
		replay(22*sec, 23*sec, adrX, "R2", false),
		replay(24*sec, 25*sec, adr1, "R2", true),
	}})
	if v := r.Violations; len(v) == 4 && (!strings.Contains(v[0].What, "by "+adr1+" (host 1) after the server rotated it at 00:00:11.000 for "+addr+" (answer dropped, answer dropped by the server)") ||
		!strings.Contains(v[1].What, "by "+adrX+" (host ?) after the server rotated it at 00:00:13.000 for "+addr+" (answer sent)")) {
		t.Errorf("violations name the wrong presenter, rotation or loss:%s", whats(r))
	}
	if r.Replays != 3 || r.ReplaysAfterLoss != 1 || r.Revoked != 1 || r.Rotations != 2 {
		t.Errorf("replays %d, after a loss %d, revoked %d, rotations %d; want 3, 1, 1, 2", r.Replays, r.ReplaysAfterLoss, r.Revoked, r.Rotations)
	}
	var got []string
	for _, v := range r.Violations {
		got = append(got, fmt.Sprint(v.Rule, " ", v.At.Sub(t0)))
	}
	if want := []string{"1 20s", "1 22s", "1 24s", "2 24s"}; !slices.Equal(got, want) {
		t.Errorf("violations %v, want %v:%s", got, want, whats(r))
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
		{name: "unavailable, then rotated with its answer dropped", server: []devserver.TokenEvent{
			login(1*sec, 2*sec, "R1", "A1", "F1"),
			unavailable(10*sec, "R1"),
			rotation(20*sec, 21*sec, addr, "R1", "R2", devserver.AnswerDropped),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(History{HostOf: hostOf(), Server: tc.server})
			if r.Replays != 0 || r.ReplaysAfterLoss != 0 || len(r.Violations) != 0 {
				t.Errorf("replays %d, after a loss %d, violations:%s", r.Replays, r.ReplaysAfterLoss, whats(r))
			}
		})
	}
}

// TestRevoked: rule 2, every revoked family a violation, whatever the replay that revoked it.
func TestRevoked(t *testing.T) {
	for _, tc := range []struct {
		name      string
		answer    string
		presented string
		revoked   bool
		replays   int
	}{
		{name: "after a sent answer", answer: devserver.AnswerSent, presented: "R1", revoked: true, replays: 1},
		{name: "after a dropped answer", answer: devserver.AnswerDropped, presented: "R1", revoked: true, replays: 1},
		{name: "of a token never rotated", answer: devserver.AnswerDropped, presented: "R7", revoked: true},
		{name: "not revoked", answer: devserver.AnswerDropped, presented: "R1", replays: 1},
		{name: "not revoked, no replay", answer: devserver.AnswerSent, presented: "R7"},
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
			rule2 := ofRule(r, 2)
			if len(rule2) != revoked {
				t.Errorf("%d revocation violations, want %d:%s", len(rule2), revoked, whats(r))
			}
			for _, v := range rule2 {
				if !v.At.Equal(at(20*sec)) || !strings.Contains(v.What, "family F1 revoked by the request of "+adr1+" (host 1)") {
					t.Errorf("revocation violation %q at %s, want F1's by host 1 at the request's start", v.What, clock(v.At))
				}
			}
			if n := len(ofRule(r, 1)); n != tc.replays || len(r.Violations) != revoked+tc.replays {
				t.Errorf("%d replay violations, want %d; all:%s", n, tc.replays, whats(r))
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

// TestExitZero: rule 3 for exit 0, a live token the server issued, with the life asked for.
func TestExitZero(t *testing.T) {
	op := func(kind string, start, end time.Duration, token string) Op {
		return Op{ID: 1, Host: 0, Kind: kind, Start: at(start), End: at(end), Token: token}
	}
	stopped := func(o Op, d time.Duration) Op { o.Stopped = d; return o }
	interrupted := func(o Op) Op { o.Signals = []string{"STOP", "INT"}; return o }
	const (
		unknown     = "never issued"
		short       = "less than the"
		expired     = "before it ended"
		revoked     = "revoked at"
		invalidated = "had invalidated"
	)
	for _, tc := range []struct {
		name              string
		op                Op
		minTTL            time.Duration
		says              string // what the one violation says, "" for none
		checked, finished int
	}{
		{name: "live token", op: op(OpToken, 7*sec, 9*sec, "B1"), checked: 1},
		{name: "exec with a live token", op: op(OpExec, 7*sec, 9*sec, "B1"), checked: 1},
		{name: "serve with a live token", op: op(OpServe, 7*sec, 9*sec, "B1"), checked: 1},
		{name: "unknown token", op: op(OpToken, 7*sec, 9*sec, "ZZ"), says: unknown},
		{name: "no token", op: op(OpToken, 7*sec, 9*sec, ""), says: unknown},
		{name: "api needs no token", op: op(OpAPI, 7*sec, 9*sec, "")},
		{name: "api with an unknown token", op: op(OpAPI, 7*sec, 9*sec, "ZZ")},

		// B1 expires at 1 h: it must have MinTTL left when the op began.
		{name: "MinTTL left as the op began", op: op(OpToken, 9*sec, 10*sec, "B1"), minTTL: time.Hour - 9*sec, checked: 1},
		{name: "a nanosecond under MinTTL left", op: op(OpToken, 9*sec, 10*sec, "B1"), minTTL: time.Hour - 9*sec + ns, says: short},
		{name: "MinTTL left, op begun later", op: op(OpToken, 9*sec+ns, 10*sec, "B1"), minTTL: time.Hour - 9*sec, says: short},
		{name: "exec under MinTTL", op: op(OpExec, 9*sec, 10*sec, "B1"), minTTL: time.Hour, says: short},
		{name: "api is not asked for MinTTL", op: op(OpAPI, 9*sec, 10*sec, "B1"), minTTL: 2 * time.Hour},
		// Too short is said before expired, or revoked.
		{name: "short and expired", op: op(OpToken, 2*sec, 62*sec, "A1"), minTTL: 58*sec + ns, says: short},
		{name: "MinTTL left, but expired", op: op(OpToken, 2*sec, 62*sec, "A1"), minTTL: 58 * sec, says: expired},
		{name: "short and revoked", op: op(OpToken, 6*sec+ns, 9*sec, "A-R2"), minTTL: 2 * time.Hour, says: short},

		// A1 expires at 60 s: it must be live tokenSlack (2 s) before the end, less the time stopped.
		{name: "expired 2 s before the end", op: op(OpToken, 2*sec, 62*sec, "A1"), says: expired},
		{name: "live until just under 2 s before the end", op: op(OpToken, 2*sec, 62*sec-ns, "A1"), checked: 1},
		{name: "stopped long enough", op: stopped(op(OpToken, 2*sec, 60*sec+tokenSlack, "A1"), ns), checked: 1},
		{name: "stopped a second", op: stopped(op(OpToken, 2*sec, 61*sec+tokenSlack, "A1"), sec), says: expired},
		{name: "stopped a second and a bit", op: stopped(op(OpToken, 2*sec, 61*sec+tokenSlack, "A1"), sec+ns), checked: 1},
		{name: "stopped, token live", op: stopped(op(OpToken, 2*sec, 50*sec, "A1"), 30*sec), checked: 1},

		// F1 was revoked at 6 s, and A1 replaced by the rotation that ended at 4 s.
		{name: "family revoked before the op", op: op(OpToken, 6*sec+ns, 9*sec, "A-R2"), says: revoked},
		{name: "family revoked as the op started", op: op(OpToken, 6*sec, 9*sec, "A-R2"), checked: 1},
		{name: "family revoked while the op ran", op: op(OpToken, 5*sec, 9*sec, "A-R2"), checked: 1},
		{name: "replaced by a rotation before the op", op: op(OpToken, 4*sec+ns, 9*sec, "A1"), says: invalidated},
		{name: "replaced by a rotation as the op started", op: op(OpToken, 4*sec, 9*sec, "A1"), checked: 1},
		{name: "replaced by a rotation while the op ran", op: op(OpToken, 3500*time.Millisecond, 9*sec, "A1"), checked: 1},
		{name: "another family revoked", op: op(OpToken, 9*sec, 10*sec, "B1"), checked: 1},

		{name: "INT after finishing", op: interrupted(op(OpToken, 7*sec, 9*sec, "B1")), checked: 1, finished: 1},
		{name: "INT after finishing an api call", op: interrupted(op(OpAPI, 7*sec, 9*sec, "")), finished: 1},
		{name: "INT after finishing with a bad token", op: interrupted(op(OpToken, 7*sec, 9*sec, "ZZ")), says: unknown, finished: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(History{HostOf: hostOf(), Server: exitServer(), Ops: []Op{tc.op}, MinTTL: tc.minTTL})
			// exitServer's replay of R1, which revoked F1, breaks rules 1 and 2 at 5 s.
			if n1, n2 := len(ofRule(r, 1)), len(ofRule(r, 2)); n1 != 1 || n2 != 1 || len(r.Violations) != 2+len(ofRule(r, 3)) {
				t.Errorf("rules 1 and 2 broken %d and %d times, want once each:%s", n1, n2, whats(r))
			}
			mine := ofRule(r, 3)
			switch {
			case tc.says == "" && len(mine) != 0:
				t.Errorf("violations:%s", whats(r))
			case tc.says != "" && len(mine) != 1:
				t.Errorf("want one rule-3 violation saying %q, got:%s", tc.says, whats(r))
			case tc.says != "" && (!strings.Contains(mine[0].What, tc.says) || !mine[0].At.Equal(tc.op.End)):
				t.Errorf("violation %q at %s, want %q at the op's end", mine[0].What, clock(mine[0].At), tc.says)
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
	// Linger is 2 s, LockWait 3 s, Unsaved 5 s, ClientTimeout 1 s.
	const opStart, opEnd = 25 * sec, 30 * sec
	logins := []time.Time{at(1 * sec), at(20 * sec)}
	refused := func(sent time.Duration) devserver.TokenEvent { // a refusal is no loss
		return devserver.TokenEvent{Start: at(sent), End: at(sent + sec), From: addr, Grant: "refresh_token",
			Presented: "R1", Error: "invalid_grant", Answer: devserver.AnswerSent}
	}
	lost := func(sent time.Duration, answer string) devserver.TokenEvent { // a loss counts from the request's start
		return rotation(sent, sent+sec, addr, "R1", "R2", answer)
	}
	dropped := func(sent time.Duration) devserver.TokenEvent { return lost(sent, devserver.AnswerDropped) }
	fault := func(k Kind, host int, start, end time.Duration) Fault {
		return Fault{Kind: k, Host: host, Op: -1, Start: at(start), End: at(end)}
	}
	heldLock := func(f Fault) Fault { f.HeldLock = true; return f }
	serve := func(f Fault) Fault { f.Serve = true; return f }
	showed := func(start, end time.Duration, f devserver.Fault) devserver.TokenEvent {
		ev := devserver.TokenEvent{Start: at(start), End: at(end), From: adr1, Grant: "refresh_token", Presented: "R1", Fault: f}
		if end < 0 { // still held
			ev.End = time.Time{}
		}
		return ev
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
		{name: "4 after a refusal", exit: 4, server: []devserver.TokenEvent{refused(22 * sec)}},
		{name: "4 after a dropped answer", exit: 4, server: []devserver.TokenEvent{dropped(22 * sec)}, ok: true},
		{name: "4 after a cut answer", exit: 4, server: []devserver.TokenEvent{lost(22*sec, devserver.AnswerCut)}, ok: true},
		{name: "4 after a sent answer", exit: 4, server: []devserver.TokenEvent{lost(22*sec, devserver.AnswerSent)}},
		{name: "4 after the client timed out", exit: 4, server: []devserver.TokenEvent{lost(22*sec, devserver.AnswerClientGone)}, ok: true},
		{name: "4 after the client gave up before its timeout", exit: 4,
			server: []devserver.TokenEvent{{Start: at(22 * sec), End: at(23*sec - ns), From: addr, Grant: "refresh_token",
				Presented: "R1", Issued: "R2", Access: "A-R2", Answer: devserver.AnswerClientGone}}},
		{name: "4 after a dropped answer that rotated nothing", exit: 4,
			server: []devserver.TokenEvent{{Start: at(22 * sec), End: at(23 * sec), From: addr, Grant: "refresh_token", Presented: "R1", Answer: devserver.AnswerDropped}}},
		{name: "4 after a dropped answer before the login", exit: 4, server: []devserver.TokenEvent{dropped(20*sec - ns)}},
		{name: "4 after a dropped answer as the login came", exit: 4, server: []devserver.TokenEvent{dropped(20 * sec)}, ok: true},
		{name: "4 after a dropped answer as the op ended", exit: 4, server: []devserver.TokenEvent{dropped(opEnd)}, ok: true},
		{name: "4 before a dropped answer after the op", exit: 4, server: []devserver.TokenEvent{dropped(opEnd + ns)}},
		{name: "4 in an op started as the login came", exit: 4, start: 20 * sec, server: []devserver.TokenEvent{dropped(20*sec - ns)}},
		{name: "4 in an op started before the login", exit: 4, start: 20*sec - ns, server: []devserver.TokenEvent{dropped(20*sec - ns)}, ok: true},
		{name: "4 with no login, after a dropped answer", exit: 4, logins: []time.Time{}, server: []devserver.TokenEvent{dropped(2 * sec)}, ok: true},
		{name: "4 with the login after the op started", exit: 4, logins: []time.Time{at(26 * sec)}, server: []devserver.TokenEvent{dropped(2 * sec)}, ok: true},
		{name: "4 after a lock holder killed", exit: 4, faults: []Fault{heldLock(instant(KillAtServer, 1, 22*sec))}, ok: true},
		{name: "4 after a lock holder killed by kill-client", exit: 4, faults: []Fault{heldLock(instant(KillClient, 1, 22*sec))}, ok: true},
		{name: "4 after a serve killed holding the lock", exit: 4, faults: []Fault{heldLock(instant(KillServe, 1, 22*sec))}, ok: true},
		{name: "4 after a kill of no lock holder", exit: 4, faults: []Fault{instant(KillAtServer, 1, 22*sec)}},
		{name: "4 after a serve killed holding no lock", exit: 4, faults: []Fault{instant(KillServe, 1, 22*sec)}},
		{name: "4 after an INT of a lock holder", exit: 4, faults: []Fault{heldLock(instant(IntAtServer, 1, 22*sec))}},
		{name: "4 after a STOP of a lock holder", exit: 4, faults: []Fault{heldLock(fault(StopAtServer, 1, 22*sec, 24*sec))}},
		{name: "4 after a lock holder killed before the login", exit: 4, faults: []Fault{heldLock(instant(KillAtServer, 1, 20*sec-ns))}},
		{name: "4 after a lock holder killed as the op ended", exit: 4, faults: []Fault{heldLock(instant(KillAtServer, 1, opEnd))}, ok: true},
		{name: "4 after Redis killed, ephemeral", exit: 4, ephemeral: true, faults: []Fault{fault(RedisKill, -1, 22*sec, 23*sec)}, ok: true},
		{name: "4 after Redis terminated, ephemeral", exit: 4, ephemeral: true, faults: []Fault{fault(RedisTerm, -1, 22*sec, 23*sec)}, ok: true},
		{name: "4 after Redis killed, persistent", exit: 4, faults: []Fault{fault(RedisKill, -1, 22*sec, 23*sec)}},
		{name: "4 after Redis terminated, persistent", exit: 4, faults: []Fault{fault(RedisTerm, -1, 22*sec, 23*sec)}},
		{name: "4 after Redis partitioned, ephemeral", exit: 4, ephemeral: true, faults: []Fault{fault(PartitionRedis, 0, 22*sec, 23*sec)}},
		{name: "4 after Redis killed before the login, ephemeral", exit: 4, ephemeral: true, faults: []Fault{fault(RedisKill, -1, 19*sec, 21*sec)}},

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
		{name: "5 as a serve's held lock's unsaved time ended", exit: 5, faults: []Fault{heldLock(instant(KillServe, 0, opStart-7*sec))}, ok: true},
		{name: "5 after a kill's linger, no lock held", exit: 5, faults: []Fault{instant(KillAtServer, 1, opStart-7*sec)}},
		{name: "5 as a kill's linger ended, no lock held", exit: 5, faults: []Fault{instant(KillAtServer, 1, opStart-2*sec)}, ok: true},
		{name: "5 after a kill's linger ended, no lock held", exit: 5, faults: []Fault{instant(KillAtServer, 1, opStart-2*sec-ns)}},
		// A cut-off host's effects last LockWait more.
		{name: "5 as a Redis partition's lock wait ended", exit: 5, faults: []Fault{fault(PartitionRedis, 0, 10*sec, opStart-5*sec)}, ok: true},
		{name: "5 after a Redis partition's lock wait ended", exit: 5, faults: []Fault{fault(PartitionRedis, 0, 10*sec, opStart-5*sec-ns)}},
		{name: "5 as a server partition's lock wait ended", exit: 5, faults: []Fault{fault(PartitionServer, 1, 10*sec, opStart-5*sec)}, ok: true},
		{name: "5 after a server partition's lock wait ended", exit: 5, faults: []Fault{fault(PartitionServer, 1, 10*sec, opStart-5*sec-ns)}},
		{name: "5 as a link's lock wait ended", exit: 5, faults: []Fault{fault(LinkDown, 0, 10*sec, opStart-5*sec)}, ok: true},
		{name: "5 after a link's lock wait ended", exit: 5, faults: []Fault{fault(LinkDown, 0, 10*sec, opStart-5*sec-ns)}},
		{name: "5 after a stop's linger ended: no lock wait", exit: 5, faults: []Fault{fault(StopAtServer, 0, 10*sec, opStart-2*sec-ns)}},
		{name: "5 as a stop's linger ended", exit: 5, faults: []Fault{fault(StopAtServer, 0, 10*sec, opStart-2*sec)}, ok: true},
		{name: "5 after Redis's linger ended: no lock wait", exit: 5, faults: []Fault{fault(RedisKill, -1, 10*sec, opStart-2*sec-ns)}},
		// A full or read-only disk is exit 1's excuse, not 5's.
		{name: "5 with the disk full", exit: 5, faults: []Fault{fault(DiskFull, 0, 20*sec, 40*sec)}},
		{name: "5 with the disk read-only", exit: 5, faults: []Fault{fault(DiskReadOnly, 0, 20*sec, 40*sec)}},
		{name: "5 with every disk full", exit: 5, faults: []Fault{fault(DiskFull, -1, 20*sec, 40*sec)}},

		// A fault the token endpoint showed counts from the request it hit to its end and Linger.
		{name: "5 after a 503 at the server", exit: 5, server: []devserver.TokenEvent{showed(20*sec, 23*sec, devserver.Fault503)}, ok: true},
		{name: "5 after a 503 whose linger ended", exit: 5, server: []devserver.TokenEvent{showed(20*sec, 23*sec-ns, devserver.Fault503)}},
		{name: "5 before a 503", exit: 5, server: []devserver.TokenEvent{showed(opEnd, opEnd+sec, devserver.Fault503)}, ok: true},
		{name: "5 well before a 503", exit: 5, server: []devserver.TokenEvent{showed(opEnd+ns, opEnd+sec, devserver.Fault503)}},
		{name: "5 after a request with no fault", exit: 5, server: []devserver.TokenEvent{showed(26*sec, 27*sec, "")}},
		// A faulted request the server still holds (no End) counts from its start.
		{name: "5 during a faulted request still held", exit: 5, server: []devserver.TokenEvent{showed(27*sec, -opEnd, devserver.Fault503)}, ok: true},
		{name: "5 before a faulted request still held", exit: 5, server: []devserver.TokenEvent{showed(opEnd+ns, -opEnd, devserver.Fault503)}},
		{name: "1 after a 503", exit: 1, server: []devserver.TokenEvent{showed(26*sec, 27*sec, devserver.Fault503)}},

		{name: "1 with the disk full", exit: 1, faults: []Fault{fault(DiskFull, 0, 26*sec, 27*sec)}, ok: true},
		{name: "1 with the disk read-only", exit: 1, faults: []Fault{fault(DiskReadOnly, 0, 20*sec, 26*sec)}, ok: true},
		{name: "1 with every disk full", exit: 1, faults: []Fault{fault(DiskFull, -1, 26*sec, 27*sec)}, ok: true},
		{name: "1 with another host's disk full", exit: 1, faults: []Fault{fault(DiskFull, 1, 26*sec, 27*sec)}},
		{name: "1 with another host's disk read-only", exit: 1, faults: []Fault{fault(DiskReadOnly, 1, 26*sec, 27*sec)}},
		{name: "1 with the disk full after the op", exit: 1, faults: []Fault{fault(DiskFull, 0, opEnd+ns, 40*sec)}},
		{name: "1 as the disk's linger ended", exit: 1, faults: []Fault{fault(DiskFull, 0, 10*sec, opStart-2*sec)}, ok: true},
		{name: "1 after the disk's linger ended", exit: 1, faults: []Fault{fault(DiskReadOnly, 0, 10*sec, opStart-2*sec-ns)}},
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
				Ephemeral: tc.ephemeral, Linger: 2 * sec, LockWait: 3 * sec, Unsaved: 5 * sec, ClientTimeout: sec}
			if tc.logins != nil {
				h.Logins = tc.logins
			}
			r := Check(h)
			mine := ofRule(r, 3)
			switch {
			case tc.ok && len(mine) != 0:
				t.Errorf("violations:%s", whats(r))
			case !tc.ok && len(mine) != 1:
				t.Errorf("want one violation for exit %d, got:%s", tc.exit, whats(r))
			case !tc.ok && (!mine[0].At.Equal(op.End) || !strings.Contains(mine[0].What, fmt.Sprintf("exited %d, which nothing", tc.exit))):
				t.Errorf("violation %q at %s, want one at the op's end", mine[0].What, clock(mine[0].At))
			}
			// The second login, with no loss after the first, may break rule 4; no other rule breaks.
			if len(r.Violations) != len(mine)+len(ofRule(r, 4)) {
				t.Errorf("violations of other rules:%s", whats(r))
			}
			if r.Exits[tc.exit] != 1 || r.TokensChecked != 0 || r.InterruptedAfterFinishing != 0 {
				t.Errorf("exits %v, tokens checked %d, INT after finishing %d", r.Exits, r.TokensChecked, r.InterruptedAfterFinishing)
			}
		})
	}
}

// TestLogins: rule 4, a login again only after a loss since the one before.
func TestLogins(t *testing.T) {
	// A loss counts from the request's start; each lost rotation spends its own token.
	dropped := func(n int, sent time.Duration) devserver.TokenEvent {
		return rotation(sent, sent+sec, addr, fmt.Sprint("R", n), fmt.Sprint("R", n, "b"), devserver.AnswerDropped)
	}
	refused := func(sent time.Duration) devserver.TokenEvent {
		return devserver.TokenEvent{Start: at(sent), End: at(sent + sec), From: addr, Grant: "refresh_token",
			Presented: "R1", Error: "invalid_grant", Answer: devserver.AnswerSent}
	}
	for _, tc := range []struct {
		name    string
		logins  []time.Duration
		losses  []time.Duration
		refused []time.Duration // refusals, which are no losses
		bad     []time.Duration // when the violations are
	}{
		{name: "one login", logins: []time.Duration{1 * sec}},
		{name: "again with no loss", logins: []time.Duration{1 * sec, 10 * sec}, bad: []time.Duration{10 * sec}},
		{name: "again after a refusal", logins: []time.Duration{1 * sec, 10 * sec}, refused: []time.Duration{5 * sec}, bad: []time.Duration{10 * sec}},
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
			for i, l := range tc.losses {
				h.Server = append(h.Server, dropped(i, l))
			}
			for _, l := range tc.refused {
				h.Server = append(h.Server, refused(l))
			}
			r := Check(h)
			if r.Logins != len(tc.logins) {
				t.Errorf("logins %d, want %d", r.Logins, len(tc.logins))
			}
			if r.Lost["answer dropped by the server"] != len(tc.losses) || sum(r.Lost) != len(tc.losses) {
				t.Errorf("lost %v", r.Lost)
			}
			var got []time.Duration
			for _, v := range r.Violations {
				got = append(got, v.At.Sub(t0))
				if v.Rule != 4 || !strings.Contains(v.What, "a login again at") {
					t.Errorf("violation %q, want rule 4", v)
				}
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
				if v.Rule != 5 {
					t.Errorf("violation %q, want rule 5", v)
				}
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
			replay(35*sec, 36*sec, adr1, "R7", true),
		},
		Ops:    []Op{{ID: 1, Host: 0, Kind: OpToken, Start: at(40 * sec), End: at(50 * sec), Exit: 2}, {ID: 2, Host: 0, Kind: OpAPI, Start: at(3 * sec), End: at(4 * sec), Exit: 3}},
		Logins: []time.Time{at(2 * sec), at(30 * sec)},
	}
	r := Check(h)
	var got []string
	for _, v := range r.Violations {
		got = append(got, fmt.Sprint(v.At.Sub(t0), " rule ", v.Rule))
	}
	// The api exit at 4 s, the missing final op at the heal at 5 s, the replay at 20 s, the
	// second login at 30 s, the revocation at 35 s, the token exit at 50 s.
	want := []string{"4s rule 3", "5s rule 5", "20s rule 1", "30s rule 4", "35s rule 2", "50s rule 3"}
	if !slices.Equal(got, want) {
		t.Errorf("violations %v, want %v:%s", got, want, whats(r))
	}
}

// TestCounts: the report's figures.
func TestCounts(t *testing.T) {
	h := History{Seed: 7, HostOf: hostOf(), ClientTimeout: 2 * sec,
		Server: []devserver.TokenEvent{
			login(1*sec, 2*sec, "R1", "A1", "F1"),
			rotation(10*sec, 11*sec, addr, "R1", "R2", devserver.AnswerDropped),
			replay(20*sec, 21*sec, adr1, "R1", true),
			rotation(30*sec, 31*sec, addr, "R9", "R10", devserver.AnswerCut),
			// A refusal is no loss.
			{Start: at(40 * sec), End: at(41 * sec), From: addr, Grant: "refresh_token", Presented: "R10", Error: "invalid_grant"},
			rotation(42*sec, 44*sec, adr1, "R20", "R21", devserver.AnswerClientGone),
			// Gone before the timeout, with no kill: no loss.
			rotation(45*sec, 46*sec, adr1, "R30", "R31", devserver.AnswerClientGone),
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
	var got []string
	for _, v := range r.Violations {
		got = append(got, fmt.Sprint(v.At.Sub(t0), " rule ", v.Rule))
	}
	// The replay of R1, whose rotation's answer was dropped, and the revocation it caused.
	if want := []string{"20s rule 1", "20s rule 2"}; !slices.Equal(got, want) {
		t.Fatalf("violations %v, want %v:%s", got, want, whats(r))
	}
	if r.Seed != 7 || r.Rotations != 4 || r.Replays != 1 || r.ReplaysAfterLoss != 1 || r.Revoked != 1 || r.Logins != 1 || r.TokensChecked != 2 {
		t.Errorf("seed %d, rotations %d, replays %d/%d, revoked %d, logins %d, tokens %d",
			r.Seed, r.Rotations, r.Replays, r.ReplaysAfterLoss, r.Revoked, r.Logins, r.TokensChecked)
	}
	wantOps := map[string]int{OpToken: 1, OpAPI: 2, OpServe: 1}
	wantExits := map[int]int{0: 3, ExitKilled: 1}
	wantFaults := map[Kind]int{KillAtServer: 2, RedisKill: 1}
	wantRequests := map[string]int{"authorization_code": 1, "refresh_token": 6}
	wantLost := map[string]int{"answer dropped by the server": 1, "answer cut by the server": 1, "client timed out": 1, "lock holder killed": 1}
	if !mapsEqual(r.Ops, wantOps) || !mapsEqual(r.Exits, wantExits) || !mapsEqual(r.Faults, wantFaults) ||
		!mapsEqual(r.Requests, wantRequests) || !mapsEqual(r.Lost, wantLost) {
		t.Errorf("ops %v exits %v faults %v requests %v lost %v", r.Ops, r.Exits, r.Faults, r.Requests, r.Lost)
	}
	h.Ephemeral = true
	wantLost["Redis emptied by a restart"] = 1
	if r := Check(h); !mapsEqual(r.Lost, wantLost) {
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
			rotation(10*sec, 11*sec, addr, "R1", "R2", devserver.AnswerDropped),
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
		row("lost by the nemesis", "answer dropped by the server 1"),
		row("replays", "1 (1 after an answer the nemesis destroyed)"),
		row("logins", "1 (1 + 0 after a lost login)"),
		row("violations", "2, rule 1 ×1, rule 5 ×1"), // the replay and the missing final op
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

// TestExitName: the table's names for the exit codes the workload makes up.
func TestExitName(t *testing.T) {
	for code, want := range map[int]string{ExitKilled: "killed", ExitNoAnswer: "serve-no-answer", 0: "0", 5: "5", 130: "130"} {
		if got := exitName(code); got != want {
			t.Errorf("exitName(%d) = %q, want %q", code, got, want)
		}
	}
}

// TestRotatedTwice: a token the server rotated twice was presented again after its first
// rotation, and so was one presented between the two.
func TestRotatedTwice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server []devserver.TokenEvent
		want   []time.Duration // when the rule-1 violations are
	}{
		{"rotated twice", []devserver.TokenEvent{login(1*sec, 2*sec, "R1", "A1", "F1"),
			rotation(10*sec, 11*sec, addr, "R1", "R2", devserver.AnswerSent),
			rotation(20*sec, 21*sec, adr1, "R1", "R3", devserver.AnswerSent)}, []time.Duration{20 * sec}},
		{"refused between two rotations", []devserver.TokenEvent{login(1*sec, 2*sec, "R1", "A1", "F1"),
			rotation(10*sec, 11*sec, addr, "R1", "R2", devserver.AnswerSent),
			replay(15*sec, 16*sec, adr1, "R1", false),
			rotation(20*sec, 21*sec, adr1, "R1", "R3", devserver.AnswerSent)}, []time.Duration{15 * sec, 20 * sec}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(History{Hosts: 2, HostOf: hostOf(), Server: tc.server})
			var got []time.Duration
			for _, v := range r.Violations {
				if v.Rule == 1 {
					got = append(got, v.At.Sub(at(0)))
				}
			}
			if !slices.Equal(got, tc.want) || r.Replays != len(tc.want) {
				t.Errorf("rule-1 violations at %v (%d replays); want at %v", got, r.Replays, tc.want)
			}
		})
	}
}
