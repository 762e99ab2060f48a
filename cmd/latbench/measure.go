package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loov/hrtime"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/internal/hist"
)

// pushFunc offers one record; it reports false when the record was refused
// (full ring, closed writer). Each producer gets its own pushFunc.
type pushFunc func(rec []byte) bool

// impl is one implementation under test in one scenario. start launches its
// consumer and returns it started.
type impl struct {
	name     string
	baseline bool
	start    func(producers int) started
	// latency, if set, replaces the per-push histogram after stop: the
	// end-to-end scenarios measure at the daemon, not at the producer.
	latency func() *hist.Histogram
	// perOp is how many records one push offers (a request logs several
	// lines); 0 means 1.
	perOp int
	// stamped: the harness writes each record's send time (Unix ns) into
	// its first 8 bytes before the push, the intended time in open loop,
	// for the end-to-end scenario's daemon to time it.
	stamped bool
	// floor: not an implementation but the harness's own cost (a push that
	// does nothing), shown beside open-loop rows.
	floor bool
	// sample, if above 1, times only every sample-th push in closed loop
	// (the others run untimed between them). Two clock reads and a
	// histogram update cost several times a ring push (BenchmarkClock):
	// timing every push would measure the harness's own throughput, not
	// the ring's. The timed pushes are a systematic sample of all of them.
	sample int
	// annotate, if set, adds what the implementation measured itself to
	// its row, after stop (the severity scenario's counts by severity).
	annotate func(r *result)
}

// started is one started implementation.
type started struct {
	newPush func(p int) pushFunc // one pushFunc per producer
	// stop drains, stops the consumer and returns how many records it
	// delivered in all.
	stop func() uint64
	// sofar, if set, returns how many records were delivered so far: read
	// at the end of the window, so that records still queued then (drained
	// by stop at the reader's pace, or not at all) do not count toward the
	// window's delivered/s. Without it (e2e: the daemon reports only at
	// exit) delivered/s is the total over the time until stop returned.
	sofar func() uint64
}

// clock turns per-operation timestamps into nanoseconds. It uses the TSC when
// the CPU has an invariant one (a few ns per read) and the monotonic clock
// otherwise; hrtime.Now on Linux reads the wall clock, so it is not used.
type clock struct {
	tsc       bool
	nsPerTick float64
	base      time.Time
}

func newClock() clock {
	c := clock{tsc: hrtime.TSCSupported(), base: time.Now()}
	if c.tsc {
		const n = 1 << 30
		c.nsPerTick = float64(hrtime.Count(n).ApproxDuration()) / n
	}
	return c
}

func (c clock) now() int64 {
	if c.tsc {
		return int64(hrtime.TSC())
	}
	return int64(time.Since(c.base))
}

func (c clock) ns(ticks int64) uint64 {
	if ticks < 0 {
		return 0
	}
	if c.tsc {
		return uint64(float64(ticks) * c.nsPerTick)
	}
	return uint64(ticks)
}

// result is one measured row.
type result struct {
	Scenario  string  `json:"scenario"`
	Impl      string  `json:"impl"`
	Baseline  bool    `json:"baseline"`
	Floor     bool    `json:"floor,omitempty"` // the pacing harness alone (no-op push)
	Producers int     `json:"producers"`
	Mode      string  `json:"mode"`           // "closed" or "open"
	Rate      float64 `json:"rate,omitempty"` // offered records/s (open loop)
	Round     int     `json:"round"`
	Ops       uint64  `json:"ops"`
	Offered   uint64  `json:"offered"`   // records offered: ops times the records per op
	Refused   uint64  `json:"refused"`   // pushes that returned false
	Received  uint64  `json:"delivered"` // records the consumer (or daemon) received
	Lost      float64 `json:"lost"`      // 1 - delivered/offered: refused, dropped or evicted
	Seconds   float64 `json:"seconds"`
	Sample    int     `json:"timed_one_in"`      // closed loop: every Sample-th push was timed
	OpsPerSec float64 `json:"accepted_per_sec"`  // pushes that returned true, per second
	Delivered float64 `json:"delivered_per_sec"` // records the consumer (or daemon) got, per second
	AllocsOp  float64 `json:"allocs_per_op"`
	// The core-to-core round trip just before and just after the row
	// (baseline.RoundTrip): on a shared VM it moves with the vCPUs'
	// placement, and the rings' rows move with it.
	RTTBefore float64 `json:"rtt_before_ns"`
	RTTAfter  float64 `json:"rtt_after_ns"`
	// Latency of the calls that were accepted (the e2e scenario: of the
	// records the daemon read); refused calls have their own percentiles.
	P50     uint64  `json:"p50_ns"`
	P90     uint64  `json:"p90_ns"`
	P99     uint64  `json:"p99_ns"`
	P999    uint64  `json:"p999_ns"`
	Max     uint64  `json:"max_ns"`
	Mean    float64 `json:"mean_ns"`
	RefP50  uint64  `json:"refused_p50_ns"`
	RefP999 uint64  `json:"refused_p999_ns"`
	// Severities: the severity scenario's lines by severity;
	// OfferedPerSec: the rate they were offered at (from the first line
	// to the last producer's end), RecordSize the size asked for.
	Severities    []sevCount `json:"severities,omitempty"`
	OfferedPerSec float64    `json:"offered_per_sec,omitempty"`
	RecordSize    int        `json:"record_size,omitempty"`
	// Curve holds (percentile, ns) points for the plot.
	Curve [][2]float64 `json:"curve,omitempty"`
	hist  *hist.Histogram
}

// load says how producers offer records: closed loop (as fast as possible)
// or open loop at a fixed total rate, where latency counts from each
// record's intended send time so a stall is charged to every record it
// delayed (no coordinated omission).
type load struct {
	rate float64 // records/s over all producers; 0 = closed loop
	dur  time.Duration
	size int
}

// measure runs one implementation with the given producers and load.
func measure(c clock, scenario string, im impl, producers int, ld load) result {
	rttBefore := baseline.Probe() // before the implementation's goroutines start
	rn := im.start(producers)
	newPush, stop := rn.newPush, rn.stop
	hists := make([]*hist.Histogram, producers)
	refHists := make([]*hist.Histogram, producers)
	refused := make([]uint64, producers)
	ops := make([]uint64, producers)
	var startGate sync.WaitGroup
	startGate.Add(1)
	var stopFlag atomic.Bool
	var wg sync.WaitGroup
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for p := range producers {
		h, hr := hist.New(), hist.New()
		hists[p], refHists[p] = h, hr
		push := newPush(p)
		rec := make([]byte, max(ld.size, 8))
		wg.Go(func() {
			startGate.Wait()
			if ld.rate > 0 {
				// Exactly the records due in the window, each on schedule
				// however late: nothing offered goes uncounted.
				rate := ld.rate / float64(producers)
				n := int(rate * ld.dur.Seconds())
				ops[p], refused[p] = openLoop(push, rec, h, hr, rate, n, im.stamped)
			} else {
				ops[p], refused[p] = closedLoop(c, push, rec, h, hr, &stopFlag, im.stamped, max(im.sample, 1))
			}
		})
	}
	t0 := time.Now()
	startGate.Done()
	if ld.rate == 0 {
		time.Sleep(ld.dur)
		stopFlag.Store(true)
	}
	wg.Wait()
	window := time.Since(t0)
	var inWindow uint64
	if rn.sofar != nil {
		inWindow = rn.sofar()
	}
	runtime.ReadMemStats(&ms1) // before stop: its teardown (the daemon's report) is not the push's
	delivered := stop()
	elapsed := time.Since(t0)
	rttAfter := baseline.Probe() // after stop: it would delay in-flight records
	if rn.sofar != nil {
		// delivered/s of the window itself; lost still counts everything
		// delivered by the end, drain included.
		elapsed = window
	}

	r := result{Scenario: scenario, Impl: im.name, Baseline: im.baseline, Floor: im.floor, Producers: producers,
		Mode: "closed", Rate: ld.rate, Seconds: elapsed.Seconds(), Received: delivered, Sample: max(im.sample, 1), hist: hist.New(),
		RTTBefore: float64(rttBefore.Nanoseconds()), RTTAfter: float64(rttAfter.Nanoseconds())}
	ref := hist.New()
	if ld.rate > 0 {
		r.Mode, r.Sample = "open", 1
	}
	for p := range producers {
		r.hist.Merge(hists[p])
		ref.Merge(refHists[p])
		r.Ops += ops[p]
		r.Refused += refused[p]
	}
	if im.latency != nil {
		r.hist = im.latency()
	}
	if im.perOp >= 0 { // < 0: offers no records (the request scenario's "no logging")
		r.Offered = r.Ops * uint64(max(im.perOp, 1))
	}
	if r.Offered > 0 {
		r.Lost = max(0, 1-float64(delivered)/float64(r.Offered))
	}
	r.RefP50, r.RefP999 = ref.Quantile(.5), ref.Quantile(.999)
	r.OpsPerSec = float64(r.Ops-r.Refused) / elapsed.Seconds()
	r.Delivered = float64(delivered) / elapsed.Seconds()
	if rn.sofar != nil {
		r.Delivered = float64(inWindow) / elapsed.Seconds()
	}
	if r.Ops > 0 {
		r.AllocsOp = float64(ms1.Mallocs-ms0.Mallocs) / float64(r.Ops)
	}
	h := r.hist
	r.P50, r.P90, r.P99, r.P999, r.Max, r.Mean = h.Quantile(.5), h.Quantile(.9), h.Quantile(.99), h.Quantile(.999), h.Max(), h.Mean()
	if im.annotate != nil {
		im.annotate(&r)
	}
	for _, q := range plotQuantiles {
		r.Curve = append(r.Curve, [2]float64{q, float64(h.Quantile(q))})
	}
	return r
}

// checkEvery is how many pushes a closed-loop producer makes between looks
// at the stop flag (one shared load per 64 pushes).
const checkEvery = 64

// closedLoop pushes as fast as it can; every sample-th call is timed,
// into h when accepted and into ref when refused.
func closedLoop(c clock, push pushFunc, rec []byte, h, ref *hist.Histogram, stop *atomic.Bool, stamped bool, sample int) (ops, refused uint64) {
	untimed := sample - 1 // pushes before the next timed one
	for !stop.Load() {
		for range checkEvery {
			if stamped {
				stamp(rec, time.Now())
			}
			if untimed > 0 {
				untimed--
				if !push(rec) {
					refused++
				}
				continue
			}
			untimed = sample - 1
			t0 := c.now()
			ok := push(rec)
			d := c.ns(c.now() - t0)
			if !ok {
				refused++
				ref.Record(d)
				continue
			}
			h.Record(d)
		}
		ops += checkEvery
	}
	return ops, refused
}

// openLoop pushes n records at rate, each timed from its intended send
// time, so a stall is charged to every record it delays (no coordinated
// omission), lag the harness itself causes included: the no-op "floor" row
// shows that part. A record sent early (the producer woke before it was
// due) is timed from the call. The producer never spins: it sleeps until
// shortly before a record is due, then sends every record due, so
// producers beyond the core count do not starve the consumer and the
// daemon of CPU while they wait.
func openLoop(push pushFunc, rec []byte, h, ref *hist.Histogram, rate float64, n int, stamped bool) (ops, refused uint64) {
	period := time.Duration(float64(time.Second) / rate)
	const early = 100 * time.Microsecond
	start := time.Now()
	for i := range n {
		intended := start.Add(time.Duration(i) * period)
		if wait := time.Until(intended); wait > early {
			time.Sleep(wait - early)
		}
		t0 := intended
		if now := time.Now(); now.Before(intended) {
			t0 = now
		}
		if stamped {
			stamp(rec, t0)
		}
		ok := push(rec)
		d := uint64(max(time.Since(t0), 0))
		ops++
		if !ok {
			refused++
			ref.Record(d)
			continue
		}
		h.Record(d)
	}
	return ops, refused
}
