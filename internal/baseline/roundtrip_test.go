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
