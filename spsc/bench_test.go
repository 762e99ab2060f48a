package spsc

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/ringsink/ringsink/internal/baseline"
)

// BenchmarkPushPop moves b.N values from one producer goroutine to the
// benchmark goroutine; ns/op is per value. The producer pushes one value at
// a time and yields when the ring is full. The consumer comes in five
// styles, so the figure does not depend on one harness: one value per
// TryPop in a tight loop (spin) or yielding when the ring is empty (pop),
// batches of up to 256 yielding when empty (drain) or parking in Wait
// (wait: the way sink and uds use their mpsc ring; values/batch is the
// mean batch), and both sides moving batches of 64 (batch). The channel
// baseline has the same capacity. The capacities are the one the other
// benchmarks use and latbench's. Each reports the
// core-to-core round trip before and after it (rtt-before-ns, rtt-after-ns;
// internal/baseline.RunRTT): on a shared VM the spsc figures follow it, the
// channel's less.
func BenchmarkPushPop(b *testing.B) {
	for _, capa := range []int{1024, 16384} {
		for _, style := range []string{"spin", "pop"} {
			baseline.RunRTT(b, fmt.Sprintf("impl=spsc-%s/cap=%d", style, capa), func(b *testing.B) {
				r := New[int](capa)
				go pushAll(r, b.N)
				for got := 0; got < b.N; {
					if _, ok := r.TryPop(); ok {
						got++
					} else if style == "pop" {
						runtime.Gosched()
					}
				}
			})
		}
		for _, style := range []string{"drain", "wait"} {
			baseline.RunRTT(b, fmt.Sprintf("impl=spsc-%s/cap=%d", style, capa), func(b *testing.B) {
				r := New[int](capa)
				go pushAll(r, b.N)
				dst := make([]int, 256)
				polls := 0
				for got := 0; got < b.N; {
					n := r.TryPopBatch(dst)
					switch {
					case n > 0:
						polls++
					case style == "wait":
						_ = r.Wait(context.Background())
					default:
						runtime.Gosched()
					}
					got += n
				}
				b.ReportMetric(float64(b.N)/float64(max(polls, 1)), "values/batch")
			})
		}
		const batch = 64
		baseline.RunRTT(b, fmt.Sprintf("impl=spsc-batch/cap=%d/batch=%d", capa, batch), func(b *testing.B) {
			r := New[int](capa)
			go func() {
				src := make([]int, batch)
				for i := 0; i < b.N; {
					n := r.TryPushBatch(src[:min(batch, b.N-i)])
					if n == 0 {
						runtime.Gosched()
					}
					i += n
				}
			}()
			dst := make([]int, batch)
			for got := 0; got < b.N; {
				n := r.TryPopBatch(dst)
				if n == 0 {
					runtime.Gosched()
				}
				got += n
			}
		})
		baseline.RunRTT(b, fmt.Sprintf("impl=chan/cap=%d", capa), func(b *testing.B) {
			ch := make(chan int, capa)
			go func() {
				for i := range b.N {
					ch <- i
				}
			}()
			for range b.N {
				<-ch
			}
		})
	}
}

// pushAll pushes 0..n-1 one at a time, yielding when the ring is full.
func pushAll(r *Ring[int], n int) {
	for i := 0; i < n; {
		if r.TryPush(i) {
			i++
		} else {
			runtime.Gosched()
		}
	}
}

// BenchmarkPushFull measures a push that fails because the ring is full,
// against a failed non-blocking channel send.
func BenchmarkPushFull(b *testing.B) {
	b.Run("impl=spsc", func(b *testing.B) {
		b.ReportAllocs()
		r := New[int](2)
		r.TryPush(1)
		r.TryPush(2)
		for b.Loop() {
			r.TryPush(3)
		}
	})
	b.Run("impl=chan", func(b *testing.B) {
		b.ReportAllocs()
		ch := make(chan int, 2)
		ch <- 1
		ch <- 2
		for b.Loop() {
			select {
			case ch <- 3:
			default:
			}
		}
	})
}
