package baseline

import (
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/pad"
)

// RoundTrip measures what a cache line's trip between two cores costs right
// now: n times, the calling goroutine stores a counter and spins until a
// second goroutine, spinning on it, stores it back. It returns the mean
// round trip (two line transfers), the partner goroutine's start included;
// Probe is the robust reading.
//
// Every ring benchmark reports it next to its figure (rtt-before-ns,
// rtt-after-ns) because on a shared VM it is not a constant: the host moves
// the two vCPUs, and the round trip reads about 60-200 ns in one placement
// and about 500 ns in another (docs/benchmarks.md); a reading of a
// microsecond or more means one goroutine waited for a CPU. A ring whose
// producer and consumer run in parallel pays that transfer whenever the
// consumer catches up with the producer, so its ns/op follows the
// placement; a channel, whose lock and runtime work dominate, follows it
// less. A ratio is only meaningful together with the probes it was
// measured between.
//
// With GOMAXPROCS=1 the two goroutines take turns (each yields after a
// bounded spin), so the figure is then a goroutine switch, not a transfer.
func RoundTrip(n int) time.Duration { return roundTrips(1, n, nil)[0] }

// roundTrips runs bursts bursts of n round trips against one partner
// goroutine and returns each burst's mean. stall, if not nil, is called by
// the partner before it answers trip i (1-based, counted over all bursts):
// the tests' way to deschedule it.
func roundTrips(bursts, n int, stall func(i int64)) []time.Duration {
	var l struct {
		_    pad.Line
		ping atomic.Int64
		_    pad.Line
		pong atomic.Int64
		_    pad.Line
	}
	n = max(n, 1)
	total := int64(bursts) * int64(n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := int64(1); i <= total; i++ {
			spinUntil(&l.ping, i)
			if stall != nil {
				stall(i)
			}
			l.pong.Store(i)
		}
	}()
	means := make([]time.Duration, bursts)
	i := int64(0)
	for b := range means {
		start := time.Now()
		for range n {
			i++
			l.ping.Store(i)
			spinUntil(&l.pong, i)
		}
		means[b] = time.Since(start) / time.Duration(n)
	}
	<-done
	return means
}

// spinUntil spins until v holds want, yielding now and then so a single P
// (GOMAXPROCS=1) still lets the other side run.
func spinUntil(v *atomic.Int64, want int64) {
	for spins := 1; v.Load() != want; spins++ {
		if spins%4096 == 0 {
			runtime.Gosched()
		}
	}
}

// Probe bursts: 10 of 200 round trips, 1 ms or less in all, short enough
// to run before and after every benchmark or latbench row.
const (
	probeBursts = 10
	probeTrips  = 200
)

// Probe is the round trip of RoundTrip, read as the fastest of 10 bursts
// of 200 trips against one partner goroutine. A single mean over all the
// trips also counted the partner's start (an idle P to wake) and any
// moment either goroutine waited for a CPU, which read as a microsecond or
// more (docs/benchmarks.md, "Rings"). The fastest burst reads the
// placement unless every burst was disturbed.
func Probe() time.Duration { return probe(nil) }

// probe is Probe with roundTrips' stall hook.
func probe(stall func(i int64)) time.Duration {
	return slices.Min(roundTrips(probeBursts, probeTrips, stall))
}

// RunRTT runs f as sub-benchmark name of b, with allocations reported and
// a Probe before and after the timed run, outside it, reported as
// rtt-before-ns and rtt-after-ns: a run whose two figures fall in different
// placements straddled a move of the vCPUs.
func RunRTT(b *testing.B, name string, f func(b *testing.B)) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		before := Probe()
		b.ResetTimer()
		f(b)
		b.StopTimer()
		after := Probe()
		b.ReportMetric(float64(before.Nanoseconds()), "rtt-before-ns")
		b.ReportMetric(float64(after.Nanoseconds()), "rtt-after-ns")
	})
}
