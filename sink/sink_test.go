package sink

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// countingDrain counts written messages and records batch sizes.
type countingDrain struct {
	count atomic.Uint64
	mu    sync.Mutex
	sizes []int
	got   []uint32
}

func (d *countingDrain) WriteBatch(_ context.Context, b []uint32) error {
	d.count.Add(uint64(len(b)))
	d.mu.Lock()
	d.sizes = append(d.sizes, len(b))
	d.got = append(d.got, b...)
	d.mu.Unlock()
	return nil
}

func (d *countingDrain) batchSizes() []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.sizes)
}

// throttledDrain blocks every WriteBatch until release is closed (the seed's
// Notify-gated drain) or the sink's context is cancelled.
type throttledDrain struct {
	release chan struct{}
	count   atomic.Uint64
}

func (d *throttledDrain) WriteBatch(ctx context.Context, b []uint32) error {
	select {
	case <-d.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	d.count.Add(uint64(len(b)))
	return nil
}

// eventually fails the test unless cond becomes true within timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

func fastConfig() Config {
	return Config{QueueCapacity: 1024, BatchSize: 16, FlushInterval: 20 * time.Millisecond}
}

func closeSink[T any](t *testing.T, s *Sink[T]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("s.Shutdown(ctx): %v", err)
	}
}

// Seed: try_push_succeeds_when_queue_has_space.
func TestTryPushSucceedsWhenQueueHasSpace(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, fastConfig())
	defer closeSink(t, s)
	for i := range uint32(10) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("queue has space: s.TryPush(i): %v", err)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("s.Flush(context.Background()): %v", err)
	}
	if got, want := d.count.Load(), uint64(10); got != want {
		t.Fatalf("d.count.Load() = %v; want %v", got, want)
	}
}

// Seed: try_push_returns_overflow_when_full. The seed ran on a
// single-threaded runtime where the actor could not run during the pushes;
// here the consumer runs in parallel, so BatchSize is 1: the consumer takes
// one message, blocks in the gated WriteBatch, and the 4-slot queue fills.
func TestTryPushReturnsOverflowWhenFull(t *testing.T) {
	d := &throttledDrain{release: make(chan struct{})}
	s := New[uint32](d, Config{QueueCapacity: 4, BatchSize: 1, FlushInterval: time.Minute})
	var accepted, overflowed uint64
	for i := range uint32(20) {
		switch err := s.TryPush(i); {
		case err == nil:
			accepted++
		case errors.Is(err, ErrOverflow):
			overflowed++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if got := overflowed; got <= 0 {
		t.Fatalf("expected at least one overflow: overflowed = %v; want > 0", got)
	}
	if got, want := s.Stats().Dropped, overflowed; got != want {
		t.Fatalf("s.Stats().Dropped = %v; want %v", got, want)
	}
	if got := accepted; got < uint64(4) {
		t.Fatalf("should accept at least queue_capacity: accepted = %v; want >= %v", got, uint64(4))
	}
	close(d.release)
	closeSink(t, s)
	if got, want := d.count.Load(), accepted; got != want {
		t.Fatalf("every accepted message is written at Close: d.count.Load() = %v; want %v", got, want)
	}
}

// Seed: flush_waits_for_pre_flush_messages.
func TestFlushWaitsForPreFlushMessages(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, fastConfig())
	defer closeSink(t, s)
	for i := range uint32(100) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("s.TryPush(i): %v", err)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("s.Flush(context.Background()): %v", err)
	}
	if got, want := d.count.Load(), uint64(100); got != want {
		t.Fatalf("d.count.Load() = %v; want %v", got, want)
	}
}

// Seed: shutdown_drains_remaining_queue.
func TestShutdownDrainsRemainingQueue(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, fastConfig())
	for i := range uint32(50) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("s.TryPush(i): %v", err)
		}
	}
	closeSink(t, s)
	if got, want := d.count.Load(), uint64(50); got != want {
		t.Fatalf("d.count.Load() = %v; want %v", got, want)
	}
}

// Seed: dropped_counter_reflects_overflow_count. BatchSize 1 for the same
// reason as in TestTryPushReturnsOverflowWhenFull.
func TestDroppedCounterReflectsOverflowCount(t *testing.T) {
	d := &throttledDrain{release: make(chan struct{})}
	s := New[uint32](d, Config{QueueCapacity: 2, BatchSize: 1, FlushInterval: time.Minute})
	var refused uint64
	for i := range uint32(100) {
		if s.TryPush(i) != nil {
			refused++
		}
	}
	st := s.Stats()
	if got := st.Dropped; got < uint64(90) {
		t.Fatalf("dropped=%d: st.Dropped = %v; want >= %v", st.Dropped, got, uint64(90))
	}
	if got, want := st.Dropped, refused; got != want {
		t.Fatalf("st.Dropped = %v; want %v", got, want)
	}
	if got, want := st.Pushed+st.Dropped, uint64(100); got != want {
		t.Fatalf("st.Pushed+st.Dropped = %v; want %v", got, want)
	}
	close(d.release)
	closeSink(t, s)
}

// Seed: try_push_stays_fast_under_load.
func TestTryPushStaysFastUnderLoad(t *testing.T) {
	d := &throttledDrain{release: make(chan struct{})}
	s := New[uint32](d, Config{QueueCapacity: 100_000, BatchSize: 256, FlushInterval: time.Minute})
	start := time.Now()
	for i := range uint32(10_000) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("queue has space: s.TryPush(i): %v", err)
		}
	}
	avg := time.Since(start) / 10_000
	if got := avg; got >= 50*time.Microsecond {
		t.Fatalf("try_push average %v under load with a gated drain: avg = %v; want < %v", avg, got, 50*time.Microsecond)
	}
	close(d.release)
	closeSink(t, s)
}

// Seed: many_concurrent_producers_dont_block_each_other.
func TestManyConcurrentProducersDontBlockEachOther(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, Config{QueueCapacity: 100_000, BatchSize: 1024, FlushInterval: 5 * time.Millisecond})
	defer closeSink(t, s)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range uint32(1000) {
				if err := s.TryPush(i); err != nil {
					t.Errorf("TryPush: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("s.Flush(context.Background()): %v", err)
	}
	if got, want := d.count.Load(), uint64(8000); got != want {
		t.Fatalf("d.count.Load() = %v; want %v", got, want)
	}
}

// Seed: flush_completes_quickly_when_queue_is_already_empty.
func TestFlushCompletesQuicklyWhenQueueIsEmpty(t *testing.T) {
	s := New[uint32](&countingDrain{}, fastConfig())
	defer closeSink(t, s)
	start := time.Now()
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("s.Flush(context.Background()): %v", err)
	}
	if got := time.Since(start); got >= 50*time.Millisecond {
		t.Fatalf("time.Since(start) = %v; want < %v", got, 50*time.Millisecond)
	}
}

// slowDrain sleeps 50 ms per batch.
type slowDrain struct{ count atomic.Uint64 }

func (d *slowDrain) WriteBatch(_ context.Context, b []uint32) error {
	time.Sleep(50 * time.Millisecond)
	d.count.Add(uint64(len(b)))
	return nil
}

// Seed: slow_drain_doesnt_block_consumer (the producer). The bound is the
// seed's: the worst of 200 pushes under 5 ms while every batch takes 50 ms.
// With both CPUs busy the operating system can take the processor away
// from the test for longer than that in the middle of a push, so the 200
// pushes get up to three attempts, each on a sink whose drain is busy; a
// producer that waited for the drain would exceed the bound in every one.
func TestSlowDrainDoesntBlockProducer(t *testing.T) {
	var worsts []time.Duration
	for range 3 {
		s := New[uint32](&slowDrain{}, Config{QueueCapacity: 10_000, BatchSize: 16, FlushInterval: 5 * time.Millisecond})
		var worst time.Duration
		for i := range uint32(200) {
			t0 := time.Now()
			if err := s.TryPush(i); err != nil {
				t.Fatalf("s.TryPush(i): %v", err)
			}
			worst = max(worst, time.Since(t0))
		}
		closeSink(t, s)
		if worst < 5*time.Millisecond {
			return
		}
		worsts = append(worsts, worst)
	}
	t.Fatalf("slow drain leaked back to the producer: the worst push of each attempt took %v (bound 5ms)", worsts)
}
