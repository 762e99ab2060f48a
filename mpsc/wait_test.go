package mpsc

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestNoLostWakeup ping-pongs single values between a producer and a parking
// consumer. Every round the consumer has drained the ring and is about to
// park (or parked) when the next value arrives; a missed wake-up would leave
// it parked forever, which the deadline turns into a failure.
func TestNoLostWakeup(t *testing.T) {
	const rounds = 20_000
	r := New[int](8)
	ack := New[int](8)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < rounds; {
			if err := r.Wait(ctx); err != nil {
				t.Errorf("consumer: round %d: %v (lost wake-up)", i, err)
				cancel()
				return
			}
			v, ok := r.TryPop()
			if !ok {
				continue // woken spuriously; wait again
			}
			if v != i {
				t.Errorf("consumer: got %d; want %d", v, i)
				cancel()
				return
			}
			ack.TryPush(v)
			i++
		}
	})
	for i := range rounds {
		r.TryPush(i)
		for {
			if _, ok := ack.TryPop(); ok {
				break
			}
			if err := ack.Wait(ctx); err != nil {
				t.Fatalf("producer: round %d: %v (lost wake-up)", i, err)
			}
		}
	}
	wg.Wait()
}

// TestParkedConsumerWakesOnPush waits until the consumer is really parked,
// then pushes once and expects Wait to return.
func TestParkedConsumerWakesOnPush(t *testing.T) {
	r := New[int](4)
	returned := make(chan error, 1)
	go func() { returned <- r.Wait(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for !r.park.IsParked() {
		if time.Now().After(deadline) {
			t.Fatal("consumer never parked on an empty ring")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-returned:
		t.Fatalf("Wait returned %v on an empty ring", err)
	case <-time.After(20 * time.Millisecond):
	}
	r.TryPush(7)
	select {
	case err := <-returned:
		if err != nil {
			t.Fatalf("Wait = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("parked consumer did not wake on push")
	}
	if v, ok := r.TryPop(); !ok || v != 7 {
		t.Fatalf("TryPop() = %d, %v; want 7, true", v, ok)
	}
}

func TestWaitHonoursContextAndWake(t *testing.T) {
	r := New[int](4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on empty ring = %v; want DeadlineExceeded", err)
	}
	go func() {
		for !r.park.IsParked() {
			time.Sleep(time.Millisecond)
		}
		r.Wake()
	}()
	if got := r.WaitChan(nil, nil); got != WaitWoken {
		t.Fatalf("WaitChan after Wake = %v; want Woken", got)
	}
	timer := time.NewTimer(time.Millisecond)
	if got := r.WaitChan(nil, timer.C); got != WaitTimeout {
		t.Fatalf("WaitChan with timer = %v; want Timeout", got)
	}
}

func TestWaitReasonString(t *testing.T) {
	for r, want := range map[WaitReason]string{WaitReady: "ready", WaitWoken: "woken", WaitDone: "done", WaitTimeout: "timeout", 200: "WaitReason(200)"} {
		if got := r.String(); got != want {
			t.Errorf("WaitReason(%d).String() = %q; want %q", uint8(r), got, want)
		}
	}
}
