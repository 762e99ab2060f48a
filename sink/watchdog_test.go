package sink

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/watchdog"
)

// orderDrain feeds every written value to a watchdog.Order.
type orderDrain struct {
	order   *watchdog.Order
	written atomic.Uint64
}

func (d *orderDrain) WriteBatch(_ context.Context, b []uint64) error {
	for _, v := range b {
		d.order.See(int(v>>48), v&(1<<48-1))
	}
	d.written.Add(uint64(len(b)))
	return nil
}

// TestWatchdog hunts lost wake-ups in both directions: the consumer parking
// on an empty queue (TryPush modes) and Push parking on a full one
// (blocking mode, park.Room). See internal/watchdog for the modes. Every
// wait policy runs: the default (a linger) with 1, 2, 3 and 8 producers,
// park and spin with 1 and 3.
func TestWatchdog(t *testing.T) {
	for _, c := range watchdog.LingerDefaultCases() {
		for _, mode := range watchdog.Modes {
			t.Run(fmt.Sprintf("%s/producers=%d/%v", c.Name, c.Producers, mode), func(t *testing.T) {
				producers := c.Producers
				d := &orderDrain{order: watchdog.NewOrder(producers)}
				// BatchSize 1 in credit mode: every value is written at once,
				// so the consumer parks with an empty batch (no timer).
				batch := 8
				if mode == watchdog.Credit {
					batch = 1
				}
				s := New[uint64](d, Config{QueueCapacity: 32, BatchSize: batch, FlushInterval: 50 * time.Microsecond, Wait: c.Policy})
				watchdog.Stress{
					Producers: producers, Mode: mode, Order: d.order,
					Push: func(ctx context.Context, p int, seq uint64) bool {
						v := uint64(p)<<48 | seq
						if mode == watchdog.Blocking {
							return s.Push(ctx, v) == nil
						}
						return s.TryPush(v) == nil
					},
					Consumed: d.written.Load,
					Pending:  func() bool { return s.Stats().Pending > 0 },
					Wake:     s.ring.Wake,
					Diag: func() string {
						st := s.Stats()
						return fmt.Sprintf("pending %d, ring %d", st.Pending, s.ring.Len())
					},
				}.Run(t)
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
