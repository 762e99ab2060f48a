package mpsc

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/loov/hrtime"

	"github.com/ringsink/ringsink/internal/hist"
)

// BenchmarkPaced: one producer pushes b.N values at a steady pace, one
// every gap (it spins between them, like a service busy with its own
// work), to a consumer that drains batches and parks in Wait, as sink and
// uds do; and the same through a channel, whose consumer ranges over it.
// Unlike BenchmarkPush, the ring is never full: this is the cost of the
// consumer's wait when values come at a pace. ns/op is about the gap (the
// pace holds; full/value counts pushes that found the ring full, when the
// consumer did not get a CPU for 1024 values, and retried); push-p50-ns, push-p99-ns and push-p99.9-ns time each push
// call, which pays the consumer's wake-up when it had parked;
// cpu-ns/value is the process's CPU time (user and system) per value: the
// producer's gap, plus the consumer's spin, its wake-ups and the
// producer's wake calls; deliver-p50-ns and deliver-p99-ns time each
// value from its push to the consumer's pop.
func BenchmarkPaced(b *testing.B) {
	gaps := []time.Duration{500 * time.Nanosecond, time.Microsecond, 2 * time.Microsecond, 4 * time.Microsecond, 8 * time.Microsecond, 16 * time.Microsecond,
		128 * time.Microsecond, time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond} // the last four: -benchtime 2000x or so
	for _, gap := range gaps {
		for _, impl := range []string{"mpsc", "chan"} {
			b.Run(fmt.Sprintf("impl=%s/gap=%s", impl, gap), func(b *testing.B) {
				b.ReportAllocs()
				var push func(int) bool
				done := make(chan struct{})
				// Each value is its push's TSC stamp; the consumer records
				// how long it took to reach it (a batch's values, when
				// it pops the batch).
				nsPerTick := float64(hrtime.Count(1<<20).ApproxDuration()) / (1 << 20)
				delivery := hist.New()
				deliver := func(v int) {
					delivery.Record(uint64(float64(hrtime.TSC()-hrtime.Count(v)) * nsPerTick))
				}
				switch impl {
				case "mpsc":
					r := New[int](1024)
					push = r.TryPush
					go func() {
						defer close(done)
						dst := make([]int, 128)
						for got := 0; got < b.N; {
							k := r.TryPopBatch(dst)
							if k == 0 {
								_ = r.Wait(context.Background())
							}
							for _, v := range dst[:k] {
								deliver(v)
							}
							got += k
						}
					}()
				case "chan":
					ch := make(chan int, 1024)
					push = func(v int) bool { ch <- v; return true }
					go func() {
						defer close(done)
						for range b.N {
							deliver(<-ch)
						}
					}()
				}
				h := hist.New()
				full := 0
				cpu0, cpuOK := cpuTime()
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					for due := time.Duration(i+1) * gap; time.Since(start) < due; {
					}
					t0 := hrtime.TSC()
					if !push(int(t0)) {
						// The consumer fell 1024 values behind (it did not
						// get a CPU): count it, and retry as BenchmarkPush does.
						full++
						for !push(int(t0)) {
							runtime.Gosched()
						}
					}
					h.Record(uint64(float64(hrtime.TSC()-t0) * nsPerTick))
				}
				<-done
				b.StopTimer()
				if cpu1, _ := cpuTime(); cpuOK {
					b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/value")
				}
				b.ReportMetric(float64(h.Quantile(.5)), "push-p50-ns")
				b.ReportMetric(float64(h.Quantile(.99)), "push-p99-ns")
				b.ReportMetric(float64(h.Quantile(.999)), "push-p99.9-ns")
				b.ReportMetric(float64(full)/float64(b.N), "full/value")
				b.ReportMetric(float64(delivery.Quantile(.5)), "deliver-p50-ns")
				b.ReportMetric(float64(delivery.Quantile(.99)), "deliver-p99-ns")
			})
		}
	}
}
