package park

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func newWaiter() *Waiter {
	w := &Waiter{}
	w.Init()
	return w
}

func TestWaitReasons(t *testing.T) {
	w := newWaiter()
	if r := w.Wait(func() bool { return true }, nil, nil); r != Ready {
		t.Fatalf("Wait with a ready condition = %v; want Ready", r)
	}
	done := make(chan struct{})
	close(done)
	if r := w.Wait(func() bool { return false }, done, nil); r != Done {
		t.Fatalf("Wait with done closed = %v; want Done", r)
	}
	if r := w.Wait(func() bool { return false }, nil, time.After(time.Millisecond)); r != Timeout {
		t.Fatalf("Wait with a timer = %v; want Timeout", r)
	}
	if w.IsParked() {
		t.Fatal("parked flag left set after Wait returned")
	}
}

// TestWakeBeforeParkIsNotLost: a Wake that lands before the consumer parks
// (the flush/close race) must still end the next Wait.
func TestWakeBeforeParkIsNotLost(t *testing.T) {
	w := newWaiter()
	w.Wake()
	got := make(chan Reason, 1)
	go func() { got <- w.Wait(func() bool { return false }, nil, nil) }()
	select {
	case r := <-got:
		if r != Woken {
			t.Fatalf("Wait = %v; want Woken", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a Wake before the park was lost")
	}
}

func TestNotifyWakesParkedConsumerOnly(t *testing.T) {
	w := newWaiter()
	w.Notify() // nobody parked: no token
	var ready atomic.Bool
	got := make(chan Reason, 1)
	go func() { got <- w.Wait(ready.Load, nil, nil) }()
	for !w.IsParked() {
		time.Sleep(time.Millisecond)
	}
	select {
	case r := <-got:
		t.Fatalf("Wait returned %v with nothing ready (a stale Notify token?)", r)
	case <-time.After(20 * time.Millisecond):
	}
	ready.Store(true)
	w.Notify()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("Notify did not wake the parked consumer")
	}
}

func TestRoom(t *testing.T) {
	var r Room
	r.Freed() // nobody waits: nothing happens
	ch := r.Register()
	got := make(chan error, 1)
	go func() { got <- r.Wait(context.Background(), ch, nil) }()
	r.Freed()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("Wait = %v; want nil after Freed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Freed did not wake the waiting producer")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Wait(ctx, r.Register(), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context = %v", err)
	}
	if n := r.waiters.Load(); n != 0 {
		t.Fatalf("%d waiters left registered", n)
	}
}
