package baseline

import (
	"sync"
	"testing"

	"github.com/loov/hrtime"

	"github.com/ringsink/ringsink/internal/hist"
)

// TimedParallel runs b.N calls of f over exactly `producers` goroutines,
// timing each call with the TSC, and reports p50/p99/p99.9/max in ns as
// benchmark metrics next to ns/op.
func TimedParallel(b *testing.B, producers int, f func()) {
	nsPerTick := float64(hrtime.Count(1<<20).ApproxDuration()) / (1 << 20)
	hs := make([]*hist.Histogram, producers)
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	ready.Add(producers)
	for p := range producers {
		h := hist.New()
		hs[p] = h
		n := b.N / producers
		if p < b.N%producers {
			n++
		}
		wg.Go(func() {
			ready.Done()
			<-start
			for range n {
				t0 := hrtime.TSC()
				f()
				h.Record(uint64(float64(hrtime.TSC()-t0) * nsPerTick))
			}
		})
	}
	ready.Wait()
	b.ResetTimer()
	close(start)
	wg.Wait()
	b.StopTimer()
	all := hist.New()
	for _, h := range hs {
		all.Merge(h)
	}
	b.ReportMetric(float64(all.Quantile(.5)), "p50-ns")
	b.ReportMetric(float64(all.Quantile(.99)), "p99-ns")
	b.ReportMetric(float64(all.Quantile(.999)), "p99.9-ns")
	b.ReportMetric(float64(all.Max()), "max-ns")
}
