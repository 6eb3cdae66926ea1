package chaos

import (
	"math/rand/v2"
	"time"
)

// Kind is a kind of fault the nemesis injects.
type Kind string

// The nemesis's faults. "At the server" means the nemesis first makes the token endpoint hold
// the next request (the devserver's delay fault) and strikes once a request is there, so the
// signal lands while a refresh is on the wire.
const (
	KillClient      Kind = "kill-client"      // SIGKILL a running client, half the time the lock's holder
	KillAtServer    Kind = "kill-at-server"   // SIGKILL the lock holder while its refresh is at the server
	StopClient      Kind = "stop-client"      // SIGSTOP a running client (or the holder), SIGCONT after For
	StopAtServer    Kind = "stop-at-server"   // SIGSTOP the holder at the server, often past its lock's life
	IntClient       Kind = "int-client"       // SIGINT a running client (or the holder)
	IntAtServer     Kind = "int-at-server"    // SIGINT the holder at the server
	KillServe       Kind = "kill-serve"       // SIGKILL the host's serve; it is started again
	RedisKill       Kind = "redis-kill"       // kill -9 redis-server, start it after For
	RedisTerm       Kind = "redis-term"       // SIGTERM redis-server, start it after For
	PartitionRedis  Kind = "partition-redis"  // the host's packets to Redis dropped (iptables) for For
	PartitionServer Kind = "partition-server" // the host's packets to the token endpoint dropped for For
	LinkDown        Kind = "link-down"        // the host's link down (ip link) for For
	RotateThenDrop  Kind = "rotate-then-drop" // the token endpoint rotates, then drops the answer
	ServerError     Kind = "server-5xx"       // the token endpoint answers 500, 502 or 503
	Slow            Kind = "slow"             // the token endpoint holds its answers For
	PastTimeout     Kind = "past-timeout"     // the token endpoint holds an answer past the client's 30 s timeout
	DiskFull        Kind = "disk-full"        // the host's PLEOAUTH_HOME (a small tmpfs) filled for For
	DiskReadOnly    Kind = "disk-read-only"   // the host's PLEOAUTH_HOME remounted read-only for For
)

// Kinds lists every fault, in the order the report shows them.
func Kinds() []Kind {
	return []Kind{KillClient, KillAtServer, StopClient, StopAtServer, IntClient, IntAtServer, KillServe,
		RedisKill, RedisTerm, PartitionRedis, PartitionServer, LinkDown, RotateThenDrop, ServerError, Slow,
		PastTimeout, DiskFull, DiskReadOnly}
}

// Every QuietEvery-th gap between two faults lasts QuietGap: longer than what a fault leaves
// behind (a lock's life and a little), so that an exit 5 there is one the checker can judge.
const (
	QuietEvery = 4
	QuietGap   = 8 * time.Second
)

// Action is one step of the nemesis's plan.
type Action struct {
	// At is when it starts, from the run's start.
	At   time.Duration
	Kind Kind
	// Host is the host it hits (ignored by the fleet-wide kinds).
	Host int
	// For is how long the fault lasts; zero for a signal.
	For time.Duration
}

// weights say how often each kind is drawn: the faults that strike a refresh on the wire most,
// as they are where a login is lost.
var weights = map[Kind]int{
	KillClient: 3, KillAtServer: 4, StopClient: 2, StopAtServer: 4, IntClient: 2, IntAtServer: 3, KillServe: 1,
	RedisKill: 2, RedisTerm: 1, PartitionRedis: 2, PartitionServer: 2, LinkDown: 1,
	RotateThenDrop: 2, ServerError: 2, Slow: 2, DiskFull: 1, DiskReadOnly: 1,
}

// Opening are the first faults of every plan, on hosts drawn from the seed: the three that
// strike a refresh on the wire, where a spent refresh token is most easily sent twice — so that
// even a short run puts the spend record, the journal and the lock to the test.
var Opening = []Kind{StopAtServer, KillAtServer, RotateThenDrop}

// Plan draws the nemesis's actions for a run of d over hosts from seed: the same seed gives the
// same plan, so a failure replays. It opens with [Opening], then draws. One action starts
// every 0.6–2 s, each fault healed before the next starts; every [QuietEvery]th gap is a quiet
// [QuietGap], longer than a fault's aftermath, so the checker also sees the fleet without
// faults. The last 3 s are quiet. pastTimeout adds the delay past pleoauth's 30 s HTTP timeout,
// which only a long run has room for.
func Plan(seed uint64, d time.Duration, hosts int, pastTimeout bool) []Action {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	kinds := Kinds()
	total := 0
	for _, k := range kinds {
		total += weights[k]
	}
	if pastTimeout {
		total++
	}
	var plan []Action
	at := time.Second
	for n := 1; ; n++ {
		a := Action{At: at, Host: rng.IntN(max(hosts, 1))}
		pick := rng.IntN(total)
		for _, k := range kinds {
			if pick < weights[k] {
				a.Kind = k
				break
			}
			pick -= weights[k]
		}
		if a.Kind == "" {
			a.Kind = PastTimeout
		}
		if n <= len(Opening) {
			a.Kind = Opening[n-1]
		}
		a.For = duration(rng, a.Kind)
		if at+a.For > d-3*time.Second {
			break
		}
		plan = append(plan, a)
		gap := 600*time.Millisecond + time.Duration(rng.Int64N(int64(1400*time.Millisecond)))
		if n%QuietEvery == 0 {
			gap = QuietGap
		}
		at += a.For + gap
	}
	return plan
}

// duration draws how long a fault of kind k lasts.
func duration(rng *rand.Rand, k Kind) time.Duration {
	between := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo))) }
	switch k {
	case KillClient, KillAtServer, IntClient, IntAtServer, KillServe, RotateThenDrop, ServerError:
		return 0
	case StopClient:
		return between(500*time.Millisecond, 3*time.Second)
	case StopAtServer:
		// Around the lock's 3 s life: a holder resumes before it expired, or after another
		// host took it.
		return between(time.Second, 6*time.Second)
	case RedisKill, RedisTerm:
		return between(300*time.Millisecond, 3*time.Second)
	case Slow:
		return between(time.Second, 4*time.Second)
	case PastTimeout:
		return 31 * time.Second
	default: // partitions and disks
		return between(time.Second, 5*time.Second)
	}
}
