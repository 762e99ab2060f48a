package baseline

import (
	"runtime"
	"testing"
	"time"
)

// TestRoundTripOneP: with one P the two goroutines take turns, and the
// probe still finishes and reports a positive time (a spin without a yield
// would wait for preemption on every trip: 2000 trips of 10 ms).
func TestRoundTripOneP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	start := time.Now()
	if d := Probe(); d <= 0 {
		t.Fatalf("Probe() = %v with GOMAXPROCS=1", d)
	}
	// Taking turns costs microseconds per trip; waiting for preemption
	// would take 10 ms per trip, 20 s in all.
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Probe() took %v with GOMAXPROCS=1", el)
	}
}

// TestProbeSkipsAStalledBurst: a partner descheduled for 100 ms in one
// burst makes that burst's mean 500 µs a trip and a mean over all the
// trips 50 µs; Probe must report a burst that was not stalled. Up to three
// attempts each, because on a loaded machine every burst can be disturbed;
// a probe that averaged the bursts fails all three.
func TestProbeSkipsAStalledBurst(t *testing.T) {
	const (
		stall = 100 * time.Millisecond
		want  = stall / (probeBursts * probeTrips) / 2
	)
	for _, at := range []int64{1, probeTrips*probeBursts/2 + 1, probeTrips * probeBursts} {
		var reads []time.Duration
		for range 3 {
			start := time.Now()
			got := probe(func(i int64) {
				if i == at {
					time.Sleep(stall)
				}
			})
			if el := time.Since(start); el < stall {
				t.Fatalf("stall at trip %d: the probe took %v, less than the stall", at, el)
			}
			if reads = append(reads, got); got < want {
				break
			}
		}
		if got := reads[len(reads)-1]; got >= want {
			t.Fatalf("stall at trip %d: probe read %v, want below %v", at, reads, want)
		}
	}
}
