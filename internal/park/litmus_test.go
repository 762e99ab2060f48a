package park

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ringsink/ringsink/internal/relstore"
)

// Litmus tests of the two store→load protocols (docs/design.md, "No lost
// wake-ups"): millions of rounds in which one goroutine runs the consumer's
// half and another the producer's half, each after a short random delay so
// that their steps overlap, and the round's outcome is checked against the
// one the protocol forbids. Without the race detector on amd64 these run the
// release-store assembly, the only build where the old protocols fail.

// releaseStores reports whether relstore.Store is a plain MOV here (amd64
// without -race): the build in which the old protocols can fail.
var releaseStores = runtime.GOARCH == "amd64" && !raceEnabled

// litmusRounds: 2 million rounds take about a second per test here; the
// race build cannot show the reordering (its stores are sequentially
// consistent) and is slower, so it runs fewer.
var litmusRounds = map[bool]int{false: 2_000_000, true: 50_000}[raceEnabled]

// The producer sees each round start a cross-core transfer after the
// consumer, so the consumer waits longer: random delays (loop iterations,
// a fraction of a nanosecond each) that make the two halves overlap in a
// good share of the rounds.
const (
	consumerDelay = 128
	producerDelay = 16
)

// litmus runs rounds: reset (consumer goroutine, between rounds), then
// consumer() and producer() concurrently; forbidden(c, p) tells whether the
// outcome is the one the protocol must never produce. It returns how often
// that outcome appeared.
func litmus(rounds int, reset func(), consumer, producer func() int, forbidden func(c, p int) bool) (misses int) {
	if runtime.GOMAXPROCS(0) == 1 {
		// One goroutine at a time: no overlap to test, and every round
		// costs two context switches. Run a few for the logic alone.
		rounds = min(rounds, 20_000)
	}
	var start, done atomic.Int64
	var pOut atomic.Int64
	go func() {
		for i := int64(1); i <= int64(rounds); i++ {
			for k := 0; start.Load() != i; k++ {
				if k > 1000 {
					runtime.Gosched()
				}
			}
			delay(rand.IntN(producerDelay))
			pOut.Store(int64(producer()))
			done.Store(i)
		}
	}()
	for i := int64(1); i <= int64(rounds); i++ {
		reset()
		start.Store(i)
		delay(rand.IntN(consumerDelay))
		c := consumer()
		for k := 0; done.Load() != i; k++ {
			if k > 1000 {
				runtime.Gosched()
			}
		}
		if forbidden(c, int(pOut.Load())) {
			misses++
		}
	}
	return misses
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestLitmusOldParkProtocol replays the protocol before the fix: the
// consumer announces the park and re-checks only the published sequence;
// the producer release-stores the sequence and loads parked. Both seeing
// nothing is the lost wake-up. The test checks that the harness can see it
// where it exists, which is what gives TestLitmusPark its teeth.
func TestLitmusOldParkProtocol(t *testing.T) {
	var seq relstore.Uint64
	var parked atomic.Bool
	misses := litmus(litmusRounds,
		func() { seq.Store(0); parked.Store(false) },
		func() int { parked.Store(true); return b2i(seq.Load() == 1) }, // 1: saw the record
		func() int { seq.Store(1); return b2i(parked.Load()) },         // 1: saw parked
		func(sawRecord, sawParked int) bool { return sawRecord == 0 && sawParked == 0 })
	t.Logf("old park protocol: both sides missed each other in %d of %d rounds (release stores: %v)", misses, litmusRounds, releaseStores)
	if releaseStores && runtime.GOMAXPROCS(0) >= 2 && runtime.NumCPU() >= 2 && misses == 0 {
		t.Errorf("the old protocol never failed in %d rounds: the litmus harness cannot see store→load reordering", litmusRounds)
	}
}

// TestLitmusPark runs the real Waiter.announce against a producer that
// claims with a CAS, publishes with a release store and calls notify. The
// forbidden outcome is the consumer deciding to block without a bound while
// the producer saw it awake.
func TestLitmusPark(t *testing.T) {
	w := newWaiter()
	var tail atomic.Uint64
	var seq relstore.Uint64
	var outcomes [3]int
	misses := litmus(litmusRounds,
		func() {
			select {
			case <-w.wake: // the last round's token
			default:
			}
			w.parked.Store(false)
			tail.Store(0)
			seq.Store(0)
		},
		func() int {
			v := w.announce(func() bool { return seq.Load() == 1 }, func() bool { return tail.Load() == 0 })
			outcomes[v]++
			return int(v)
		},
		func() int {
			tail.CompareAndSwap(0, 1)
			seq.Store(1)
			return b2i(w.notify())
		},
		func(v, notified int) bool { return verdict(v) == vBlock && notified == 0 })
	t.Logf("new park protocol: ready %d, block (woken) %d, claim seen %d, lost %d of %d rounds",
		outcomes[vReady], outcomes[vBlock], outcomes[vClaimed], misses, litmusRounds)
	if misses > 0 {
		t.Errorf("lost wake-up: the consumer would block with the producer gone in %d of %d rounds", misses, litmusRounds)
	}
}

// TestLitmusOldRoomProtocol replays park.Room before the fix: the consumer
// release-stores and loads waiters without a fence; the producer registers
// (a locked add) and re-checks the ring.
func TestLitmusOldRoomProtocol(t *testing.T) {
	var seq relstore.Uint64
	var waiters atomic.Int32
	misses := litmus(litmusRounds,
		func() { seq.Store(0); waiters.Store(0) },
		func() int { seq.Store(1); return b2i(waiters.Load() > 0) }, // 1: saw a waiter
		func() int { waiters.Add(1); return b2i(seq.Load() == 1) },  // 1: saw the room
		func(sawWaiter, sawRoom int) bool { return sawWaiter == 0 && sawRoom == 0 })
	t.Logf("old room protocol: both sides missed each other in %d of %d rounds (release stores: %v)", misses, litmusRounds, releaseStores)
	if releaseStores && runtime.GOMAXPROCS(0) >= 2 && runtime.NumCPU() >= 2 && misses == 0 {
		t.Errorf("the old protocol never failed in %d rounds: the litmus harness cannot see store→load reordering", litmusRounds)
	}
}

// TestLitmusRoom runs the real Room: the consumer release-stores and calls
// Freed; the producer calls Register and re-checks. The forbidden outcome is
// a producer that saw no room and a channel that Freed did not close.
func TestLitmusRoom(t *testing.T) {
	var r Room
	var seq relstore.Uint64
	var ch atomic.Pointer[<-chan struct{}]
	misses := litmus(litmusRounds,
		func() { seq.Store(0) },
		func() int { seq.Store(1); r.Freed(); return 0 },
		func() int {
			c := r.Register()
			ch.Store(&c)
			return b2i(seq.Load() == 1)
		},
		func(_, sawRoom int) bool {
			closed := false
			select {
			case <-*ch.Load():
				closed = true
			default:
			}
			r.Unregister()
			return sawRoom == 0 && !closed
		})
	if misses > 0 {
		t.Errorf("lost wake-up: a waiting producer saw a full ring and was never woken in %d of %d rounds", misses, litmusRounds)
	}
}
