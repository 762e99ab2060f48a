// Package paced runs the paced-delivery benchmark of the rings: one
// producer pushes a timestamped value every gap (it spins between them,
// like a service busy with its own work) through each implementation in
// turn, interleaved in rounds so that every figure of a run is measured
// under the same load, and each consumer takes them with the documented
// loop (TryPop, Wait when empty; a channel's consumer receives). Test
// support, not API.
package paced

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loov/hrtime"

	"github.com/ringsink/ringsink/internal/hist"
	"github.com/ringsink/ringsink/wait"
)

// Gaps are the paces the benchmark runs at: a value every 2 µs (a busy
// service) to every 20 ms (a trickle); 16 µs is the slowest pace at which
// a linger must spare every push its wake-up. With -benchtime 100x the
// slowest takes 2 s per implementation.
var Gaps = []time.Duration{2 * time.Microsecond, 16 * time.Microsecond, 20 * time.Microsecond, 200 * time.Microsecond, 2 * time.Millisecond, 20 * time.Millisecond}

// Impl is one way to hand values from the producer to a consumer.
type Impl struct {
	// Name labels the metrics ("park", "linger", "spin", "chan"). The
	// implementation named "chan" is the baseline the ratios divide by.
	Name string
	// Push offers v and reports whether it was taken (false: full).
	Push func(v int) bool
	// Recv is the consumer's loop for one value: it returns the next
	// value, waiting as the implementation waits.
	Recv func() int
}

// A round is how many values each implementation takes in a row before
// the next one's turn: at least minRound values, and at least
// minRoundTime's worth. A round's first push meets a consumer the harness
// has just resumed (from its start channel), whose lines it pulls over to
// the producer's core; with rounds of 50 values that push was 2% of every
// implementation's pushes and set a lingering consumer's push p99 at
// 130-230 ns, against 30 ns for the rest. Two lingers' worth makes every
// round at 2-16 µs apart include the steady cycle of a 1 ms linger
// (sleep, drain, sleep) and the start less than 1% of the pushes.
const (
	minRound     = 50
	minRoundTime = 2 * time.Millisecond
)

// Run pushes b.N values through each of impls at one value per gap, in
// rounds (50 values, or 2 ms's worth if more) per implementation, and reports for each (NAME is
// its Name): NAME-push-p99-ns, the push call's p99 (it pays the consumer's
// wake-up when the consumer had parked); NAME-deliver-p50-ns and
// NAME-deliver-p99-ns, the time from each push to the pop that returned
// the value; NAME-full/value, pushes that found the ring full and were
// retried; and, for every implementation but "chan", the ratios to the
// channel's of the same run: NAME/chan-push-p99 and NAME/chan-deliver-p50
// and -p99. ns/op is the gap times the number of implementations, more
// or less (each takes b.N values at the pace, one after the other).
func Run(b *testing.B, gap time.Duration, impls []Impl) {
	b.ReportAllocs()
	nsPerTick := float64(hrtime.Count(1<<20).ApproxDuration()) / (1 << 20)
	type side struct {
		Impl
		start         chan int      // the round's count: the consumer takes that many
		running       atomic.Bool   // the consumer received the count and is running
		done          chan struct{} // the consumer took them
		push, deliver *hist.Histogram
		full          int
	}
	sides := make([]*side, len(impls))
	for i, im := range impls {
		s := &side{Impl: im, start: make(chan int), done: make(chan struct{}), push: hist.New(), deliver: hist.New()}
		sides[i] = s
		go func() {
			// Between its rounds the consumer blocks on start, not in the
			// implementation's wait: a spinning consumer keeps no core
			// busy while the others run.
			for n := range s.start {
				s.running.Store(true)
				for range n {
					v := s.Recv()
					s.deliver.Record(uint64(float64(hrtime.TSC()-hrtime.Count(v)) * nsPerTick))
				}
				s.done <- struct{}{}
			}
		}()
	}
	round := max(minRound, int(minRoundTime/gap))
	b.ResetTimer()
	for sent, r := 0, 0; sent < b.N; sent, r = sent+round, r+1 {
		n := min(round, b.N-sent)
		for k := range sides {
			s := sides[(k+r)%len(sides)] // each round starts with the next implementation
			s.start <- n
			// Wait, without yielding, until the consumer runs. The start
			// channel readies it on the producer's processor, and a
			// producer that then spins through the gaps keeps it there:
			// the consumer ran only once the round was over (at 2 µs
			// apart every implementation, spin and the channel included,
			// read 40-50 µs delivery p50, the round's length). Spinning
			// here, the producer leaves it to the other processor (or, with
			// one, to the runtime's preemption) to run it, as a service's
			// producer, woken by its own work, does not hand its processor
			// to the consumer.
			for !s.running.Load() {
			}
			s.running.Store(false)
			start := time.Now()
			for i := range n {
				for due := time.Duration(i+1) * gap; time.Since(start) < due; {
				}
				t0 := hrtime.TSC()
				if !s.Push(int(t0)) {
					// The consumer fell a ring behind (it did not get a
					// CPU): count it, and retry.
					s.full++
					for !s.Push(int(t0)) {
						runtime.Gosched()
					}
				}
				s.push.Record(uint64(float64(hrtime.TSC()-t0) * nsPerTick))
			}
			<-s.done
		}
	}
	b.StopTimer()
	var ch *side
	for _, s := range sides {
		close(s.start)
		if s.Name == "chan" {
			ch = s
		}
	}
	for _, s := range sides {
		push, p50, p99 := float64(s.push.Quantile(.99)), float64(s.deliver.Quantile(.5)), float64(s.deliver.Quantile(.99))
		b.ReportMetric(push, s.Name+"-push-p99-ns")
		b.ReportMetric(p50, s.Name+"-deliver-p50-ns")
		b.ReportMetric(p99, s.Name+"-deliver-p99-ns")
		b.ReportMetric(float64(s.full)/float64(b.N), s.Name+"-full/value")
		if ch != nil && s != ch {
			b.ReportMetric(push/max(float64(ch.push.Quantile(.99)), 1), s.Name+"/chan-push-p99")
			b.ReportMetric(p50/max(float64(ch.deliver.Quantile(.5)), 1), s.Name+"/chan-deliver-p50")
			b.ReportMetric(p99/max(float64(ch.deliver.Quantile(.99)), 1), s.Name+"/chan-deliver-p99")
		}
	}
}

// Chan is the baseline: a buffered channel of capacity values.
func Chan(capacity int) Impl {
	ch := make(chan int, capacity)
	return Impl{
		Name: "chan",
		Push: func(v int) bool {
			select {
			case ch <- v:
				return true
			default:
				return false
			}
		},
		Recv: func() int { return <-ch },
	}
}

// Ring is what the rings' paced benchmarks need of mpsc.Ring[int] and
// spsc.Ring[int].
type Ring interface {
	TryPush(v int) bool
	TryPop() (int, bool)
	Wait(ctx context.Context) error
	SetWait(p wait.Policy)
}

// Rings runs Run at every gap of Gaps, each a sub-benchmark "gap=G", for
// rings from newRing (capacity 1024) waiting with each policy (park: the
// default, as New makes it; linger: 1 ms; spin) against a buffered
// channel of the same capacity. Each ring's consumer takes values as the
// package docs say: TryPop, and Wait when empty.
func Rings(b *testing.B, newRing func(capacity int) Ring) {
	for _, gap := range Gaps {
		b.Run(fmt.Sprintf("gap=%v", gap), func(b *testing.B) {
			Run(b, gap, []Impl{
				ringImpl("park", newRing(1024), wait.Policy{}),
				ringImpl("linger", newRing(1024), wait.Linger(time.Millisecond)),
				ringImpl("spin", newRing(1024), wait.Spin()),
				Chan(1024),
			})
		})
	}
}

func ringImpl(name string, r Ring, p wait.Policy) Impl {
	r.SetWait(p)
	return Impl{
		Name: name,
		Push: r.TryPush,
		Recv: func() int {
			for {
				if v, ok := r.TryPop(); ok {
					return v
				}
				_ = r.Wait(context.Background())
			}
		},
	}
}
