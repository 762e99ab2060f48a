package baseline

import (
	"sync"
	"testing"

	"github.com/loov/hrtime"

	"github.com/ringsink/ringsink/internal/hist"
)

// Run calls f(p, i) for i in [0, share) on each producer goroutine p, the
// shares of the `producers` goroutines summing to n, and waits for them.
// With a non-nil b the goroutines are started first and released together
// by b.StartTimer; b.StopTimer runs when the last one finishes, so only the
// calls are timed.
func Run(b *testing.B, n, producers int, f func(p, i int)) {
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	ready.Add(producers)
	for p := range producers {
		share := n / producers
		if p < n%producers {
			share++
		}
		wg.Go(func() {
			ready.Done()
			<-start
			for i := range share {
				f(p, i)
			}
		})
	}
	ready.Wait()
	if b != nil {
		b.StartTimer()
	}
	close(start)
	wg.Wait()
	if b != nil {
		b.StopTimer()
	}
}

// TimedParallel runs b.N calls of f over exactly `producers` goroutines,
// timing each call with the TSC. f reports whether its call was accepted;
// the accepted calls' p50/p99/p99.9/max in ns are reported as benchmark
// metrics next to ns/op, and refused calls (drops) apart, when there were
// any: refused/op and refused-p99.9-ns.
func TimedParallel(b *testing.B, producers int, f func() bool) {
	nsPerTick := float64(hrtime.Count(1<<20).ApproxDuration()) / (1 << 20)
	hs, refs := make([]*hist.Histogram, producers), make([]*hist.Histogram, producers)
	for p := range hs {
		hs[p], refs[p] = hist.New(), hist.New()
	}
	b.StopTimer()
	b.ResetTimer()
	Run(b, b.N, producers, func(p, _ int) {
		t0 := hrtime.TSC()
		ok := f()
		d := uint64(float64(hrtime.TSC()-t0) * nsPerTick)
		if ok {
			hs[p].Record(d)
		} else {
			refs[p].Record(d)
		}
	})
	all, ref := hist.New(), hist.New()
	for p := range hs {
		all.Merge(hs[p])
		ref.Merge(refs[p])
	}
	refused := ref.Count()
	b.ReportMetric(float64(all.Quantile(.5)), "p50-ns")
	b.ReportMetric(float64(all.Quantile(.99)), "p99-ns")
	b.ReportMetric(float64(all.Quantile(.999)), "p99.9-ns")
	b.ReportMetric(float64(all.Max()), "max-ns")
	b.ReportMetric(all.Mean(), "mean-ns") // with p99.9 and max: where a waiting call spends its time
	if refused > 0 {
		b.ReportMetric(float64(refused)/float64(max(b.N, 1)), "refused/op")
		b.ReportMetric(float64(ref.Quantile(.999)), "refused-p99.9-ns")
	}
}
