//go:build unix

package spsc

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/ringsink/ringsink/wait"
)

// TestIdleConsumersUseNoCPU: consumers with no traffic for 2 s use at most
// 2 ms of CPU between them (the process's, user and system), with every
// policy but spin: each takes one value, waits (parking: one timed step
// and one heavy fence on amd64 Linux; lingering, then fencing), and then
// blocks without a timer.
func TestIdleConsumersUseNoCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("2 s of idling")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stopped []chan struct{}
	for _, p := range []wait.Policy{wait.Park(), wait.Linger(time.Millisecond)} {
		r := New[int](1024)
		r.SetWait(p)
		consume := func() bool {
			for {
				if _, ok := r.TryPop(); ok {
					return true
				}
				if r.Wait(ctx) != nil {
					return false
				}
			}
		}
		got, done := make(chan struct{}), make(chan struct{})
		stopped = append(stopped, done)
		go func() {
			defer close(done)
			if consume() {
				close(got)
			}
			consume() // idle until cancel
		}()
		r.TryPush(1)
		<-got
	}
	time.Sleep(100 * time.Millisecond) // past the lingers, the timed steps and the fence's registration
	before := cpuTime(t)
	time.Sleep(2 * time.Second)
	used := cpuTime(t) - before
	cancel()
	for _, done := range stopped {
		<-done
	}
	if used > 2*time.Millisecond {
		t.Fatalf("%d idle consumers used %v of CPU in 2 s; want at most 2 ms", len(stopped), used)
	}
	t.Logf("%d idle consumers: %v of CPU in 2 s", len(stopped), used)
}

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Skip("no CPU time here:", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
