package mpsc

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseIsAnExactEnd races producers against Close: once Close has
// returned, the consumer drains until the ring is empty, and must have got
// exactly the pushes that reported true; every push after Close returned
// reports false. Without it a push that passed its caller's "closed?" check
// could land after the consumer's final drain (sink and uds Close).
func TestCloseIsAnExactEnd(t *testing.T) {
	for _, kind := range []string{"Ring", "ByteRing"} {
		for _, producers := range []int{1, 4, 16} {
			t.Run(fmt.Sprintf("%s/producers=%d", kind, producers), func(t *testing.T) {
				for round := range 50 {
					closeRound(t, kind, producers, round)
				}
			})
		}
	}
}

func closeRound(t *testing.T, kind string, producers, round int) {
	var push func() bool
	var drain func() int
	var closeRing func()
	var empty func() bool
	switch kind {
	case "Ring":
		r := New[int](64)
		push = func() bool { return r.TryPush(1) }
		dst := make([]int, 16)
		drain = func() int { return r.TryPopBatch(dst) }
		closeRing, empty = r.Close, func() bool { return r.Len() == 0 }
	default:
		r := NewByteRing(1024)
		rec := make([]byte, 24)
		push = func() bool { return r.TryWrite(rec) }
		dst := make([][]byte, 16)
		drain = func() int { return r.Release(r.Peek(dst)) }
		closeRing, empty = r.Close, func() bool { return r.Len() == 0 }
	}
	var accepted, lateAccepted atomic.Int64
	var closed atomic.Bool
	var wg sync.WaitGroup
	for range producers {
		wg.Go(func() {
			for i := 0; ; i++ {
				after := closed.Load() // Close had returned before this push began
				ok := push()
				if ok {
					accepted.Add(1)
					if after {
						lateAccepted.Add(1)
					}
				}
				if after {
					return
				}
				if !ok || i%8 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	got := 0
	stop := time.Now().Add(time.Duration(round%5) * 100 * time.Microsecond)
	for time.Now().Before(stop) {
		got += drain()
	}
	closeRing()
	closed.Store(true)
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for !empty() || got < int(accepted.Load()) {
		got += drain()
		if time.Now().After(deadline) {
			t.Fatalf("round %d: drained %d of %d accepted; ring not empty", round, got, accepted.Load())
		}
	}
	if n := lateAccepted.Load(); n > 0 {
		t.Fatalf("round %d: %d pushes accepted after Close returned", round, n)
	}
	if n := drain(); n != 0 || int64(got) != accepted.Load() {
		t.Fatalf("round %d: drained %d (+%d late); accepted %d", round, got, n, accepted.Load())
	}
}
