package mpsc

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ringsink/ringsink/internal/baseline"
)

// BenchmarkPush moves b.N values from `producers` goroutines to one consumer
// goroutine; ns/op is per value. Producers retry a full ring with a yield
// (the package's contract). The consumer comes in three styles, so the
// figure does not depend on one harness: "mpsc" drains batches of 128 and
// parks in Wait when the ring is empty (as sink and uds do), "mpsc-drain"
// drains batches of 256 and yields when empty, "mpsc-pop" takes one value
// per TryPop and yields when empty. The channel baseline has the same
// capacity, blocking sends, and a consumer that ranges over it. Each
// reports the core-to-core round trip before and after it (rtt-before-ns,
// rtt-after-ns; internal/baseline.RunRTT): on a shared VM the ring's figures
// follow it.
func BenchmarkPush(b *testing.B) {
	const capa = 1024
	for _, producers := range []int{1, 4, 16} {
		consumers := []struct {
			name string
			run  func(r *Ring[int], n int)
		}{
			{"mpsc", func(r *Ring[int], n int) {
				dst := make([]int, 128)
				for got := 0; got < n; {
					k := r.TryPopBatch(dst)
					if k == 0 {
						_ = r.Wait(context.Background())
					}
					got += k
				}
			}},
			{"mpsc-drain", func(r *Ring[int], n int) {
				dst := make([]int, 256)
				for got := 0; got < n; {
					k := r.TryPopBatch(dst)
					if k == 0 {
						runtime.Gosched()
					}
					got += k
				}
			}},
			{"mpsc-pop", func(r *Ring[int], n int) {
				for got := 0; got < n; {
					if _, ok := r.TryPop(); ok {
						got++
					} else {
						runtime.Gosched()
					}
				}
			}},
		}
		for _, c := range consumers {
			baseline.RunRTT(b, fmt.Sprintf("impl=%s/producers=%d/cap=%d", c.name, producers, capa), func(b *testing.B) {
				r := New[int](capa)
				done := make(chan struct{})
				go func() {
					c.run(r, b.N)
					close(done)
				}()
				baseline.Run(nil, b.N, producers, func(_, i int) {
					for !r.TryPush(i) {
						runtime.Gosched()
					}
				})
				<-done
			})
		}
		baseline.RunRTT(b, fmt.Sprintf("impl=chan/producers=%d/cap=%d", producers, capa), func(b *testing.B) {
			ch := make(chan int, capa)
			done := make(chan struct{})
			go func() {
				for range b.N {
					<-ch
				}
				close(done)
			}()
			baseline.Run(nil, b.N, producers, func(_, i int) { ch <- i })
			<-done
		})
	}
}

// BenchmarkPushFull measures a push that fails because the ring is full,
// against a failed non-blocking channel send.
func BenchmarkPushFull(b *testing.B) {
	b.Run("impl=mpsc", func(b *testing.B) {
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

// BenchmarkByteRingWrite copies records of each size from `producers`
// goroutines into a ByteRing drained by one consumer (Peek, Release, Wait),
// against the usual Go way: a chan []byte where each record is copied into a
// freshly allocated slice. ns/op is per record.
func BenchmarkByteRingWrite(b *testing.B) {
	for _, size := range []int{64, 128, 1024} {
		for _, producers := range []int{1, 4, 16} {
			baseline.RunRTT(b, fmt.Sprintf("impl=bytering/size=%d/producers=%d", size, producers), func(b *testing.B) {
				b.SetBytes(int64(size))
				r := NewByteRing(1 << 20)
				done := make(chan struct{})
				go func() {
					dst := make([][]byte, 256)
					for got := 0; got < b.N; {
						n := r.Peek(dst)
						if n == 0 {
							_ = r.Wait(context.Background())
							continue
						}
						got += r.Release(n)
					}
					close(done)
				}()
				rec := make([]byte, size)
				baseline.Run(nil, b.N, producers, func(_, _ int) {
					for !r.TryWrite(rec) {
						runtime.Gosched()
					}
				})
				<-done
			})
			baseline.RunRTT(b, fmt.Sprintf("impl=chan-copy/size=%d/producers=%d", size, producers), func(b *testing.B) {
				b.SetBytes(int64(size))
				ch := make(chan []byte, (1<<20)/size)
				done := make(chan struct{})
				go func() {
					for range b.N {
						<-ch
					}
					close(done)
				}()
				rec := make([]byte, size)
				baseline.Run(nil, b.N, producers, func(_, _ int) {
					ch <- append([]byte(nil), rec...)
				})
				<-done
			})
		}
	}
}

// BenchmarkOverload: more producers than cores, each pushing as fast as it
// can and dropping what is refused (drop-newest), until the consumer has
// received b.N values. ns/op is per delivered value, refused/op the pushes
// refused per delivered value (per b.N; the consumer may take up to a batch
// more). A producer yields (runtime.Gosched) after
// every yield-th refusal, never with yield=0: the package documentation
// asks a caller that keeps pushing into a full ring to yield now and then,
// and this shows why. The channel baseline has the same capacity, a
// non-blocking send and the same policy; its consumer ranges over it.
// Run it with -benchtime well above the capacity (300000x, say): below it
// the ring never fills.
func BenchmarkOverload(b *testing.B) {
	const capa = 1 << 14
	for _, producers := range []int{4, 16} {
		for _, yield := range []int{0, 8, 1} {
			b.Run(fmt.Sprintf("impl=mpsc/producers=%d/yield=%d", producers, yield), func(b *testing.B) {
				b.ReportAllocs()
				r := New[int](capa)
				overload(b, producers, yield, func() bool { return r.TryPush(1) }, func() {
					dst := make([]int, 256)
					for got := 0; got < b.N; {
						n := r.TryPopBatch(dst)
						if n == 0 {
							_ = r.Wait(context.Background())
						}
						got += n
					}
				})
			})
			b.Run(fmt.Sprintf("impl=chan/producers=%d/yield=%d", producers, yield), func(b *testing.B) {
				b.ReportAllocs()
				ch := make(chan int, capa)
				overload(b, producers, yield, func() bool {
					select {
					case ch <- 1:
						return true
					default:
						return false
					}
				}, func() {
					for range b.N {
						<-ch
					}
				})
			})
		}
	}
}

// overload runs the producers of BenchmarkOverload around consume, which
// returns once it has received b.N values (or a batch more).
func overload(b *testing.B, producers, yield int, push func() bool, consume func()) {
	var stop atomic.Bool
	var refused atomic.Uint64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range producers {
		wg.Go(func() {
			var no uint64
			for !stop.Load() {
				if !push() {
					no++
					if yield > 0 && no%uint64(yield) == 0 {
						runtime.Gosched()
					}
				}
			}
			refused.Add(no)
		})
	}
	consume()
	b.StopTimer()
	stop.Store(true) // refusals until the producers see it are counted too
	wg.Wait()
	b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
}
