//go:build linux

package park

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ringsink/ringsink/internal/relstore"
)

// The membarrier protocol (docs/design.md, "No lost wake-ups"): the
// consumer issues membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) between
// announcing the park and re-checking the ring. That runs a full barrier
// on every CPU running a thread of this process, so a producer's release
// store that its load of parked overtook is drained before the consumer's
// re-check. The mpsc rings do not need it (their claim CAS is a fence, and
// the claim check costs one load); spsc.Ring.Wait uses it
// (Waiter.UseHeavyFence), since its producer has no claim. These tests
// check the pattern in the release-store build and measure its cost.

func membarrierSetup(tb testing.TB) {
	if !HeavyFenceAvailable() {
		tb.Skip("membarrier(REGISTER_PRIVATE_EXPEDITED) refused")
	}
}

// TestLitmusMembarrierPark: spsc.Ring.Wait's protocol, the real announce
// of a Waiter with the heavy fence against a producer that publishes with a
// release store, never loses a wake-up; the control rounds (no fence) do.
// It runs for each policy that parks (litmusPolicies).
func TestLitmusMembarrierPark(t *testing.T) {
	membarrierSetup(t)
	for _, pol := range litmusPolicies {
		t.Run(pol.name, func(t *testing.T) {
			w := newWaiter()
			w.UseHeavyFence()
			rounds, misses, controlMisses := litmusNoClaim(litmusBatch/10, w, pol.before) // each round is a system call
			t.Logf("%d rounds, half of them control: membarrier protocol lost %d; without the fence (control) lost %d", rounds, misses, controlMisses)
			if misses > 0 {
				t.Errorf("membarrier protocol: lost wake-up in %d rounds", misses)
			}
			calibration(t, controlMisses > 0, "a release-store publish losing a wake-up")
		})
	}
}

// litmusNoClaim runs the real Waiter.announce for a ring with no claim
// (spsc.Ring.Wait): the consumer's idle() always holds, so announce blocks
// whenever its re-check finds nothing. The producer publishes with a
// release store and calls notify; before(w) runs before the consumer's
// announce (a linger's word). The forbidden outcome is a consumer that blocks while
// the producer saw it awake. Every other round is the control: the same
// steps written inline, without the fence, against a release-store
// publish, which must lose a wake-up now and then in the same run. It
// returns the rounds, the misses and the control's misses.
func litmusNoClaim(batch int, w *Waiter, before func(*Waiter)) (rounds, misses, controlMisses int) {
	control := newWaiter()
	var seq relstore.Uint64
	rounds = litmusRun(func() {
		litmus(batch,
			func(int) {
				resetWaiter(w)
				resetWaiter(control)
				seq.Store(0)
			},
			func(round int) int {
				if round%2 == 0 { // control, inline (as in TestLitmusPark): arm the word, load seq
					control.arm(1, 0)
					if seq.Load() == 1 {
						return int(vReady)
					}
					return int(vBlock)
				}
				before(w)
				return int(w.announce(0, func() bool { return seq.Load() == 1 }, func() bool { return true }, true))
			},
			func(round int) int {
				if round%2 == 0 {
					seq.Store(1)
					return b2i(control.notify(1))
				}
				seq.Store(1)
				return b2i(w.notify(1))
			},
			func(round, c, p int) bool {
				if verdict(c) == vBlock && p == 0 {
					if round%2 == 0 {
						controlMisses++
					} else {
						misses++
					}
				}
				return false
			})
	}, func() bool { return controlMisses > 0 }) * batch / litmusBatch // litmusRun counts full batches
	return rounds, misses, controlMisses
}

// BenchmarkParkCheck is what the consumer pays to decide that it may block:
// the claim check (announce: store parked, check the ring, load tail)
// against a membarrier between the store and the check (spsc's fenced
// announce), with the other CPUs idle and with a goroutine spinning on
// another CPU (busy=1), so that the membarrier has a CPU to interrupt.
func BenchmarkParkCheck(b *testing.B) {
	var tail atomic.Uint64
	var seq relstore.Uint64
	ready := func() bool { return seq.Load() == 1 }
	idle := func() bool { return tail.Load() == 0 }
	b.Run("protocol=claim-check", func(b *testing.B) {
		b.ReportAllocs()
		w := newWaiter()
		for b.Loop() {
			if w.announce(0, ready, idle, false) != vBlock {
				b.Fatal("not idle")
			}
		}
	})
	for _, busy := range []int{0, 1} {
		b.Run(fmt.Sprintf("protocol=membarrier/busy=%d", busy), func(b *testing.B) {
			membarrierSetup(b)
			b.ReportAllocs()
			var stop atomic.Bool
			var wg sync.WaitGroup
			for range busy {
				wg.Go(func() {
					for !stop.Load() {
					}
				})
			}
			w := newWaiter()
			w.UseHeavyFence()
			for b.Loop() {
				if w.announce(0, ready, idle, true) != vBlock {
					b.Fatal("not idle")
				}
			}
			b.StopTimer()
			stop.Store(true)
			wg.Wait()
		})
	}
}
