//go:build unix

package mpsc

import (
	"context"
	"testing"
	"time"

	"github.com/ringsink/ringsink/wait"
)

// TestIdleConsumersUseNoCPU: consumers with no traffic for 2 s use at most
// 2 ms of CPU between them (the process's, user and system), with every
// policy but spin: each takes one value, waits (lingering, then parking;
// or parking), and then blocks without a timer. A consumer that polled at
// even 1 kHz, or whose linger re-armed itself, would show here.
func TestIdleConsumersUseNoCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("2 s of idling")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stopped []chan struct{}
	start := func(push func(), consume func(ctx context.Context) bool) {
		got, done := make(chan struct{}), make(chan struct{})
		stopped = append(stopped, done)
		go func() {
			defer close(done)
			if consume(ctx) {
				close(got)
			}
			consume(ctx) // idle until cancel
		}()
		push()
		<-got
	}
	for _, p := range []wait.Policy{wait.Park(), wait.Linger(time.Millisecond)} {
		r := New[int](1024)
		r.SetWait(p)
		start(func() { r.TryPush(1) }, func(ctx context.Context) bool {
			for {
				if _, ok := r.TryPop(); ok {
					return true
				}
				if r.Wait(ctx) != nil {
					return false
				}
			}
		})
		b := NewByteRing(1 << 16)
		b.SetWait(p)
		recs := make([][]byte, 16)
		start(func() { b.TryWrite([]byte("x")) }, func(ctx context.Context) bool {
			for {
				if n := b.Peek(recs); n > 0 {
					b.Release(n)
					return true
				}
				if b.Wait(ctx) != nil {
					return false
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // past the lingers
	before, ok := cpuTime()
	if !ok {
		t.Skip("no CPU time here")
	}
	time.Sleep(2 * time.Second)
	after, _ := cpuTime()
	cancel()
	for _, done := range stopped {
		<-done
	}
	if used := after - before; used > 2*time.Millisecond {
		t.Fatalf("%d idle consumers used %v of CPU in 2 s; want at most 2 ms", len(stopped), used)
	} else {
		t.Logf("%d idle consumers: %v of CPU in 2 s", len(stopped), used)
	}
}
