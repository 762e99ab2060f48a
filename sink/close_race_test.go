package sink

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/watchdog"
)

// Close and Shutdown race TryPush, Push and Flush from many goroutines,
// with a drain that fails some batches and is slow but honours its
// context: every Close and Shutdown returns the same result (one shutdown,
// ended by the earliest bound), every push that returned nil is Pushed,
// Stats' conservation law holds once the consumer is done, and a
// *LostError counts exactly what Stats says was not delivered.
func TestCloseRacesShutdownPushAndFlush(t *testing.T) {
	for round := range 30 {
		var n atomic.Uint64
		d := DrainFunc[uint32](func(ctx context.Context, b []uint32) error {
			if n.Add(1)%5 == 0 {
				return errBackend
			}
			select {
			case <-time.After(50 * time.Microsecond):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		s := New[uint32](d, Config{QueueCapacity: 64, BatchSize: 4, CloseTimeout: time.Duration(round%3) * time.Millisecond})
		var accepted atomic.Uint64
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				for i := uint32(0); ; i++ {
					var err error
					if g%2 == 0 {
						err = s.TryPush(i)
					} else {
						err = s.Push(ctx, i)
					}
					switch {
					case err == nil:
						accepted.Add(1)
					case errors.Is(err, ErrClosed):
						return
					}
				}
			})
		}
		for range 2 {
			wg.Go(func() {
				for {
					ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
					err := s.Flush(ctx)
					cancel()
					if errors.Is(err, ErrClosed) {
						return
					}
				}
			})
		}
		time.Sleep(2 * time.Millisecond)
		closed := watchdog.Closers(6, s.Close, s.Shutdown, time.Millisecond)
		var results []error
		finished := make(chan struct{})
		go func() { results = closed(); wg.Wait(); <-s.Done(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: still running 10 s after Close", round)
		}
		first := results[0]
		for i, err := range results {
			if err != first {
				t.Fatalf("round %d: call %d returned %v, call 0 %v; want every Close and Shutdown to return the same result", round, i, err, first)
			}
		}
		if errors.Is(first, ErrClosed) {
			t.Fatalf("round %d: shutdown = %v; want its result, not ErrClosed", round, first)
		}
		st := s.Stats()
		if st.Pushed != accepted.Load() {
			t.Fatalf("round %d: Pushed %d; pushes that returned nil %d", round, st.Pushed, accepted.Load())
		}
		if st.Pushed != st.Delivered+st.Failed+st.Pending {
			t.Fatalf("round %d: Pushed %d != Delivered %d + Failed %d + Pending %d", round, st.Pushed, st.Delivered, st.Failed, st.Pending)
		}
		var lost *LostError
		if errors.As(first, &lost) {
			if lost.Unwritten > st.Pending+st.Failed || lost.Unwritten+lost.Failed > st.Pending+st.Failed {
				t.Fatalf("round %d: LostError %+v counts more than Stats leaves undelivered (Pending %d, Failed %d)", round, *lost, st.Pending, st.Failed)
			}
			// LostError's law, once Done is closed.
			if lost.Unwritten != st.Pending || lost.Failed > st.Failed {
				t.Fatalf("round %d: LostError %+v; Stats once Done: Pending %d, Failed %d; want Unwritten == Pending and Failed <= Stats.Failed", round, *lost, st.Pending, st.Failed)
			}
		} else if st.Pending != 0 {
			t.Fatalf("round %d: shutdown = %v, but %d messages are still pending", round, first, st.Pending)
		}
	}
}
