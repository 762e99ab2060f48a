package spsc

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ringsink/ringsink/internal/park"
	"github.com/ringsink/ringsink/internal/relstore"
	"github.com/ringsink/ringsink/wait"
)

// waitModes are the ways a parked consumer learns of a publish: as New
// sets it up for this build (on amd64 Linux the heavy fence, run once a
// park has waited a millisecond on its timer), the fence at every park (so
// the stress tests, whose pauses are far shorter, run the fenced check all
// the time), and the bounded wait it falls back to where the fence is
// missing. The last two are forced here.
func waitModes() map[string]func(capacity int) *Ring[uint64] {
	return map[string]func(int) *Ring[uint64]{
		"new": New[uint64],
		"fence-every-park": func(n int) *Ring[uint64] {
			r := New[uint64](n)
			if relstore.Release {
				r.park.UseHeavyFenceFrom(0)
			}
			return r
		},
		"bounded": func(n int) *Ring[uint64] {
			r := New[uint64](n)
			r.park.UseBoundedWait()
			return r
		},
	}
}

// TestParkedConsumerWakesOnPush waits until the consumer is really parked,
// then pushes once (and, in a second round, a batch) and expects Wait to
// return with the value there. In the "new" and "fence-every-park" modes
// only Notify can wake a consumer blocked after its fence; the bounded
// mode would also find the value on its timer, so there it checks
// liveness only.
func TestParkedConsumerWakesOnPush(t *testing.T) {
	for name, newRing := range waitModes() {
		t.Run(name, func(t *testing.T) {
			r := newRing(4)
			for round, push := range []func(){
				func() { r.TryPush(7) },
				func() { r.TryPushBatch([]uint64{7}) },
			} {
				returned := make(chan error, 1)
				go func() {
					// Wait may return early (a stale token): the contract is
					// to re-check and wait again.
					for {
						if err := r.Wait(context.Background()); err != nil || r.Len() > 0 {
							returned <- err
							return
						}
					}
				}()
				deadline := time.Now().Add(10 * time.Second)
				for !r.park.IsParked() {
					if time.Now().After(deadline) {
						t.Fatalf("round %d: consumer never parked on an empty ring", round)
					}
					time.Sleep(time.Millisecond)
				}
				select {
				case err := <-returned:
					t.Fatalf("round %d: the consumer stopped waiting on an empty ring: %v", round, err)
				case <-time.After(20 * time.Millisecond):
				}
				push()
				select {
				case err := <-returned:
					if err != nil {
						t.Fatalf("round %d: Wait = %v; want nil", round, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("round %d: parked consumer did not wake on push", round)
				}
				if v, ok := r.TryPop(); !ok || v != 7 {
					t.Fatalf("round %d: TryPop() = %d, %v; want 7, true", round, v, ok)
				}
			}
		})
	}
}

// TestWaitHonoursContextAndWake: Wait on an empty ring returns the
// context's error when it ends, and nil after Wake; on a ring holding a
// value it returns nil at once.
func TestWaitHonoursContextAndWake(t *testing.T) {
	r := New[int](4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on empty ring = %v; want DeadlineExceeded", err)
	}
	done, stop := context.WithCancel(context.Background())
	stop()
	if err := r.Wait(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context = %v; want Canceled", err)
	}
	woke := make(chan struct{})
	go func() {
		defer close(woke)
		for !r.park.IsParked() {
			time.Sleep(time.Millisecond)
		}
		r.Wake()
	}()
	if err := r.Wait(context.Background()); err != nil {
		t.Fatalf("Wait after Wake = %v; want nil", err)
	}
	<-woke
	r.TryPush(1)
	if err := r.Wait(done); err != nil {
		t.Fatalf("Wait on a ring holding a value = %v; want nil even with a cancelled context", err)
	}
}

// TestPushWakesLingererAtHalf: a consumer lingering in Wait is not woken
// by pushes that end less than half a ring past its head, and is by the
// push, or the batch, that reaches it.
func TestPushWakesLingererAtHalf(t *testing.T) {
	r := New[uint64](8)
	r.park.LingerAt(r.head.Load() + 4)
	if r.TryPushBatch([]uint64{1, 2, 3}); !r.park.IsLingering() {
		t.Fatal("a batch ending 3 past head (half the ring: 4) woke the lingering consumer")
	}
	if r.TryPush(4); r.park.IsLingering() {
		t.Fatal("the push ending half a ring past head did not wake the lingering consumer")
	}
	r.TryPopBatch(make([]uint64, 4))
	r.park.LingerAt(r.head.Load() + 4)
	if r.TryPush(5); !r.park.IsLingering() {
		t.Fatal("a push ending 1 past head woke the lingering consumer")
	}
	if r.TryPushBatch([]uint64{6, 7, 8, 9}); r.park.IsLingering() {
		t.Fatal("a batch ending 5 past head did not wake the lingering consumer")
	}
}

// TestWaitArmsFromHead: Wait hands its waiter the head the consumer reads
// next: parked, a publish past it wakes the consumer; lingering, one half a
// ring past it.
func TestWaitArmsFromHead(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // with one P a linger parks at once
	r := New[uint64](8)
	r.TryPushBatch([]uint64{1, 2, 3, 4, 5})
	r.TryPopBatch(make([]uint64, 5))
	for _, c := range []struct {
		p    wait.Policy
		want uint64
	}{{wait.Park(), 5 + 1}, {wait.Linger(time.Hour), 5 + 4}} {
		r.SetWait(c.p)
		returned := make(chan error, 1)
		go func() { returned <- r.Wait(context.Background()) }()
		deadline := time.Now().Add(10 * time.Second)
		for !r.park.IsLingering() && !r.park.IsParked() {
			if time.Now().After(deadline) {
				r.Wake()
				t.Fatalf("%v: the consumer never waited", c.p)
			}
			time.Sleep(100 * time.Microsecond)
		}
		got, _ := r.park.WakeAt()
		r.Wake()
		<-returned
		if got != c.want {
			t.Fatalf("%v: the consumer is woken at position %d; want %d (head 5 + %d)", c.p, got, c.want, c.want-5)
		}
	}
}

// TestNewStartsNoGoroutine: New starts nothing and registers nothing; a
// consumer that waits and is woken leaves nothing running either (the
// heavy fence's registration, started by the first park that needs it,
// ends with it).
func TestNewStartsNoGoroutine(t *testing.T) {
	running := goleak.IgnoreCurrent()
	before := runtime.NumGoroutine()
	r := New[int](8)
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("New started %d goroutines", n-before)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, ok := r.TryPop(); ok {
				return
			}
			_ = r.Wait(context.Background())
		}
	}()
	time.Sleep(30 * time.Millisecond) // long enough to fence (and register) where it can
	r.TryPush(1)
	<-done
	goleak.VerifyNone(t, running)
}

// TestPacedValuesCostOneTimerAndOneFence: values a few milliseconds apart
// (further apart than the park's timed step and the linger) cost the
// consumer at most one timer wake-up and one heavy fence each, with the
// default policy and with a linger: no polling, no fence per bounded
// step. (The process registers for the fence first: until the first
// park's registration is done, parks re-check every millisecond.)
func TestPacedValuesCostOneTimerAndOneFence(t *testing.T) {
	if relstore.Release && !park.HeavyFenceAvailable() {
		t.Skip("no heavy fence here: the bounded wait polls by design")
	}
	const values = 8
	for _, p := range []wait.Policy{wait.Park(), wait.Linger(time.Millisecond)} {
		r := New[int](64)
		r.SetWait(p)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for got := 0; got < values; {
				if _, ok := r.TryPop(); ok {
					got++
					continue
				}
				_ = r.Wait(context.Background())
			}
		}()
		for i := range values {
			time.Sleep(3 * time.Millisecond)
			r.TryPush(i)
		}
		<-done
		_, timeouts := r.park.ClaimWaits()
		timers := timeouts + r.park.Lingers()
		if timers > values+1 || r.park.Fences() > values+1 {
			t.Fatalf("%v: %d values 3 ms apart cost %d timer wake-ups and %d fences; want at most one each per value (and the first park)", p, values, timers, r.park.Fences())
		}
	}
}
