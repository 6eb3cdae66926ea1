package chaos

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
)

// Violation is one broken rule (1 to 5, as numbered on [Check]), at the moment it broke.
type Violation struct {
	Rule int
	At   time.Time
	What string
}

// String is the violation as the test prints it: "rule N: what".
func (v Violation) String() string { return fmt.Sprintf("rule %d: %s", v.Rule, v.What) }

// Report is the checker's verdict over a run, and the run's figures.
type Report struct {
	Seed uint64
	// Ops counts operations by kind, Exits by exit code (final ones included).
	Ops   map[string]int
	Exits map[int]int
	// Faults counts the faults carried out, by kind.
	Faults map[Kind]int
	// Requests counts token requests by grant type; Rotations the refresh tokens rotated.
	Requests  map[string]int
	Rotations int
	// Lost counts answers the nemesis destroyed, and logins it took, by cause.
	Lost map[string]int
	// Replays counts refresh tokens presented again after the server rotated them, each a
	// violation; ReplaysAfterLoss those whose first answer the nemesis had destroyed (still a
	// violation: the spend is recorded before the send, so nothing is ever sent twice).
	Replays, ReplaysAfterLoss int
	// Revoked counts families the server revoked.
	Revoked int
	// Logins counts logins, the first included.
	Logins int
	// TokensChecked counts the tokens handed out that the checker found live.
	TokensChecked int
	// InterruptedAfterFinishing counts operations sent SIGINT that had finished all the same.
	InterruptedAfterFinishing int
	Violations                []Violation
}

// tokenSlack is how long a process may take between choosing a token and exiting, on a machine
// busy with other tests: a token handed out must be live that long before the operation ended.
// A token handed out expired is expired by more (the run's clients ask for a second of life).
const tokenSlack = 2 * time.Second

// loss is a moment the nemesis destroyed a refresh's answer or the stored login.
type loss struct {
	at    time.Time
	cause string
}

// Check judges a run's history. The rules:
//
//  1. No refresh token is presented after the server rotated it — not even when the nemesis
//     destroyed that rotation's answer: the spend is recorded before the send, so a spent token
//     is never sent again (such replays are counted apart, and are violations all the same).
//  2. No family is revoked.
//  3. Every exit code is the documented one for what happened: 0 with a live token the server
//     issued; 4 only after an answer the nemesis destroyed (or a store it emptied) since the
//     login the operation started under; 5 only while a fault, or what it leaves behind,
//     lasts; 1 only for a host whose PLEOAUTH_HOME was full or read-only; 130 and death by a
//     signal only for a process sent one; nothing else.
//  4. A login after the first follows a lost answer since the one before.
//  5. After the heal, every host ends with a live token.
func Check(h History) Report {
	r := Report{Seed: h.Seed, Ops: map[string]int{}, Exits: map[int]int{}, Faults: map[Kind]int{},
		Requests: map[string]int{}, Lost: map[string]int{}, Logins: len(h.Logins)}
	for _, f := range h.Faults {
		r.Faults[f.Kind]++
	}
	lostRotation := lostRotations(h)
	losses := checkServer(h, lostRotation, &r)
	for _, l := range losses {
		r.Lost[l.cause]++
	}
	for _, op := range append(slices.Clone(h.Ops), h.Final...) {
		r.Ops[op.Kind]++
		r.Exits[op.Exit]++
		checkExit(h, op, losses, &r)
	}
	checkLogins(h, losses, &r)
	checkFinal(h, &r)
	sort.SliceStable(r.Violations, func(i, j int) bool { return r.Violations[i].At.Before(r.Violations[j].At) })
	return r
}

// lostRotations names, for each rotation whose answer the nemesis destroyed, how: the server
// dropped or cut it; its client gave up after the HTTP timeout, or was SIGKILLed while the
// request was held (a client that closes its connection otherwise — a SIGINT — must see the
// refresh through, so its lost answer is no excuse); or it left for a host cut off, or a client
// SIGKILLed after sending, and was never used: its refresh token never presented, its access
// token never handed out.
func lostRotations(h History) map[int]string {
	lost := map[int]string{}
	for i, ev := range h.Server {
		if ev.Issued == "" {
			continue
		}
		host, known := h.HostOf[ev.From]
		switch ev.Answer {
		case devserver.AnswerDropped, devserver.AnswerCut:
			lost[i] = "answer " + ev.Answer + " by the server"
			continue
		case devserver.AnswerClientGone:
			if h.ClientTimeout > 0 && ev.End.Sub(ev.Start) >= h.ClientTimeout {
				lost[i] = "client timed out"
			}
			for _, f := range h.Faults {
				if known && isKill(f.Kind) && f.Host == host && !f.Start.Before(ev.Start) && !f.Start.After(ev.End) {
					lost[i] = "client killed at the server"
				}
			}
			continue
		}
		if !known || used(h, i) {
			continue
		}
		for _, f := range h.Faults {
			switch {
			case f.Host != host:
			case (f.Kind == PartitionServer || f.Kind == LinkDown) && overlaps(ev.Start, ev.End, f.Start, lastOf(f)):
				lost[i] = "host cut off from the server"
			case isKill(f.Kind) && f.Op >= 0 && killedWhileSending(h, f, ev):
				lost[i] = "client killed"
			}
		}
	}
	return lost
}

// used reports whether rotation i's answer reached a client that kept it: its refresh token
// presented later, or its access token handed out.
func used(h History, i int) bool {
	ev := h.Server[i]
	for _, later := range h.Server[i+1:] {
		if later.Presented == ev.Issued {
			return true
		}
	}
	for _, op := range append(slices.Clone(h.Ops), h.Final...) {
		if op.Token != "" && op.Token == ev.Access {
			return true
		}
	}
	return false
}

func isKill(k Kind) bool { return k == KillClient || k == KillAtServer || k == KillServe }

// killedWhileSending: the process f killed died of it, and was running when the request left
// (after it started, before the signal).
func killedWhileSending(h History, f Fault, ev devserver.TokenEvent) bool {
	op, ok := opByID(h, f.Op)
	return ok && op.Exit == ExitKilled && !ev.Start.Before(op.Start) && !ev.Start.After(f.Start)
}

func opByID(h History, id int) (Op, bool) {
	for _, op := range h.Ops {
		if op.ID == id {
			return op, true
		}
	}
	return Op{}, false
}

// checkServer applies rules 1 and 2 and returns every loss, in time order.
func checkServer(h History, lostRotation map[int]string, r *Report) []loss {
	rotatedBy := map[string]int{}
	for i, ev := range h.Server {
		r.Requests[ev.Grant]++
		if ev.Grant == "refresh_token" && ev.Issued != "" {
			r.Rotations++
			if _, twice := rotatedBy[ev.Presented]; !twice {
				rotatedBy[ev.Presented] = i // the first rotation: any presentation after it replays
			}
		}
	}
	var losses []loss
	for i, ev := range h.Server {
		// Only a presentation after the rotation replays it: before, the same token may have
		// been tried and not carried out (a 503), then retried.
		if j, ok := rotatedBy[ev.Presented]; ok && ev.Presented != "" && j < i {
			r.Replays++
			if lostRotation[j] != "" {
				r.ReplaysAfterLoss++
			}
			r.violate(1, ev.Start, "refresh token %s presented again by %s (host %s) after the server rotated it at %s for %s (answer %s%s)",
				ev.Presented, ev.From, hostName(h, ev.From), clock(h.Server[j].End), h.Server[j].From, h.Server[j].Answer, lossNote(lostRotation[j]))
		}
		if ev.Revoked {
			r.Revoked++
			r.violate(2, ev.Start, "family %s revoked by the request of %s (host %s)", ev.Family, ev.From, hostName(h, ev.From))
		}
		// A refresh token is spent when it is sent: a client that gives up waiting (its
		// timeout) reports the loss before the server, still holding the request, rotates.
		if cause := lostRotation[i]; cause != "" {
			losses = append(losses, loss{ev.Start, cause})
		}
	}
	for _, f := range h.Faults {
		switch {
		case isKill(f.Kind) && f.HeldLock:
			losses = append(losses, loss{f.Start, "lock holder killed"})
		case (f.Kind == RedisKill || f.Kind == RedisTerm) && h.Ephemeral:
			losses = append(losses, loss{f.Start, "Redis emptied by a restart"})
		}
	}
	sort.SliceStable(losses, func(i, j int) bool { return losses[i].at.Before(losses[j].at) })
	return losses
}

// checkExit applies rule 3 to one operation.
func checkExit(h History, op Op, losses []loss, r *Report) {
	got := func(sig string) bool { return slices.Contains(op.Signals, sig) }
	switch op.Exit {
	case 0:
		if got("INT") {
			r.InterruptedAfterFinishing++
		}
		if op.Kind != OpAPI {
			checkToken(h, op, r)
		}
		return
	case 130:
		if got("INT") {
			return
		}
	case ExitKilled:
		if got("KILL") {
			return
		}
	case 4:
		since := epochStart(h, op.Start)
		for _, l := range losses {
			if !l.at.Before(since) && !l.at.After(op.End) {
				return
			}
		}
	case 5:
		if faulted(h, op, -1, nil) {
			return
		}
	case 1:
		if faulted(h, op, op.Host, []Kind{DiskFull, DiskReadOnly}) {
			return
		}
	case ExitNoAnswer:
		for _, f := range h.Faults {
			if f.Serve && f.Host == op.Host && overlaps(op.Start, op.End, f.Start, lastOf(f).Add(h.Linger)) {
				return
			}
		}
	}
	r.violate(3, op.End, "%s on host %d (op %d, %s to %s) exited %d, which nothing the nemesis did explains: %s",
		op.Kind, op.Host, op.ID, clock(op.Start), clock(op.End), op.Exit, op.Said)
}

// faulted reports whether a fault of one of kinds (any but the disk faults, when nil) on host
// (any, when -1) or the whole fleet lasted, or left its effects, while op ran. A fault's effects
// outlast it by Linger (a lock its victim held, a save retried); a cut-off host's by LockWait
// more (a request in flight resumes only with TCP's retransmissions); a killed holder's by
// Unsaved more (the others wait that long for its answer before they call the login lost).
// With kinds nil, a fault the token endpoint showed counts from the request it hit: a queued
// 503 strikes whenever the next refresh comes.
func faulted(h History, op Op, host int, kinds []Kind) bool {
	for _, ev := range h.Server {
		if kinds == nil && ev.Fault != "" && overlaps(op.Start, op.End, ev.Start, ev.End.Add(h.Linger)) {
			return true
		}
	}
	for _, f := range h.Faults {
		if kinds == nil && (f.Kind == DiskFull || f.Kind == DiskReadOnly) {
			continue
		}
		if kinds != nil && !slices.Contains(kinds, f.Kind) {
			continue
		}
		if host >= 0 && f.Host != host && f.Host != -1 {
			continue
		}
		linger := h.Linger
		switch {
		case f.HeldLock:
			linger += h.Unsaved
		case f.Kind == PartitionRedis || f.Kind == PartitionServer || f.Kind == LinkDown:
			linger += h.LockWait
		}
		if overlaps(op.Start, op.End, f.Start, lastOf(f).Add(linger)) {
			return true
		}
	}
	return false
}

// checkToken: a token handed out was issued by the server, not yet expired when the operation
// ended (less the time it was stopped), and neither revoked nor replaced by a rotation before
// the operation began.
func checkToken(h History, op Op, r *Report) {
	for _, ev := range h.Server {
		if ev.Access == "" || ev.Access != op.Token {
			continue
		}
		if ev.AccessExpires.Before(op.Start.Add(h.MinTTL)) {
			r.violate(3, op.End, "%s on host %d (op %d) handed out a token that expired at %s, less than the %s asked for after it began at %s",
				op.Kind, op.Host, op.ID, clock(ev.AccessExpires), h.MinTTL, clock(op.Start))
			return
		}
		if !ev.AccessExpires.After(op.End.Add(-op.Stopped - tokenSlack)) {
			r.violate(3, op.End, "%s on host %d (op %d) handed out a token that expired at %s, before it ended at %s",
				op.Kind, op.Host, op.ID, clock(ev.AccessExpires), clock(op.End))
			return
		}
		for _, later := range h.Server {
			if later.Family != ev.Family || !later.End.Before(op.Start) {
				continue
			}
			if later.Revoked {
				r.violate(3, op.End, "%s on host %d (op %d) handed out a token of family %s, revoked at %s",
					op.Kind, op.Host, op.ID, ev.Family, clock(later.End))
				return
			}
			// Pleo invalidates every earlier token with a rotation: an operation that began
			// after one must not hand out a token from before it.
			if later.Grant == "refresh_token" && later.Issued != "" && later.Start.After(ev.Start) {
				r.violate(3, op.End, "%s on host %d (op %d) handed out a token of family %s that its rotation at %s had invalidated before the op began",
					op.Kind, op.Host, op.ID, ev.Family, clock(later.End))
				return
			}
		}
		r.TokensChecked++
		return
	}
	r.violate(3, op.End, "%s on host %d (op %d) exited 0 with a token the server never issued (%q)", op.Kind, op.Host, op.ID, op.Token)
}

// checkLogins applies rule 4.
func checkLogins(h History, losses []loss, r *Report) {
	for i := 1; i < len(h.Logins); i++ {
		explained := false
		for _, l := range losses {
			if !l.at.Before(h.Logins[i-1]) && !l.at.After(h.Logins[i]) {
				explained = true
			}
		}
		if !explained {
			r.violate(4, h.Logins[i], "a login again at %s, though no answer was lost since the one at %s", clock(h.Logins[i]), clock(h.Logins[i-1]))
		}
	}
}

// checkFinal applies rule 5: each host's last operation after the heal handed out a live token.
func checkFinal(h History, r *Report) {
	last := map[int]Op{}
	for _, op := range h.Final {
		last[op.Host] = op
	}
	for host := range h.Hosts {
		op, ok := last[host]
		switch {
		case !ok:
			r.violate(5, h.Healed, "host %d ran nothing after the heal", host)
		case op.Exit != 0:
			r.violate(5, op.End, "host %d has no live token %s after the heal: exit %d: %s", host, op.End.Sub(h.Healed).Round(time.Second), op.Exit, op.Said)
		case op.End.Sub(h.Healed) > h.FinalBound:
			r.violate(5, op.End, "host %d took %s after the heal to get a live token; the bound is %s", host, op.End.Sub(h.Healed).Round(time.Second), h.FinalBound)
		}
	}
}

// epochStart is when the login an operation started under was made.
func epochStart(h History, t time.Time) time.Time {
	var since time.Time
	for _, l := range h.Logins {
		if !l.After(t) {
			since = l
		}
	}
	return since
}

// lastOf is when a fault ended; a signal ends when it is sent.
func lastOf(f Fault) time.Time {
	if f.End.Before(f.Start) {
		return f.Start
	}
	return f.End
}

func overlaps(aStart, aEnd, bStart, bEnd time.Time) bool {
	if bEnd.Before(bStart) {
		bEnd = bStart
	}
	return !aEnd.Before(bStart) && !bEnd.Before(aStart)
}

func hostName(h History, addr string) string {
	if host, ok := h.HostOf[addr]; ok {
		return fmt.Sprint(host)
	}
	return "?"
}

func clock(t time.Time) string { return t.Format("15:04:05.000") }

func (r *Report) violate(rule int, at time.Time, format string, args ...any) {
	r.Violations = append(r.Violations, Violation{Rule: rule, At: at, What: fmt.Sprintf(format, args...)})
}

func lossNote(cause string) string {
	if cause == "" {
		return ""
	}
	return ", " + cause
}
