//go:build unix

package sink

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestIdleSinkUsesNoCPU: 50 idle sinks (consumers parked, no timers) must
// not burn CPU. A polling consumer at even 1 kHz would show up here.
func TestIdleSinkUsesNoCPU(t *testing.T) {
	var sinks []*Sink[uint32]
	for range 50 {
		s := New[uint32](&countingDrain{}, Config{FlushInterval: time.Millisecond})
		require.NoError(t, s.TryPush(1)) // one batch, then idle
		sinks = append(sinks, s)
	}
	time.Sleep(50 * time.Millisecond) // let them write and park
	before := cpuTime(t)
	time.Sleep(500 * time.Millisecond)
	used := cpuTime(t) - before
	for _, s := range sinks {
		closeSink(t, s)
	}
	require.Less(t, used, 100*time.Millisecond, "50 idle sinks used %v of CPU in 500ms", used)
}

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
