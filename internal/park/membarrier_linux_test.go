//go:build linux

package park

import (
	"sync/atomic"
	"testing"

	"github.com/ringsink/ringsink/internal/relstore"
)

// The alternative fix the design weighed (docs/design.md, "No lost
// wake-ups"): keep the old protocol, and have the consumer issue
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) between announcing the park
// and re-checking the ring. That runs a full barrier on every CPU running a
// thread of this process, so a producer's release store that its load of
// parked overtook is drained before the consumer's re-check. It works, but
// costs a system call and an IPI per park, is Linux-only, and needs a
// fallback; the claim check costs one load. These tests keep the
// measurement reproducible.

func membarrierSetup(tb testing.TB) {
	if !HeavyFenceAvailable() {
		tb.Skip("membarrier(REGISTER_PRIVATE_EXPEDITED) refused")
	}
}

func membarrier() {
	if !heavyFence() {
		panic("membarrier(PRIVATE_EXPEDITED) refused after registration")
	}
}

// TestLitmusMembarrierPark: the old protocol plus membarrier on the
// consumer never loses a wake-up.
func TestLitmusMembarrierPark(t *testing.T) {
	membarrierSetup(t)
	var seq relstore.Uint64
	var parked atomic.Bool
	misses := 0
	rounds := litmusRun(func() {
		misses += litmus(litmusBatch/10, // each round is a system call
			func(int) { seq.Store(0); parked.Store(false) },
			func(int) int { parked.Store(true); membarrier(); return b2i(seq.Load() == 1) },
			func(int) int { seq.Store(1); return b2i(parked.Load()) },
			func(_, sawRecord, sawParked int) bool { return sawRecord == 0 && sawParked == 0 })
	}, func() bool { return true }) / 10
	t.Logf("membarrier protocol: lost %d of %d rounds", misses, rounds)
	if misses > 0 {
		t.Errorf("membarrier protocol: lost wake-up in %d of %d rounds", misses, rounds)
	}
}

// BenchmarkParkCheck is what the consumer pays to decide that it may block:
// the claim check (announce: store parked, check the ring, load tail)
// against a membarrier between the store and the check.
func BenchmarkParkCheck(b *testing.B) {
	var tail atomic.Uint64
	var seq relstore.Uint64
	ready := func() bool { return seq.Load() == 1 }
	idle := func() bool { return tail.Load() == 0 }
	b.Run("protocol=claim-check", func(b *testing.B) {
		b.ReportAllocs()
		w := newWaiter()
		for b.Loop() {
			if w.announce(ready, idle) != vBlock {
				b.Fatal("not idle")
			}
		}
	})
	b.Run("protocol=membarrier", func(b *testing.B) {
		membarrierSetup(b)
		b.ReportAllocs()
		w := newWaiter()
		for b.Loop() {
			w.parked.Store(true)
			membarrier()
			if ready() {
				b.Fatal("ready")
			}
		}
	})
}
