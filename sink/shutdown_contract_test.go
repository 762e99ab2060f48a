package sink

import (
	"context"
	"errors"
	"sync/atomic"
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

// A drain that calls Close on its own sink waits for the consumer, which
// is itself: Close returns once CloseTimeout and the grace have passed,
// with ErrStuck and the drain's message in flight, and the shutdown goes
// on when the drain returns. It must not wait for ever.
func TestCloseFromTheDrainReturns(t *testing.T) {
	var s *Sink[uint32]
	var calls atomic.Int32
	inner := make(chan error, 1)
	d := DrainFunc[uint32](func(context.Context, []uint32) error {
		if calls.Add(1) == 1 {
			inner <- s.Close()
		}
		return nil
	})
	s = New[uint32](d, Config{BatchSize: 1, CloseTimeout: 50 * time.Millisecond})
	if err := s.TryPush(1); err != nil {
		t.Fatalf("TryPush: %v", err)
	}
	var err error
	select {
	case err = <-inner:
	case <-time.After(10 * time.Second):
		t.Fatalf("Close called from the drain still waiting after 10 s with CloseTimeout 50ms")
	}
	if !errors.Is(err, ErrStuck) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close from the drain = %v; want it to wrap ErrStuck and context.DeadlineExceeded", err)
	}
	if got, want := asLost(t, err).InFlight, uint64(1); got != want {
		t.Fatalf("LostError.InFlight = %v; want %v (the batch of the drain call that called Close)", got, want)
	}
	<-s.Done()
	if got := s.Close(); got != err {
		t.Fatalf("a later Close = %v; want the shutdown's result %v", got, err)
	}
	if got, want := s.Stats().Delivered, uint64(1); got != want {
		t.Fatalf("Stats().Delivered = %v; want %v", got, want)
	}
}

// A Flush waiting on a drain stuck in a call that ignores its context
// returns ErrClosed once a shutdown gives up, instead of waiting for the
// drain.
func TestFlushWaitingOnAStuckDrainReturnsWhenShutdownGivesUp(t *testing.T) {
	d := newStuckDrain()
	s := New[uint32](d, Config{BatchSize: 1})
	defer func() { close(d.release); <-s.Done() }()
	if err := s.TryPush(1); err != nil {
		t.Fatalf("TryPush: %v", err)
	}
	<-d.entered
	flushed := make(chan error, 1)
	go func() { flushed <- s.Flush(context.Background()) }()
	eventually(t, 10*time.Second, s.hasFlush.Load) // registered, before the shutdown begins
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, ErrStuck) {
		t.Fatalf("Shutdown = %v; want it to wrap ErrStuck", err)
	}
	select {
	case err := <-flushed:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Flush = %v; want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Flush still waiting 10 s after Shutdown gave up")
	}
}

// A producer that passed TryPush's closed check before a shutdown gave up
// on a stuck drain, and reaches the queue after it, is refused: the
// give-up closes the queue before it counts, so every push that returned
// nil is in the LostError or in Stats. (It used to land in the queue,
// return nil, and be neither written nor counted.)
func TestPushLandingAfterAGiveUpIsRefused(t *testing.T) {
	d := newStuckDrain()
	s := New[uint32](d, Config{BatchSize: 1})
	for i := range uint32(3) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("TryPush: %v", err)
		}
	}
	<-d.entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	lost := asLost(t, s.Shutdown(ctx))
	// What TryPush does after its closed check, for a producer that
	// read "not closed" before the shutdown began.
	late := s.ring.TryPush(99)
	close(d.release)
	<-s.Done()
	if late {
		t.Fatalf("a push reaching the queue after the give-up was accepted")
	}
	st := s.Stats()
	if got, want := lost.Unwritten+lost.InFlight, uint64(3); got != want {
		t.Fatalf("Unwritten+InFlight = %v; want %v", got, want)
	}
	if got, want := lost.Unwritten+st.Delivered+st.Failed, st.Pushed; got != want {
		t.Fatalf("once Done: Unwritten+Delivered+Failed = %v; want Pushed = %v", got, want)
	}
}
