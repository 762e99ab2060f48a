package ring

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/ringsink/ringsink/internal/watchdog"
)

// The watchdog stress tests hunt lost wake-ups: a small ring, producers in
// every watchdog.Mode (1 and 2 beside the consumer, 3 and 8: more than the
// CPUs), and a consumer that drains and parks (Wait) whenever the ring
// looks empty. If the consumer ever sleeps through a publish, nothing else
// wakes it, the consumed count stops while records are pending, and the
// watchdog fails the test after 2 s. Each case runs for RINGSINK_STRESS
// (default 250 ms; .ci/run sets 3 s), then checks that every accepted value
// arrived, in per-producer order. Every wait policy runs (watchdog.Policies):
// parking with 1, 2, 3 and 8 producers, lingering and spinning with 1 and
// 3.

// stressProducers are the producer counts for each policy.
func stressProducers(policy string) []int {
	if policy == "park" {
		return []int{1, 2, 3, 8}
	}
	return []int{1, 3}
}

func TestWatchdogRing(t *testing.T) {
	for _, pol := range watchdog.Policies {
		for _, producers := range stressProducers(pol.Name) {
			for _, mode := range watchdog.Modes {
				t.Run(fmt.Sprintf("%s/producers=%d/%v", pol.Name, producers, mode), func(t *testing.T) {
					r := New[uint64](32)
					r.SetWait(pol.Policy)
					watchdog.RunRing(t, r, producers, mode, r.park.IsParked)
				})
			}
		}
	}
}

func TestWatchdogByteRing(t *testing.T) {
	for _, pol := range watchdog.Policies {
		for _, producers := range stressProducers(pol.Name) {
			for _, mode := range watchdog.Modes {
				t.Run(fmt.Sprintf("%s/producers=%d/%v", pol.Name, producers, mode), func(t *testing.T) {
					r := NewByteRing(4096)
					r.SetWait(pol.Policy)
					var consumed atomic.Uint64
					order := watchdog.NewOrder(producers)
					bufs := watchdog.Buffers(producers)
					watchdog.Stress{
						Producers: producers, Mode: mode, Order: order,
						Push: func(ctx context.Context, p int, seq uint64) bool {
							b := watchdog.Record(bufs[p], p, seq)
							if mode == watchdog.Blocking {
								return watchdog.Retry(ctx, func() bool { return r.TryWrite(b) })
							}
							return r.TryWrite(b)
						},
						Consume: func(ctx context.Context) error {
							recs := make([][]byte, 16)
							for {
								n := r.Peek(recs)
								for _, b := range recs[:n] {
									p, seq, err := watchdog.ParseRecord(b)
									if err != nil {
										return err
									}
									order.See(p, seq)
								}
								r.Release(n)
								consumed.Add(uint64(n))
								if n == 0 && r.Wait(ctx) != nil {
									return nil
								}
							}
						},
						Consumed: consumed.Load,
						Pending:  func() bool { return r.Pending() > 0 },
						Wake:     r.Wake,
						Diag:     func() string { return fmt.Sprintf("pending %d, parked %v", r.Pending(), r.park.IsParked()) },
					}.Run(t)
				})
			}
		}
	}
}
