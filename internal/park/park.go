// Package park implements how the rings' consumers wait (Waiter) and
// Room, where producers that chose to wait for space park until the
// consumer frees some.
//
// # The wake word
//
// A Waiter is one atomic word, at, that says which publish must wake the
// consumer: none (it is running, or spinning), or a position. A producer
// that has published up to position to (exclusive) loads the word (Notify:
// one load in every state); if it holds a position at or before to, the
// producer clears it with a CAS and sends the token, so each arming is
// answered by one token at most. The consumer arms the word before it
// blocks and clears it when it runs again, except a linger's word, which
// it leaves for the next linger (below). What it arms is the policy:
//
//   - park: head+1, where head is the position it reads next: any later
//     publish wakes it, like a channel receive;
//   - linger: a position the caller passes (half a ring past head), with
//     lingerBit set, and it sleeps on a timer for the linger: producers
//     below that position pay the one load and no wake-up, a refusal for
//     want of room (Refused) wakes it, and when the timer fires it parks
//     (or reads, if something came). The word stays armed while it reads,
//     and the next linger keeps it while it is at least half as far ahead
//     of head as its own would be: every store of the word costs the next
//     push a cache miss on it (design.md, "Decisions"), and a push that
//     reaches a kept word early costs one spurious return;
//   - spin: nothing; it polls.
//
// Wake (flush, Close) clears the word and sends the token; a refusal for
// want of room does too while the word is a linger's (the consumer
// lingers, or reads with the word kept), leaving a mark (not armed) that
// makes the consumer's next Wait that blocks park instead of lingering.
//
// # Why a parked consumer never sleeps through a publish
//
// The producer publishes with a release store (internal/relstore: a plain
// MOV on amd64) and then loads at; the consumer stores at and then
// re-checks the ring. That is a store→load pattern on both sides (Dekker),
// and a release store gives no store→load order: the producer's load of
// at may complete while its publish still sits in its store buffer. So
// the outcome "producer saw no armed word, consumer saw the ring empty" is
// possible (docs/design.md, "No lost wake-ups"), and the
// consumer must not rely on the publish to decide that it may block.
//
// It relies on the claim instead. Every push claims its slot with a CAS on
// the ring's tail before it publishes, and a CAS is sequentially consistent
// (on amd64 a LOCK CMPXCHG: a full fence). The consumer arms the word with
// a sequentially consistent store, then asks idle(): "is nothing claimed
// beyond what I have read?" (one load of tail). In the single total order
// of the sequentially consistent operations, either
//
//   - the producer's CAS comes first: idle() sees the claim, and the
//     consumer does not block without bound; it waits for the publish with
//     a short timer, re-checking (a claimed slot is published after one
//     copy, unless its producer is descheduled), or
//
//   - the consumer's load of tail comes first: then its store of head+1
//     precedes the CAS, which precedes the producer's load of at, so the
//     producer loads head+1 or a later store of the consumer's; its claim
//     is at head or beyond (idle() saw nothing claimed beyond head), so
//     its publish reaches head+1 and it sends the token (unless a later
//     store of the consumer's, or another waker, cleared the word: then the
//     consumer was woken, or is running, and re-checks).
//
//     consumer                               producer
//     --------                               --------
//     at.Store(head+1)        (SC)           CAS tail pos → pos+1   (SC: claim)
//     if ready()  → return                   copy value
//     if idle()   → block on token           publish seq/header     (release)
//     else        → block on token or timer  if at.Load() ≤ pos+1 → CAS at → none, send token
//
// A lingering consumer needs no order: its linger ends on its timer, and
// the park after it is the protocol above. A spinning one arms nothing and
// polls. A ring without a claim (spsc) uses the heavy fence instead
// (UseHeavyFence). The producer's fast path has no fence and no extra
// atomic. The wake channel has one slot and sends never block, so a
// producer never waits. A stale token only causes one spurious return,
// which callers tolerate by re-checking their condition.
//
// This file is the protocol (the wake word, Notify, announce, park);
// policy.go is the policy (the spin, and which word Wait arms, for how
// long). docs/design.md, "Consumer waiting" and "No lost wake-ups", holds
// the argument.
package park

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ringsink/ringsink/internal/pad"
)

// A parked consumer that cannot prove that no publish escaped its re-check
// (a slot claimed but not yet published; UseBoundedWait) re-checks on a
// timer that starts at stepMin and doubles up to stepMax. With
// UseHeavyFence the first step is fenceAfter, and the fence follows it.
const (
	stepMin    = 20 * time.Microsecond
	stepMax    = time.Millisecond
	fenceAfter = time.Millisecond
)

// The wake word: 0 (none), or armed | position, with lingerBit for a
// linger's word (the consumer lingers, or reads with the word kept);
// refusedMark (not armed) once a refusal found a linger's word, until the
// consumer's next Wait takes it. Positions keep their low posBits (62 at
// most) bits.
const (
	armed       = 1 << 63
	lingerBit   = 1 << 62
	refusedMark = lingerBit
	maxBits     = 62
)

// Waiter parks one consumer goroutine. The zero value is not usable; call Init.
//
// Notify, Refused and Wake are safe for any number of goroutines; Wait and
// SetPolicy must only be called by the single consumer goroutine (or before
// it starts).
type Waiter struct {
	_ pad.Line
	// at is the wake word (package doc): stored by the consumer, loaded by
	// every producer's Notify, cleared by a CAS of the producer, Refused or
	// Wake that sends the token.
	at    atomic.Uint64
	sign  uint64 // 1 << (posBits-1): Notify's wrapping compare; set by Init, then read-only
	_     pad.Line
	wake  chan struct{} // one slot: at most one outstanding token
	timer *time.Timer   // consumer only: the linger's and the bounded steps' timer
	mask  uint64        // the positions' low posBits bits

	// policy is how Wait waits (SetPolicy); consumer only.
	policy Policy

	// refused: a refusal woke the consumer from its linger (Refused); the
	// next Wait parks instead of lingering. Consumer only.
	refused bool

	// spins is the most the consumer may spin, spinsFor(GOMAXPROCS). Consumer
	// only; read in Init and again after every block, because asking the
	// runtime takes its scheduler lock: too dear for every empty poll,
	// cheap next to a block. A change of GOMAXPROCS counts from the next
	// block.
	spins int

	// budget is how many of the spins the next Wait may use (consumer
	// only): nextBudget adapts it to how soon the last spin paid off.
	budget int

	// check is how announce may conclude that it can block without a
	// bound (UseHeavyFence, UseBoundedWait). Set before use, then read-only.
	check     checkMode
	fenceFrom time.Duration // checkFence: the bounded step before a park fences

	lingers       atomic.Uint64 // lingers that ran out on their timer
	claimWaits    atomic.Uint64 // parks that could not prove idle: bounded steps
	claimTimeouts atomic.Uint64 // of those steps, ones that ended on the timer
	fences        atomic.Uint64 // heavy fences run
}

// checkMode is how a parking consumer proves that no publish escaped it.
type checkMode uint8

const (
	checkIdle    checkMode = iota // idle(): the producers' claim CAS is the fence (mpsc)
	checkFence                    // heavyFence, then ready(): no claim (spsc)
	checkBounded                  // no proof: every park re-checks on the bounded steps
)

// Init prepares w for a ring whose positions are posBits-bit counters
// that wrap (64 for slot rings, 32 for ByteRing); the wake word keeps their
// low 62 bits at most. The policy is Park until SetPolicy.
func (w *Waiter) Init(posBits uint) {
	posBits = min(posBits, maxBits)
	w.wake = make(chan struct{}, 1)
	w.sign = 1 << (posBits - 1)
	w.mask = 1<<posBits - 1
	w.policy = Policy{Kind: KindPark}
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	w.spins = spinsFor(runtime.GOMAXPROCS(0))
	w.budget = w.spins
	w.check = checkIdle
}

// UseHeavyFence, called after Init and before the first Wait, is for a
// ring with no claim to check: one producer that publishes with a release
// store and then calls Notify (spsc). Nothing orders that store before the
// producer's load of the wake word. A park that has found nothing for
// fenceAfter (one timer step), or that follows a linger that ran out, runs
// heavyFence between arming the word and re-checking ready(): the fence
// drains the producer's publish (ready() sees it) or comes before the
// producer's load of the word (the producer sees it armed and sends the
// token), so the consumer may then block without a bound. The fence costs
// a system call and an IPI to every CPU running the process, once per park
// that blocks without a timer. The process registers for it the first time
// a park needs it, in the background (the registration waits for an RCU
// grace period, milliseconds); until it is done, or where the fence is not
// available, the consumer re-checks on the bounded steps.
func (w *Waiter) UseHeavyFence() { w.UseHeavyFenceFrom(fenceAfter) }

// UseHeavyFenceFrom is UseHeavyFence with the fence run after a first
// bounded step of from (0: at every park's first re-check). For tests,
// which need the fenced check to run often.
func (w *Waiter) UseHeavyFenceFrom(from time.Duration) {
	w.check = checkFence
	w.fenceFrom = from
}

// UseBoundedWait, called after Init and before the first Wait, is for a
// consumer that cannot prove that a publish did not escape its re-check:
// every park then re-checks on a timer from 20 µs doubling to 1 ms, so a
// missed wake-up costs at most that long, and an idle consumer wakes every
// millisecond. Tests use it to force the fallback of UseHeavyFence.
func (w *Waiter) UseBoundedWait() { w.check = checkBounded }

// arm stores the wake word: wake the consumer once a publish reaches pos.
func (w *Waiter) arm(pos, flags uint64) { w.at.Store(armed | flags | pos&w.mask) }

// Notify is the producer's fast path, called after it published the
// positions up to to (exclusive): one atomic load, and a wake-up only when
// the consumer armed a position at or before to. Call it after publishing
// something the consumer's ready() condition sees, and only after a claim
// that idle() sees (see the package doc for why), or with the consumer in
// UseHeavyFence or UseBoundedWait mode.
func (w *Waiter) Notify(to uint64) {
	// armed is the word's top bit: an unarmed word (a consumer running
	// without a kept linger word, or spinning) costs the push this load and
	// a branch, inlined. An armed one goes to notifySlow, which compares the
	// positions (a linger's word is armed further on, and most pushes return
	// from there): with the compare here, Notify was too costly to inline,
	// and every push paid a call.
	if int64(w.at.Load()) < 0 {
		w.notifySlow(to)
	}
}

// notifySlow wakes the consumer whose armed position to reaches, unless
// another waker (or the consumer) clears or changes the word first; it
// reports whether it sent the token (for the litmus tests). Kept out of
// Notify, which a push calls every time: Notify stays a load and a branch.
//
//go:noinline
func (w *Waiter) notifySlow(to uint64) bool {
	for {
		a := w.at.Load()
		if a&armed == 0 || (to-a)&w.sign != 0 {
			return false
		}
		// The CAS makes exactly one waker send the token for each arming.
		if w.at.CompareAndSwap(a, 0) {
			w.token()
			return true
		}
	}
}

// notify is Notify, reporting whether it sent a token (litmus tests).
func (w *Waiter) notify(to uint64) bool { return w.notifySlow(to) }

// Refused is for a producer whose push the ring refused for want of room:
// it wakes a lingering consumer, which a push short of its fill does not,
// though a ring may have no room for a large record before it is half full
// (a ByteRing's padding). It acts on a linger's word only (the consumer
// lingers, or reads with the word kept), and is one load otherwise (a
// parked consumer was woken by the pushes that filled the ring, or holds
// what fills it on purpose: a durable ring's sealed records). The
// consumer's next Wait that blocks parks instead of lingering: where the
// ring holds what the consumer keeps, every refusal would wake it from
// every linger.
func (w *Waiter) Refused() {
	// The CAS, as Notify's, makes one waker send the token for the linger;
	// the mark it leaves is not armed (Notify ignores it) and tells the
	// consumer why it woke (block).
	if a := w.at.Load(); a&(armed|lingerBit) == armed|lingerBit && w.at.CompareAndSwap(a, refusedMark) {
		w.token()
	}
}

// Wake wakes the consumer for an event its ready() condition does not see
// (a flush request, Close). It clears the wake word and always leaves a
// token, so a consumer that is just about to block returns at once instead
// of missing the event. It never blocks.
func (w *Waiter) Wake() {
	if a := w.at.Load(); a != 0 {
		w.at.CompareAndSwap(a, 0) // producers need not wake it too
	}
	w.token()
}

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

	stepFired Reason = 255 // internal: the Waiter's own timer fired
)

// verdict is what the consumer may do after announcing the park.
type verdict uint8

const (
	vReady   verdict = iota // ready() holds: do not block
	vBlock                  // nothing can have escaped: block until a token
	vClaimed                // a slot is claimed, not yet published (or no proof): block with a bound
)

// announce arms the wake word at head+1, then (with UseHeavyFence, and
// fence set) runs the heavy fence, then re-checks ready() and (in the
// default mode) idle(), in that order: the consumer's half of the protocol
// in the package doc. It leaves the word armed unless the verdict is
// vReady.
func (w *Waiter) announce(head uint64, ready, idle func() bool, fence bool) verdict {
	w.arm(head+1, 0) // sequentially consistent: ordered before idle()'s load of tail
	// checkFence: the fence orders the producer's publish before ready()'s
	// load (design.md, "No lost wake-ups", section 3), when the caller asks
	// for it; refused, or not yet registered, it proves nothing (bounded
	// steps). checkBounded never proves anything.
	fenced := w.check == checkFence && fence && w.heavyFence()
	if ready() {
		w.at.Store(0) // running: producers need not wake it
		return vReady
	}
	if fenced || (w.check == checkIdle && idle()) {
		return vBlock
	}
	return vClaimed
}

func (w *Waiter) heavyFence() bool {
	if heavyFence() {
		w.fences.Add(1)
		return true
	}
	return false
}

// park announces the park and blocks: without a bound when announce
// proves that no publish escaped it, else re-checking on the bounded
// steps. fence: run the heavy fence at the first announce (the consumer
// lingered already).
func (w *Waiter) park(head uint64, ready, idle func() bool, done <-chan struct{}, timer <-chan time.Time, fence bool) Reason {
	d := stepMin
	if w.check == checkFence {
		// One step of fenceFrom, then the fence: a park that a push ends
		// within it pays no fence, one that lasts longer pays one.
		d = max(w.fenceFrom, stepMin)
		fence = fence || w.fenceFrom == 0
	}
	for {
		switch w.announce(head, ready, idle, fence) {
		case vReady:
			return Ready
		case vBlock:
			return w.block(done, timer, nil)
		}
		// A producer is between its claim and its publish (or, in the
		// fence and bounded modes, nothing proves that no publish escaped
		// the check). Its Notify may miss the word (see the package doc),
		// so wait for it with a bound; Notify still wakes the consumer at
		// once meanwhile.
		w.claimWaits.Add(1)
		if r := w.sleep(d, done, timer); r != stepFired {
			return r
		}
		w.claimTimeouts.Add(1)
		if ready() {
			return Ready
		}
		fence = true
		d = min(2*d, stepMax)
	}
}

// sleep blocks as block does, for d at most (stepFired).
func (w *Waiter) sleep(d time.Duration, done <-chan struct{}, timer <-chan time.Time) Reason {
	w.timer.Reset(d)
	r := w.block(done, timer, w.timer.C)
	w.timer.Stop()
	return r
}

// block waits for a token, done, timer or step, then clears the wake word.
func (w *Waiter) block(done <-chan struct{}, timer, step <-chan time.Time) Reason {
	var r Reason
	select {
	case <-w.wake:
		r = Woken
	case <-done:
		r = Done
	case <-timer:
		r = Timeout
	case <-step:
		r = stepFired
	}
	// Running again: producers need not wake the consumer (a waker's CAS
	// that cleared it first sent a token the next Wait will find, stale).
	// A linger that ran out keeps its word (linger: the next linger may
	// reuse it); a word already cleared is not written again: every store
	// costs the next push a cache miss on the word.
	if a := w.at.Load(); a != 0 && (r != stepFired || a&(armed|lingerBit) != armed|lingerBit) {
		if w.at.Swap(0) == refusedMark {
			w.refused = true
		}
	}
	w.spins = spinsFor(runtime.GOMAXPROCS(0))
	return r
}

// LingerAt arms the wake word as a lingering consumer does, to be woken by
// a publish that reaches pos. For tests of which pushes wake it.
func (w *Waiter) LingerAt(pos uint64) { w.arm(pos, lingerBit) }

// IsParked reports whether the consumer has armed the word to be woken by
// the next publish (it is parking or parked). For tests and diagnostics.
func (w *Waiter) IsParked() bool {
	a := w.at.Load()
	return a&armed != 0 && a&lingerBit == 0
}

// IsLingering reports whether the word is a linger's: the consumer
// lingers, or reads with the word kept for its next linger. For tests.
func (w *Waiter) IsLingering() bool { return w.at.Load()&(armed|lingerBit) == armed|lingerBit }

// WakeAt returns the position the wake word holds (its low posBits bits),
// and whether it is armed. For tests.
func (w *Waiter) WakeAt() (uint64, bool) {
	a := w.at.Load()
	return a & w.mask, a&armed != 0
}

// Lingers returns how many of the consumer's lingers ran out on their
// timer. Diagnostics.
func (w *Waiter) Lingers() uint64 { return w.lingers.Load() }

// Fences returns how many heavy fences the consumer has run. Diagnostics.
func (w *Waiter) Fences() uint64 { return w.fences.Load() }

// ClaimWaits returns how many times the consumer, about to park, found a
// claimed but unpublished slot (or, with UseHeavyFence or UseBoundedWait,
// could not prove that nothing was published) and waited with a bound
// instead, and how many of those waits ended on their timer. Diagnostics:
// a timeout is the designed path for a producer descheduled between claim
// and publish, not a missed wake-up.
func (w *Waiter) ClaimWaits() (waits, timeouts uint64) {
	return w.claimWaits.Load(), w.claimTimeouts.Load()
}
