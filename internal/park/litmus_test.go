package park

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

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
var releaseStores = relstore.Release

// litmusBudget bounds each litmus test: it runs batches of rounds for at
// least the minimum, and stops as soon as it has also seen the evidence that
// its rounds overlapped, or at the maximum. The race build cannot show the
// reordering (its stores are sequentially consistent) and is slower.
var (
	litmusMin = map[bool]time.Duration{false: time.Second, true: 200 * time.Millisecond}[raceEnabled]
	litmusMax = map[bool]time.Duration{false: 10 * time.Second, true: time.Second}[raceEnabled]
)

var litmusBatch = map[bool]int{false: 100_000, true: 5_000}[raceEnabled]

// The producer sees each round start a cross-core transfer after the
// consumer, so the consumer waits longer: random delays (loop iterations,
// a fraction of a nanosecond each) that make the two halves overlap in a
// good share of the rounds.
const (
	consumerDelay = 128
	producerDelay = 16
)

// litmus runs rounds: reset (consumer goroutine, between rounds), then
// consumer(round) and producer(round) concurrently; forbidden(round, c, p)
// tells whether the outcome is one the protocol must never produce. It
// returns how often that outcome appeared.
func litmus(rounds int, reset func(round int), consumer, producer func(round int) int, forbidden func(round, c, p int) bool) (misses int) {
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
			_ = delay(rand.IntN(producerDelay))
			pOut.Store(int64(producer(int(i))))
			done.Store(i)
		}
	}()
	for i := int64(1); i <= int64(rounds); i++ {
		reset(int(i))
		start.Store(i)
		_ = delay(rand.IntN(consumerDelay))
		c := consumer(int(i))
		for k := 0; done.Load() != i; k++ {
			if k > 1000 {
				runtime.Gosched()
			}
		}
		if forbidden(int(i), c, int(pOut.Load())) {
			misses++
		}
	}
	return misses
}

// litmusRun repeats batches until the budget says stop: at least litmusMin,
// then until calibrated() or litmusMax. It returns the rounds run.
func litmusRun(batch func(), calibrated func() bool) (rounds int) {
	begin := time.Now()
	for {
		batch()
		rounds += litmusBatch
		if runtime.GOMAXPROCS(0) == 1 {
			return rounds
		}
		elapsed := time.Since(begin)
		// Only the release-store build can calibrate; the others stop at
		// the minimum.
		if elapsed >= litmusMax || elapsed >= litmusMin && (calibrated() || !releaseStores) {
			return rounds
		}
	}
}

// calibration reports whether a litmus test saw its control fail where it
// can (amd64 without -race, two CPUs); without that evidence a pass says
// nothing, so the test is skipped, saying why.
func calibration(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if releaseStores && runtime.GOMAXPROCS(0) >= 2 && runtime.NumCPU() >= 2 {
		t.Skipf("the rounds never overlapped enough to show %s; the result proves nothing", what)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// litmusPolicies are the ways a consumer reaches its park's announce:
// parking at once, or after a linger whose word (armed far ahead, so the
// producer's publish does not reach it) the producer may load instead of
// the park's. Spin arms nothing and blocks on nothing: it has no
// store→load pair to test (the watchdog stress runs it).
var litmusPolicies = []struct {
	name   string
	before func(w *Waiter)
}{
	{"park", func(*Waiter) {}},
	{"linger", func(w *Waiter) { w.arm(1<<20, lingerBit) }},
}

// resetWaiter drops the last round's token and clears the wake word.
func resetWaiter(w *Waiter) {
	select {
	case <-w.wake:
	default:
	}
	w.at.Store(0)
}

// TestLitmusPark runs the real Waiter.announce against a producer that
// claims with a CAS, publishes with a release store and calls notify; the
// forbidden outcome is the consumer deciding to block without a bound while
// the producer sent no token. Every other round replays the protocol before
// the fix (the consumer re-checks only the published sequence) as a
// control: it must fail now and then in the same run, which shows that the
// rounds overlapped the way a lost wake-up needs. It runs for each policy
// that parks.
func TestLitmusPark(t *testing.T) {
	for _, pol := range litmusPolicies {
		t.Run(pol.name, func(t *testing.T) {
			w := newWaiter()
			var tail atomic.Uint64
			var seq relstore.Uint64
			var parked atomic.Bool // the control's flag
			var outcomes [3]int
			var misses, controlMisses int
			rounds := litmusRun(func() {
				litmus(litmusBatch,
					func(int) {
						resetWaiter(w)
						parked.Store(false)
						tail.Store(0)
						seq.Store(0)
					},
					func(round int) int {
						if round%2 == 0 { // control: 1 if it saw the record
							parked.Store(true)
							return b2i(seq.Load() == 1)
						}
						pol.before(w)
						v := w.announce(0, func() bool { return seq.Load() == 1 }, func() bool { return tail.Load() == 0 }, false)
						outcomes[v]++
						return int(v)
					},
					func(round int) int {
						if round%2 == 0 { // control: 1 if it saw parked
							seq.Store(1)
							return b2i(parked.Load())
						}
						tail.CompareAndSwap(0, 1)
						seq.Store(1)
						return b2i(w.notify(1))
					},
					func(round, c, p int) bool {
						if round%2 == 0 {
							if c == 0 && p == 0 {
								controlMisses++
							}
							return false
						}
						if verdict(c) == vBlock && p == 0 {
							misses++
						}
						return false
					})
			}, func() bool { return controlMisses > 0 && outcomes[vClaimed] > 0 })
			t.Logf("%d rounds, half of them control; fixed protocol: ready %d, block (woken) %d, claim seen %d, lost %d; old protocol (control): lost %d",
				rounds, outcomes[vReady], outcomes[vBlock], outcomes[vClaimed], misses, controlMisses)
			if misses > 0 {
				t.Errorf("lost wake-up: the consumer would block with the producer gone in %d rounds", misses)
			}
			calibration(t, controlMisses > 0 && outcomes[vClaimed] > 0, "the old protocol losing a wake-up and a claim in flight")
		})
	}
}

// TestLitmusRoom runs the real Room: the consumer release-stores and calls
// Freed; the producer calls Register and re-checks. The forbidden outcome is
// a producer that saw no room and a channel that Freed did not close. Every
// other round replays Room before the fix (no fence between the release and
// the load of waiters) as the control.
func TestLitmusRoom(t *testing.T) {
	var r Room
	var seq relstore.Uint64
	var waiters atomic.Int32 // the control's counter
	var ch atomic.Pointer[<-chan struct{}]
	var misses, controlMisses int
	rounds := litmusRun(func() {
		litmus(litmusBatch,
			func(int) { seq.Store(0); waiters.Store(0) },
			func(round int) int {
				seq.Store(1)
				if round%2 == 0 {
					return b2i(waiters.Load() > 0) // control: saw a waiter
				}
				r.Freed()
				return 0
			},
			func(round int) int {
				if round%2 == 0 {
					waiters.Add(1)
					return b2i(seq.Load() == 1) // control: saw the room
				}
				c := r.Register()
				ch.Store(&c)
				return b2i(seq.Load() == 1)
			},
			func(round, c, sawRoom int) bool {
				if round%2 == 0 {
					if c == 0 && sawRoom == 0 {
						controlMisses++
					}
					return false
				}
				closed := false
				select {
				case <-*ch.Load():
					closed = true
				default:
				}
				r.Unregister()
				if sawRoom == 0 && !closed {
					misses++
				}
				return false
			})
	}, func() bool { return controlMisses > 0 })
	t.Logf("%d rounds, half of them control; fixed Room: lost %d; old Room (control): lost %d", rounds, misses, controlMisses)
	if misses > 0 {
		t.Errorf("lost wake-up: a waiting producer saw a full ring and was never woken in %d rounds", misses)
	}
	calibration(t, controlMisses > 0, "the old Room losing a wake-up")
}
