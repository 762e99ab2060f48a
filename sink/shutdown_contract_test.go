package sink

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A drain that honours its context returns as soon as Shutdown gives up:
// the doc says ErrStuck is wrapped only "if the drain is inside a call
// that ignores its context". Shutdown must not report a drain that
// returned promptly as stuck.
func TestShutdownDoesNotCallAnHonestDrainStuck(t *testing.T) {
	entered := make(chan struct{}, 1)
	d := DrainFunc[uint32](func(ctx context.Context, _ []uint32) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-ctx.Done() // honours its context, at once
		return ctx.Err()
	})
	s := New[uint32](d, Config{BatchSize: 1})
	for i := range uint32(3) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("TryPush: %v", err)
		}
	}
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Shutdown(ctx)
	<-s.Done()
	if errors.Is(err, ErrStuck) {
		t.Fatalf("Shutdown = %v; want no ErrStuck: the drain returned as its context ended", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v; want it to wrap context.DeadlineExceeded", err)
	}
}

// When Shutdown gives up on a stuck drain, its LostError says how many
// messages were "accepted and never written". If the stuck call then
// succeeds, Stats counts the same messages as Delivered: the LostError and
// Stats together count them twice, and Unwritten+Delivered exceeds Pushed.
func TestLostErrorDoesNotCountDeliveredMessages(t *testing.T) {
	d := newStuckDrain()
	s := New[uint32](d, Config{BatchSize: 1})
	for i := range uint32(5) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("TryPush: %v", err)
		}
	}
	<-d.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	lost := asLost(t, s.Shutdown(ctx))
	close(d.release) // the stuck call succeeds
	<-s.Done()
	st := s.Stats()
	if lost.Unwritten+lost.Failed+st.Delivered != st.Pushed {
		t.Fatalf("LostError says %d unwritten + %d failed, Stats says %d delivered, of %d pushed: counted twice",
			lost.Unwritten, lost.Failed, st.Delivered, st.Pushed)
	}
}

// Shutdown(context.Background()) on a drain that keeps failing politely
// (it honours its context, as a drain retrying a backend that is away
// does) waits for ever; net/http's shape, which the package doc cites,
// lets a later Close end it, and uds.Writer.Close does end a uds
// Shutdown in progress. sink's later Close returns ErrClosed at once and
// the Shutdown never returns.
func TestCloseEndsAShutdownInProgress(t *testing.T) {
	d := DrainFunc[uint32](func(ctx context.Context, _ []uint32) error {
		<-ctx.Done() // the backend is away until the sink gives up
		return ctx.Err()
	})
	s := New[uint32](d, Config{BatchSize: 1, CloseTimeout: 50 * time.Millisecond})
	if err := s.TryPush(1); err != nil {
		t.Fatalf("TryPush: %v", err)
	}
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	time.Sleep(20 * time.Millisecond) // Shutdown has begun
	closeErr := s.Close()
	select {
	case err := <-shut:
		if err == nil {
			t.Fatalf("Shutdown = nil; want an error: the message was not written")
		}
	case <-time.After(3 * time.Second):
		s.abort(errors.New("test cleanup")) // let the consumer end, for goleak
		<-shut
		t.Fatalf("Shutdown(Background) still waiting 3 s after Close (Close = %v); want Close to bound it", closeErr)
	}
	<-s.Done()
}

// A Shutdown that gives up on a stuck drain counts, in LostError.Failed,
// the messages of batches that failed earlier (no Flush returned their
// errors), but its Err holds only ErrStuck and the context's error: the
// drain's errors that explain Failed are dropped, although LostError's
// doc says Err joins "the drain's errors" and nothing else returns them
// after Shutdown.
func TestShutdownThatGivesUpWrapsTheDrainErrors(t *testing.T) {
	release := make(chan struct{})
	stuck := make(chan struct{})
	var calls int
	d := DrainFunc[uint32](func(ctx context.Context, _ []uint32) error {
		calls++
		if calls == 1 {
			return errBackend
		}
		close(stuck)
		<-release // ignores ctx
		return nil
	})
	s := New[uint32](d, Config{BatchSize: 1})
	for i := range uint32(3) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("TryPush: %v", err)
		}
	}
	<-stuck
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Shutdown(ctx)
	close(release)
	<-s.Done()
	lost := asLost(t, err)
	if lost.Failed != 1 {
		t.Fatalf("LostError.Failed = %d; want 1 (the first batch)", lost.Failed)
	}
	if !errors.Is(err, errBackend) {
		t.Fatalf("Shutdown = %v; want it to wrap the drain's error that made LostError.Failed", err)
	}
}

// Shutdown with a context that is already done, on a sink with nothing
// queued and a drain that is not in any call: nothing can be lost, yet
// Shutdown gives up before the consumer has had a chance to run and
// returns a *LostError counting 0 messages that wraps ErrStuck.
func TestShutdownWithADoneContextAndNothingQueuedLosesNothing(t *testing.T) {
	for range 20 {
		s := New[uint32](&countingDrain{}, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := s.Shutdown(ctx)
		<-s.Done()
		var lost *LostError
		if errors.As(err, &lost) && lost.Unwritten+lost.Failed == 0 {
			t.Fatalf("Shutdown = %v: a *LostError counting no message", err)
		}
		if errors.Is(err, ErrStuck) {
			t.Fatalf("Shutdown = %v: ErrStuck, with a drain that was never called", err)
		}
	}
}
