// Package park implements the consumer wait strategy shared by the rings:
// spin for a few microseconds, yield, nap on a timer while the producers
// are paced, then park on a one-slot channel until a producer wakes it (an
// eventcount); and Room, where producers that chose to wait for space park
// until the consumer frees some.
//
// # Naps
//
// A push that wakes a parked consumer readies its goroutine, and the
// runtime may make a system call to wake a thread for it: a push's p99 of
// 2-17 µs with values microseconds apart, 17-93 µs with the process
// otherwise idle between them (BenchmarkPaced, every value delivered), on
// the producer's hot path. So a consumer whose spin has not been paying (values come paced)
// first naps: six sleeps on a timer, 20 µs doubling to 640 µs (1.26 ms were
// timers exact; 4.5-7.8 ms measured with nothing else to run, since the
// runtime's timers then wait in epoll with millisecond resolution), with
// its state set to napping. A producer that loads that state does nothing
// (a second load, of wakeAt), unless its push reaches half a ring past the
// consumer's head, where it wakes it so that the ring does not fill; a
// ByteRing that refuses a record for want of room wakes it too (Refused).
// A nap needs no memory order against the producers: it ends on its timer
// and re-checks. Only after the naps does the consumer park, under the
// protocol below. It parks at once, without naps, when its spin was paying
// until lately (under saturation a park is a short stall), with one P
// (whose wake-up needs no thread), with a push claimed and not yet
// published (whose Notify would not wake a napper), right after a refusal
// woke it (a full ring: parked, a refusal costs no wake-up), and once its
// naps have run out (values further apart than the naps last: they would
// only add timer wake-ups), until a park ends sooner than the naps took.
// docs/design.md, "Consumer waiting".
//
// # Why a parked consumer never sleeps through a publish
//
// The producer publishes with a release store (internal/relstore: a plain
// MOV on amd64) and then loads parked; the consumer stores parked and then
// re-checks the ring. That is a store→load pattern on both sides (Dekker),
// and a release store gives no store→load order: the producer's load of
// parked may complete while its publish still sits in its store buffer. So
// the outcome "producer saw the consumer awake, consumer saw the ring
// empty" is possible (measured: docs/design.md, "No lost wake-ups"), and
// the consumer must not rely on the publish to decide that it may block.
//
// It relies on the claim instead. Every push claims its slot with a CAS on
// the ring's tail before it publishes, and a CAS is sequentially consistent
// (on amd64 a LOCK CMPXCHG: a full fence). The consumer announces the park
// with a sequentially consistent store, then asks idle(): "is nothing
// claimed beyond what I have read?" (one load of tail). In the single total
// order of the sequentially consistent operations, either
//
//   - the producer's CAS comes first: idle() sees the claim, and the
//     consumer does not block without bound; it waits for the publish with
//     a short timer, re-checking (a claimed slot is published after one
//     copy, unless its producer is descheduled), or
//
//   - the consumer's load of tail comes first: then parked.Store(true)
//     precedes the CAS, which precedes the producer's load of parked, so
//     the producer sees parked and sends the token.
//
//     consumer                               producer
//     --------                               --------
//     parked.Store(true)      (SC)           CAS tail pos → pos+1   (SC: claim)
//     if ready()  → return                   copy value
//     if idle()   → block on token           publish seq/header     (release)
//     else        → block on token or timer  if parked.Load() → Swap, send token
//
// The producer's fast path is unchanged: no fence and no extra atomic.
// Events that ready() does not see (flush, close) use Wake, which always
// leaves a token. The wake channel has one slot and sends never block, so a
// producer never waits. A stale token only causes one spurious return,
// which callers tolerate by re-checking their condition.
package park

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ringsink/ringsink/internal/pad"
)

// Spin and yield budgets before parking. Wait is called right after the
// caller found nothing to read, so each spin first waits, then re-checks:
// Backoff(spinFrom+i), about 1 µs the first time and 2 µs after that (7 to
// 11 µs in all on the machine of docs/benchmarks.md: Backoff counts loop
// iterations, not time), without touching shared memory. A consumer that
// re-checks at once catches the producers in the middle of a cache line and
// takes values a few at a time, and each look pulls the lines the producers
// are writing over to its core and back; one that lets a batch build makes
// every push cheaper. Measured against re-checking at once with short delays
// (Backoff(0..3)), two cores: 1.36x-1.44x the values per second with 1, 4
// and 16 producers, 1.5x-1.6x when the two vCPUs were near each other and
// neutral to 0.8x when they were far apart (docs/benchmarks.md, "Consumer
// back-off"). With one P (GOMAXPROCS=1) nothing can be published while the
// consumer spins, so it does not spin (measured: the spin cost 0.65x-0.94x).
// spins is the most a Wait may spin; how many it does depends on how soon
// the last spins found a value (nextBudget): with paced producers the
// consumer soon parks after the yield, instead of spinning 11 µs each time.
const (
	spins    = 4
	spinFrom = 7
	yields   = 1
)

// nextBudget is the spin budget after a Wait that had a budget of n spins
// and found a value after spin i (i == n: at the yield; i < 0: not before
// parking). The spin pays when the producers keep the ring busy: then the
// first wait (about 1 µs) finds a batch, and the budget grows back to max
// (with no budget, a value found at the yield counts as that first find).
// A value found only later, or not at all, means the producers are paced:
// the consumer spent microseconds of a core that they, or whatever else
// the process runs, may have been waiting for, and the budget shrinks (by
// one, to no less than one spin, when a later spin or the yield still
// found a value; by half when the consumer parked), so a paced consumer
// mostly parks right after the yield. Measured on two vCPUs against the
// fixed budget of 4, in two A/B runs: the sink's open-loop p99.9 with 4
// paced producers at half a channel's saturation read 2.64 and 2.65 ms,
// against 4.82 and 4.06 ms, about the channel sink's (2.51 and 2.05 ms),
// with no change in closed-loop throughput that this machine can resolve.
// The budget also tells Wait whether to nap: a paced consumer (one spin or
// none) naps before it parks, so a producer that pushes one value every
// 2-16 µs no longer pays its wake-up (push p99 40-135 ns, against 2-17 µs
// when it parked at once, every value delivered; BenchmarkPaced,
// docs/benchmarks.md, "Naps").
func nextBudget(n, i, most int) int {
	switch {
	case i == 0:
		return min(n+1, most)
	case i > 0:
		return min(max(n-1, 1), most)
	default:
		return n / 2
	}
}

// spinsFor is the spin budget with procs Ps: none with one P.
func spinsFor(procs int) int {
	if procs < 2 {
		return 0
	}
	return spins
}

// The consumer naps on a timer that starts at claimWaitMin and doubles,
// napSteps times (20 µs to 640 µs); parked, while a slot is claimed but not
// yet published, it re-checks on a timer that starts at claimWaitMin and
// doubles up to claimWaitMax.
const (
	claimWaitMin = 20 * time.Microsecond
	claimWaitMax = time.Millisecond
	napSteps     = 6
	napSpan      = claimWaitMin * (1<<napSteps - 1) // 1.26 ms: the naps, were timers exact
)

// Backoff busy-waits for about 16<<min(attempt, 8) loop iterations (16 to
// 4096; 10 ns to 2-3 µs here) without touching shared memory. attempt
// counts consecutive failed attempts (empty polls, lost claims).
func Backoff(attempt int) int {
	return delay(16 << min(attempt, 8))
}

//go:noinline
func delay(n int) int {
	x := 0
	for i := range n {
		x += i
	}
	return x
}

// Waiter parks one consumer goroutine. The zero value is not usable; call Init.
//
// Wake and Notify are safe for any number of goroutines; Wait must only be
// called by the single consumer goroutine.
type Waiter struct {
	_     pad.Line
	state atomic.Uint32 // awake, napping or parked; read by every producer
	wake  chan struct{} // one slot: at most one outstanding token
	claim *time.Timer   // consumer only: the nap's and the bounded wait's timer

	// wakeAt: a push that publishes up to this position or beyond wakes a
	// napping consumer: half a ring past where it stopped reading. Stored
	// by the consumer before it naps, read by producers that find it
	// napping (on the state's line).
	wakeAt atomic.Uint64
	_      pad.Line
	half   uint64 // half the span: set by Init
	posOff uint   // positions have 64-posOff bits (ByteRing: 32)

	// naps is how many timed naps a Wait takes before it parks (napSteps),
	// unless its spin had been paying (or alwaysNap: SetNaps, for tests).
	// Set before use, then read-only.
	naps      int
	alwaysNap bool

	// slow (consumer only): a Wait's naps all ran out (they took napTook),
	// so values come further apart than naps last; from then on Waits park
	// at once, until a park ends within napTook (napSpan at least).
	slow    bool
	napTook time.Duration

	// refused: a producer found the ring full while the consumer napped
	// (Refused). The next Wait parks at once instead of napping: the ring
	// holds what the consumer keeps (a durable ring's sealed records), and
	// each refusal would wake it from its nap again.
	refused atomic.Bool

	napCount atomic.Uint64 // naps that ended on their timer

	claimWaits    atomic.Uint64 // parks that found a claimed, unpublished slot
	claimTimeouts atomic.Uint64 // of those, waits that ended on the timer

	// spins is the most the consumer may spin, spinsFor(GOMAXPROCS). Consumer
	// only; read in Init and again after every block, because asking the
	// runtime takes its scheduler lock: too dear for every empty poll,
	// cheap next to a park. A change of GOMAXPROCS counts from the next park.
	spins int

	// budget is how many of the spins the next Wait may use (consumer
	// only): nextBudget adapts it to how soon the last spin paid off.
	budget int

	// check is how announce may conclude that it can block without a
	// bound (UseHeavyFence, UseBoundedWait). Set before use, then read-only.
	check     checkMode
	fenceFrom time.Duration // checkFence, no naps: fence once the bounded step reaches this
}

// The consumer's states, as Notify sees them.
const (
	awake   uint32 = iota // polling or handling values: Notify does nothing
	napping               // asleep on a timer: Notify wakes it only at half a ring past its head
	parked                // blocked without a bound (or about to be): Notify wakes it
)

// checkMode is how a parking consumer proves that no publish escaped it.
type checkMode uint8

const (
	checkIdle    checkMode = iota // idle(): the producers' claim CAS is the fence (mpsc)
	checkFence                    // heavyFence, then ready(): no claim (spsc)
	checkBounded                  // no proof: every park re-checks on the claim timer
)

// Init prepares w for use by a ring of span positions (values or bytes),
// whose positions are posBits-bit counters that wrap.
func (w *Waiter) Init(span uint64, posBits uint) {
	w.wake = make(chan struct{}, 1)
	w.half = span / 2
	w.posOff = 64 - posBits
	w.naps = napSteps
	w.claim = time.NewTimer(time.Hour)
	w.spins = spinsFor(runtime.GOMAXPROCS(0))
	w.budget = w.spins
	w.check = checkIdle
	w.claim.Stop()
}

// UseHeavyFence, called after Init and before the first Wait, is for a
// ring with no claim to check: one producer that publishes with a release
// store and then calls Notify (spsc). Nothing orders that store before the
// producer's load of the consumer's state. A parking consumer (after its
// naps) runs heavyFence between storing parked and re-checking ready(): the
// fence drains the producer's publish (ready() sees it) or comes before the
// producer's load of the state (the producer sees the park and sends the
// token), so it may then block without a bound. The fence costs a system
// call and an IPI to every CPU running the process (about 0.8 µs idle,
// 14-17 µs with another CPU busy), so it is kept for the end of the naps,
// once per idle spell of 1.26 ms or more. The process's registration for it
// waits for an RCU grace period (milliseconds); it starts here, in the
// background, and until it is done, or where the fence is not available,
// the consumer keeps re-checking on the bounded wait's timer.
func (w *Waiter) UseHeavyFence() { w.UseHeavyFenceFrom(claimWaitMax) }

// UseHeavyFenceFrom is UseHeavyFence with the fence run, in a Wait that
// did not nap, once the bounded step has reached from (0: at every park).
// For tests, which need the fenced check to run often.
func (w *Waiter) UseHeavyFenceFrom(from time.Duration) {
	w.check = checkFence
	w.fenceFrom = min(from, claimWaitMax) // the steps stop growing there
	startHeavyFence()
}

// SetNaps makes every Wait take n naps before it parks, whether or not its
// spin had been paying (by default napSteps, and none after a paying spin).
// For tests: n = 0 runs the park's check at every Wait, a large n keeps the
// consumer napping. Call it before the first Wait.
func (w *Waiter) SetNaps(n int) { w.naps, w.alwaysNap = n, true }

// NapAt sets the state napping, with producers to wake the consumer once
// they publish up to head plus half the ring (head: the position the
// consumer reads next). Wait calls it before each nap; tests call it to
// see which pushes wake a napping consumer.
func (w *Waiter) NapAt(head uint64) {
	w.wakeAt.Store(head + w.half) // before the state: a producer that sees napping sees it
	w.state.Store(napping)
}

// UseBoundedWait, called after Init and before the first Wait, is for a
// consumer that cannot prove that a publish did not escape its re-check:
// every park then waits as for a claimed slot, re-checking on a timer from
// 20 µs doubling to 1 ms, so a missed wake-up costs at most that long. An
// idle consumer wakes every millisecond. Tests use it to force the
// fallback of UseHeavyFence.
func (w *Waiter) UseBoundedWait() { w.check = checkBounded }

// Notify is the producer's fast path, called after it published the
// positions [from, to): one atomic load when the consumer is awake, two
// when it naps, and a wake-up only when it is parked, or napping and the
// push reached half a ring past the consumer's head (so a napping consumer
// is not left to sleep while the ring fills). Call it after publishing something the consumer's
// ready() condition sees, and only after a claim that idle() sees (see the
// package doc for why), or with the consumer in UseHeavyFence or
// UseBoundedWait mode.
func (w *Waiter) Notify(from, to uint64) { w.notify(from, to) }

// notify is Notify, reporting whether it sent a token (for the litmus
// tests).
func (w *Waiter) notify(from, to uint64) bool {
	switch w.state.Load() {
	case awake:
		return false
	case napping:
		// Wrapping compare of posBits-bit positions: to is before wakeAt.
		if int64((to-w.wakeAt.Load())<<w.posOff) < 0 {
			return false
		}
	}
	// The Swap makes exactly one producer send the token for each park.
	if w.state.Swap(awake) != awake {
		w.token()
		return true
	}
	return false
}

// Refused is for a producer whose push the ring refused for want of room:
// it wakes a napping consumer, which a push short of half a ring does not,
// though the ring may have no room for a large record before it is half
// full (a ByteRing's padding). One load when the consumer is awake or
// parked (a parked consumer was woken by the pushes that filled the ring).
func (w *Waiter) Refused() {
	if w.state.Load() == napping && w.state.CompareAndSwap(napping, awake) {
		w.refused.Store(true) // the next Wait parks (napsFor)
		w.token()
	}
}

// WakeAt returns the position whose publish wakes a napping consumer. For
// tests.
func (w *Waiter) WakeAt() uint64 { return w.wakeAt.Load() }

// Wake wakes the consumer for an event its ready() condition does not see
// (a flush request, Close). It always leaves a token, so a consumer that is
// just about to park returns at once instead of missing the event. It never
// blocks.
func (w *Waiter) Wake() { w.token() }

func (w *Waiter) token() {
	select {
	case w.wake <- struct{}{}:
	default: // a token is already outstanding
	}
}

// Reason tells why Wait returned.
type Reason uint8

const (
	Ready   Reason = iota // ready() reported true
	Woken                 // Wake or Notify was called (the condition may still be false)
	Done                  // the done channel was closed
	Timeout               // the timer channel fired

	claimFired Reason = 255 // internal: the claim re-check timer fired
)

// verdict is what the consumer may do after announcing the park.
type verdict uint8

const (
	vReady   verdict = iota // ready() holds: do not block
	vBlock                  // nothing is claimed: block until a token
	vClaimed                // a slot is claimed, not yet published: block with a bound
)

// announce stores parked, then (with UseHeavyFence, and fence set) runs
// the heavy fence, then re-checks ready() and (in the default mode) idle(),
// in that order; the consumer's half of the protocol in the package doc.
// It leaves the state parked unless the verdict is vReady.
func (w *Waiter) announce(ready, idle func() bool, fence bool) verdict {
	w.state.Store(parked) // sequentially consistent: ordered before idle()'s load of tail
	// checkFence: the fence orders the producer's publish before ready()'s
	// load (design.md, "No lost wake-ups", section 3), when the caller asks
	// for it; refused, it proves nothing (bounded wait). checkBounded never
	// proves anything.
	fenced := w.check == checkFence && fence && heavyFence()
	if ready() {
		w.state.Store(awake)
		return vReady
	}
	if fenced || (w.check == checkIdle && idle()) {
		return vBlock
	}
	return vClaimed
}

// Wait blocks the consumer until ready() reports true, a producer wakes it,
// done is closed or timer fires. done and timer may be nil; a done closed
// before the call is answered at once (Ready if ready(), else Done).
//
// After its spin and yield it naps (napsFor says when): it sleeps on a
// timer, 20 µs doubling to 640 µs (4.5-7.8 ms in all measured with nothing
// else to run: the runtime's timers have millisecond resolution then),
// re-checking ready() before each, and producers do not wake it (a push
// pays two loads) unless a push reaches half a ring past head, the
// position the consumer reads next. Then it parks. In the
// default mode idle() must report whether no push is claimed beyond what
// the consumer has read (one sequentially consistent load of the claim
// index), and Wait parks without a bound only when it holds; with
// UseHeavyFence it parks without a bound only after a successful fence
// (idle() is not consulted), and with UseBoundedWait never. Wait allocates
// nothing.
func (w *Waiter) Wait(head uint64, ready, idle func() bool, done <-chan struct{}, timer <-chan time.Time) Reason {
	// A caller whose done is already closed gets its answer without the
	// spin, the yield or a fence.
	select {
	case <-done:
		if ready() {
			return Ready
		}
		return Done
	default:
	}
	// With one P no producer runs while the consumer spins: skip to the
	// yield, which lets them.
	n := min(w.budget, w.spins)
	for i := range n {
		Backoff(spinFrom + i)
		if ready() {
			w.budget = nextBudget(n, i, w.spins)
			return Ready
		}
	}
	for range yields {
		runtime.Gosched()
		if ready() {
			w.budget = nextBudget(n, n, w.spins)
			return Ready
		}
	}
	w.budget = nextBudget(n, -1, w.spins)
	naps, slow := w.napsFor(n, idle), w.slow
	var napStart time.Time
	if naps > 0 && !w.alwaysNap {
		napStart = time.Now()
	}
	d := claimWaitMin
	for range naps {
		// No order needed against the producers: the nap ends on its
		// timer, so a publish its re-check misses is found one step later.
		w.NapAt(head)
		if ready() {
			w.state.Store(awake)
			return Ready
		}
		if r := w.sleep(d, done, timer); r != claimFired {
			return r
		}
		w.napCount.Add(1) // the next nap, or the park, re-checks ready()
		d = min(2*d, claimWaitMax)
	}
	if naps > 0 && !w.alwaysNap {
		// Every nap ran out: values come further apart than the naps
		// last (napTook: their real length, several times napSpan where
		// the runtime's timers have millisecond resolution). Park at once
		// from now on, until a park ends sooner than that.
		w.slow, w.napTook = true, time.Since(napStart)
	}
	if !slow {
		return w.park(ready, idle, done, timer, naps > 0)
	}
	// Slow values: the fence at once too (spsc), not the bounded steps,
	// whose timer wake-ups the naps' absence is meant to spare.
	start := time.Now()
	r := w.park(ready, idle, done, timer, true)
	if (r == Ready || r == Woken) && time.Since(start) < max(napSpan, w.napTook) {
		// Values come closer together again: naps would have spared the
		// producer this wake-up.
		w.slow = false
	}
	return r
}

// napsFor is how many naps a Wait that spun n times, and found nothing,
// takes before it parks.
func (w *Waiter) napsFor(n int, idle func() bool) int {
	if w.refused.Load() {
		// The ring was full while the consumer napped: park, where a
		// refusal costs a producer one load and no wake-up.
		w.refused.Store(false)
		if !w.alwaysNap {
			return 0
		}
	}
	switch {
	case w.alwaysNap:
		return w.naps
	case n > 1 || w.spins == 0:
		// The spin had been paying until lately (the budget falls to one
		// or none only when Waits keep finding values late, or parking):
		// the producers keep the ring busy, and this is a stall that ends
		// soon, with the ring filling meanwhile. Park at once, so that the
		// first push wakes the consumer. Measured against napping whenever
		// the budget is not full: in a three-way run at capacity 16384
		// that read 0.90x the values per second of the commit before in
		// spsc's Wait benchmark, against 1.00x with this rule
		// (docs/benchmarks.md, "Naps"); a producer fills half a ring in
		// about 80 µs and then waits for the wake-up. With one P (no
		// spins) a push readies the consumer without waking a thread
		// (there is no idle P to run it on), and the nap's timer would run
		// only when the producer yields, so it parks at once too.
		return 0
	case w.slow:
		// The last naps all ran out: a nap only adds timer wake-ups to
		// the producer's.
		return 0
	case !idle():
		// A push is claimed but not yet published (mpsc): the consumer
		// waits for that slot, and its producer's Notify, which is below
		// half a ring, must wake it, as it does a parked consumer.
		return 0
	}
	return w.naps
}

// park announces the park and blocks: without a bound when announce
// proves that no publish escaped it, else re-checking on the bounded
// steps. fence: run the heavy fence at once (the consumer napped already).
func (w *Waiter) park(ready, idle func() bool, done <-chan struct{}, timer <-chan time.Time, fence bool) Reason {
	for d := claimWaitMin; ; d = min(2*d, claimWaitMax) {
		// checkFence: the fence once the consumer has napped, or the
		// bounded waits have reached their longest step (1.26 ms without a
		// value), so a consumer pays it once per long idle spell, not once
		// per park.
		switch w.announce(ready, idle, fence || d >= w.fenceFrom) {
		case vReady:
			return Ready
		case vBlock:
			return w.block(done, timer, nil)
		}
		// A producer is between its claim and its publish (or, in the
		// fence and bounded modes, nothing proves that no publish escaped
		// the check). Its Notify may miss the park (see the package doc),
		// so wait for it with a bound.
		w.claimWaits.Add(1)
		if r := w.sleep(d, done, timer); r != claimFired {
			return r
		}
		w.claimTimeouts.Add(1)
		if ready() {
			return Ready
		}
	}
}

// sleep blocks as block does, for d at most (claimFired).
func (w *Waiter) sleep(d time.Duration, done <-chan struct{}, timer <-chan time.Time) Reason {
	w.claim.Reset(d)
	r := w.block(done, timer, w.claim.C)
	w.claim.Stop()
	return r
}

// block waits for a token, done, timer or claim, then sets the state awake.
func (w *Waiter) block(done <-chan struct{}, timer, claim <-chan time.Time) Reason {
	var r Reason
	select {
	case <-w.wake:
		r = Woken
	case <-done:
		r = Done
	case <-timer:
		r = Timeout
	case <-claim:
		r = claimFired
	}
	w.state.Store(awake)
	w.spins = spinsFor(runtime.GOMAXPROCS(0))
	return r
}

// IsParked reports whether the consumer has announced that it is parking.
// For tests and diagnostics.
func (w *Waiter) IsParked() bool { return w.state.Load() == parked }

// IsNapping reports whether the consumer is napping. For tests.
func (w *Waiter) IsNapping() bool { return w.state.Load() == napping }

// Naps returns how many of the consumer's naps ended on their timer.
// Diagnostics.
func (w *Waiter) Naps() uint64 { return w.napCount.Load() }

// ClaimWaits returns how many times the consumer, about to park, found a
// claimed but unpublished slot (or, with UseHeavyFence or UseBoundedWait,
// could not prove that nothing was published) and waited with a bound
// instead, and how many of those waits ended on their timer. Diagnostics:
// a timeout is the designed path for a producer descheduled between claim
// and publish, not a missed wake-up.
func (w *Waiter) ClaimWaits() (waits, timeouts uint64) {
	return w.claimWaits.Load(), w.claimTimeouts.Load()
}
