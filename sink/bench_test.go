package sink

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
)

type nopDrain struct{}

func (nopDrain) WriteBatch(context.Context, []int) error { return nil }

// gatedDrain blocks every WriteBatch until the current gate is closed, so
// TryPush is measured on the producer side alone, with room in the queue.
type gatedDrain struct{ gate atomic.Pointer[chan struct{}] }

func (d *gatedDrain) WriteBatch(ctx context.Context, _ []int) error {
	select {
	case <-*d.gate.Load():
	case <-ctx.Done():
	}
	return nil
}

type pusher interface{ TryPush(int) error }

// BenchmarkTryPush pushes from 1, 4 and 8 goroutines into a sink whose drain
// is gated (the queue has room and nothing is consumed: the producer side
// alone) or live (a no-op drain; producers may outrun the consumer and be
// refused, reported as refused/op), against the same sink built on a
// buffered channel. ns/op is per push.
func BenchmarkTryPush(b *testing.B) {
	const capa, batch = 1 << 16, 256
	for _, producers := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("impl=sink/drain=gated/producers=%d", producers), func(b *testing.B) {
			d := &gatedDrain{}
			s := New[int](d, Config{QueueCapacity: capa, BatchSize: batch, FlushInterval: time.Hour})
			benchGated(b, d, s, producers, capa-2*batch, func(int) { _ = s.Flush(context.Background()) })
			_ = s.Close()
		})
		b.Run(fmt.Sprintf("impl=chan/drain=gated/producers=%d", producers), func(b *testing.B) {
			d := &gatedDrain{}
			var written atomic.Uint64
			s := baseline.NewChanSink(capa, batch, func(ctx context.Context, v []int) error {
				err := d.WriteBatch(ctx, v)
				written.Add(uint64(len(v)))
				return err
			})
			benchGated(b, d, s, producers, capa-2*batch, func(pushed int) {
				for written.Load() < uint64(pushed) { // every push succeeded: the queue had room
					runtime.Gosched()
				}
			})
			s.Close()
		})
		b.Run(fmt.Sprintf("impl=sink/drain=live/producers=%d", producers), func(b *testing.B) {
			s := New[int](nopDrain{}, Config{QueueCapacity: capa, BatchSize: batch, FlushInterval: time.Hour})
			benchLive(b, s, producers)
			_ = s.Close()
		})
		b.Run(fmt.Sprintf("impl=chan/drain=live/producers=%d", producers), func(b *testing.B) {
			s := baseline.NewChanSink(capa, batch, nopDrain{}.WriteBatch)
			benchLive(b, s, producers)
			s.Close()
		})
	}
}

// benchGated pushes b.N values in rounds of at most `round`: each round
// closes the drain's gate only after the timed pushes, then empties the
// queue with the timer stopped (empty gets the number pushed so far).
func benchGated(b *testing.B, d *gatedDrain, s pusher, producers, round int, empty func(pushed int)) {
	b.ReportAllocs()
	var refused atomic.Uint64
	for done := 0; done < b.N; {
		n := min(b.N-done, round)
		gate := make(chan struct{})
		d.gate.Store(&gate)
		baseline.Run(b, n, producers, func(_, _ int) {
			if s.TryPush(1) != nil {
				refused.Add(1)
			}
		})
		close(gate)
		done += n
		empty(done)
	}
	b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
}

func benchLive(b *testing.B, s pusher, producers int) {
	b.ReportAllocs()
	var refused atomic.Uint64
	baseline.Run(b, b.N, producers, func(_, _ int) {
		if s.TryPush(1) != nil {
			refused.Add(1)
		}
	})
	b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
}
