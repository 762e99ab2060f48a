//go:build unix

package sink

import (
	"syscall"
	"testing"
	"time"
)

// TestIdleSinkUsesNoCPU: 50 idle sinks (consumers parked, no timers) must
// not burn CPU. A polling consumer at even 1 kHz would show up here.
func TestIdleSinkUsesNoCPU(t *testing.T) {
	var sinks []*Sink[uint32]
	for range 50 {
		s := New[uint32](&countingDrain{}, Config{FlushInterval: time.Millisecond})
		if err := s.TryPush(1); err != nil { // one batch, then idle
			t.Fatalf("s.TryPush(1): %v", err)
		}
		sinks = append(sinks, s)
	}
	time.Sleep(50 * time.Millisecond) // let them write and park
	before := cpuTime(t)
	time.Sleep(500 * time.Millisecond)
	used := cpuTime(t) - before
	for _, s := range sinks {
		closeSink(t, s)
	}
	if got := used; got >= 100*time.Millisecond {
		t.Fatalf("50 idle sinks used %v of CPU in 500ms: used = %v; want < %v", used, got, 100*time.Millisecond)
	}
}

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("syscall.Getrusage(syscall.RUSAGE_SELF, &ru): %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
