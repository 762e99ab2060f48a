package park

// The policy: how a consumer waits once it finds nothing to read (the
// spin and yield every policy starts with, then park, linger or spin).
// The protocol it relies on to block (the wake word, announce, park) is in
// park.go, and needs nothing from here but the positions to arm.

import (
	"runtime"
	"time"
)

// Spin and yield budgets before the policy takes over. Wait is called right
// after the caller found nothing to read, so each spin first waits, then
// re-checks: Backoff(spinFrom+i) (Backoff counts loop iterations, not
// time), without touching shared memory. A consumer that re-checks at once catches the producers in the
// middle of a cache line and takes values a few at a time, and each look
// pulls the lines the producers are writing over to its core and back; one
// that lets a batch build makes every push cheaper (docs/benchmarks.md,
// "Consumer back-off"). With one P (GOMAXPROCS=1) nothing can be published
// while the consumer spins, so it does not spin. spins is the most a Wait
// may spin; how many it does depends on how soon the last spins found a
// value (nextBudget).
const (
	spins    = 4
	spinFrom = 7
	yields   = 1
)

// nextBudget is the spin budget after a Wait that had a budget of n spins
// and found a value after spin i (i == n: at the yield; i < 0: not before
// the policy took over). The spin pays when the producers keep the ring
// busy: then the first wait finds a batch, and the budget
// grows back to most (with no budget, a value found at the yield counts as
// that first find). A value found only later, or not at all, means the
// producers are paced: the budget shrinks (by one, to no less than one
// spin, when a later spin or the yield still found a value; by half when
// the consumer went on to its policy), so a paced consumer mostly goes
// straight from the yield to its policy (docs/benchmarks.md, "Adaptive
// spin").
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

// Backoff busy-waits for about 16<<min(attempt, 8) loop iterations (16 to
// 4096) without touching shared memory. attempt
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

// Kind is a Policy's way of waiting.
type Kind uint8

const (
	KindDefault Kind = iota // the component's default
	KindPark                // block until a publish, Wake or done
	KindLinger              // sleep for Policy.Linger, woken by a fill or a refusal, then park
	KindSpin                // never block
)

// Policy is how the consumer waits once its spin and yield found nothing:
// package wait's Policy, as the Waiter runs it.
type Policy struct {
	Kind   Kind
	Linger time.Duration // KindLinger: how long the consumer sleeps before it parks
}

// PolicyOf converts a package wait Policy (passed as any) to a Policy. Set
// by package wait, whose Policy keeps its fields unexported; every caller
// imports that package, so it is set before any call.
var PolicyOf func(any) Policy

// SetPolicy sets how the following Waits wait; KindDefault means def.
// Consumer only (or before the consumer starts).
func (w *Waiter) SetPolicy(p, def Policy) {
	if p.Kind == KindDefault {
		p = def
	}
	if p.Kind == KindDefault || p.Kind == KindLinger && p.Linger <= 0 {
		p = Policy{Kind: KindPark}
	}
	w.policy = p
	if p.Kind != KindLinger {
		// A linger's word kept from the old policy would have a push
		// that reaches it send a token (a spinning consumer arms none).
		// A producer's CAS that wins first sent one: one spurious return.
		if a := w.at.Load(); a&(armed|lingerBit) == armed|lingerBit {
			w.at.CompareAndSwap(a, 0)
		}
	}
}

// Policy returns the policy the Waits follow. Consumer only.
func (w *Waiter) Policy() Policy { return w.policy }

// Wait blocks the consumer until ready() reports true, a producer wakes it,
// done is closed or timer fires. done and timer may be nil; a done closed
// before the call is answered at once (Ready if ready(), else Done).
//
// head is the position the consumer reads next: parked, it is woken by a
// publish that reaches beyond it. lingerAt is the position whose publish
// wakes it while it lingers. In the default mode idle() must report
// whether no push is claimed beyond what the consumer has read (one
// sequentially consistent load of the claim index), and Wait blocks
// without a bound only when it holds; with UseHeavyFence only after a
// successful fence (idle() is not consulted), and with UseBoundedWait
// never. Wait allocates nothing.
func (w *Waiter) Wait(head, lingerAt uint64, ready, idle func() bool, done <-chan struct{}, timer <-chan time.Time) Reason {
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
	if w.policy.Kind == KindSpin {
		return w.spin(ready, done, timer)
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
	fence := false
	// With one P a push readies the consumer without waking a thread (no P
	// is idle to run it), so the wake-up that lingering spares costs
	// little, and the linger's timer would fire only when the producer
	// yields: it parks. After a refusal woke it, it parks too: parked, a
	// refusal costs a producer one load and no wake-up (Refused).
	refused := w.refused
	w.refused = false
	if w.at.Load() == refusedMark {
		// A refusal found the linger's word kept while the consumer read:
		// its token ends this Wait at once, so the next one parks too.
		refused, w.refused = true, true
	}
	if w.policy.Kind == KindLinger && w.spins > 0 && !refused {
		if r := w.linger(head, lingerAt, ready, done, timer); r != stepFired {
			return r
		}
		// The linger ran out: it was the park's bounded step (a fence at
		// once with UseHeavyFence: a second timer wake-up would be one
		// more than a value a few milliseconds later should cost).
		fence = true
	}
	return w.park(head, ready, idle, done, timer, fence)
}

// linger sleeps on the Waiter's timer for the policy's linger with the word
// armed at lingerAt (with lingerBit), or at the nearer position of an
// earlier linger's word it keeps: it returns stepFired when the timer ran
// out. It needs no memory order against the producers: a publish that its
// re-check misses and whose Notify loads a stale word is found by the park
// that follows the timer.
func (w *Waiter) linger(head, lingerAt uint64, ready func() bool, done <-chan struct{}, timer <-chan time.Time) Reason {
	// Tell producers where to wake it (no order needed), unless the word
	// of an earlier linger still does, at least half as far ahead: a store
	// costs the next push a cache miss on the word. A word that changed
	// meanwhile (a producer's clear, a refusal's mark) came with a token:
	// the sleep below returns at once. A refusal's mark stays for block
	// to find (the next Wait parks).
	if a := w.at.Load(); a != refusedMark && !w.keeps(a, head, lingerAt) {
		w.at.CompareAndSwap(a, armed|lingerBit|lingerAt&w.mask)
	}
	if ready() {
		return Ready // the word stays: a push reaching it sends a stale token at worst
	}
	r := w.sleep(w.policy.Linger, done, timer)
	if r == stepFired {
		w.lingers.Add(1)
		if ready() { // before the park: it stores the word, which costs producers a line
			return Ready
		}
	}
	return r
}

// keeps reports whether the wake word a, armed by an earlier linger, may
// stay for a linger from head that would arm lingerAt: it is a linger word
// at most as far ahead of head as lingerAt, and at least half as far.
func (w *Waiter) keeps(a, head, lingerAt uint64) bool {
	if a&(armed|lingerBit) != armed|lingerBit {
		return false
	}
	d, want := (a-head)&w.mask, (lingerAt-head)&w.mask
	return d <= want && d >= want/2
}

// spin polls ready(), the token, done and timer until one of them answers,
// without arming the word (producers pay their one load and never a
// wake-up). It yields every 64 polls, and at every poll with one P, so that
// the producers and the rest of the process get a processor.
func (w *Waiter) spin(ready func() bool, done <-chan struct{}, timer <-chan time.Time) Reason {
	for i := 1; ; i++ {
		if ready() {
			return Ready
		}
		select {
		case <-w.wake:
			return Woken
		case <-done:
			return Done
		case <-timer:
			return Timeout
		default:
		}
		if i%1024 == 0 {
			w.spins = spinsFor(runtime.GOMAXPROCS(0))
		}
		if w.spins == 0 || i%64 == 0 {
			runtime.Gosched()
		} else {
			Backoff(2)
		}
	}
}
