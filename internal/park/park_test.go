package park

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// idle reports nothing claimed: Wait may block without a bound.
func idle() bool { return true }

func newWaiter() *Waiter {
	w := &Waiter{}
	w.Init(1024, 64)
	return w
}

func TestWaitReasons(t *testing.T) {
	w := newWaiter()
	if r := w.Wait(0, func() bool { return true }, idle, nil, nil); r != Ready {
		t.Fatalf("Wait with a ready condition = %v; want Ready", r)
	}
	done := make(chan struct{})
	close(done)
	if r := w.Wait(0, func() bool { return false }, idle, done, nil); r != Done {
		t.Fatalf("Wait with done closed = %v; want Done", r)
	}
	if r := w.Wait(0, func() bool { return false }, idle, nil, time.After(time.Millisecond)); r != Timeout {
		t.Fatalf("Wait with a timer = %v; want Timeout", r)
	}
	if w.IsParked() {
		t.Fatal("parked flag left set after Wait returned")
	}
}

// TestWakeBeforeParkIsNotLost: a Wake that lands before the consumer parks
// (the flush/close race) must still end the next Wait.
func TestWakeBeforeParkIsNotLost(t *testing.T) {
	w := newWaiter()
	w.Wake()
	got := make(chan Reason, 1)
	go func() { got <- w.Wait(0, func() bool { return false }, idle, nil, nil) }()
	select {
	case r := <-got:
		if r != Woken {
			t.Fatalf("Wait = %v; want Woken", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a Wake before the park was lost")
	}
}

func TestNotifyWakesParkedConsumerOnly(t *testing.T) {
	w := newWaiter()
	w.Notify(0, 1) // nobody parked: no token
	var ready atomic.Bool
	got := make(chan Reason, 1)
	go func() { got <- w.Wait(0, ready.Load, idle, nil, nil) }()
	for !w.IsParked() {
		time.Sleep(time.Millisecond)
	}
	select {
	case r := <-got:
		t.Fatalf("Wait returned %v with nothing ready (a stale Notify token?)", r)
	case <-time.After(20 * time.Millisecond):
	}
	ready.Store(true)
	w.Notify(0, 1)
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("Notify did not wake the parked consumer")
	}
}

func TestRoom(t *testing.T) {
	var r Room
	r.Freed() // nobody waits: nothing happens
	ch := r.Register()
	got := make(chan error, 1)
	go func() {
		var turn Turn
		got <- r.WaitTurn(context.Background(), ch, nil, &turn)
	}()
	r.Freed()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("Wait = %v; want nil after Freed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Freed did not wake the waiting producer")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var turn Turn
	if err := r.WaitTurn(ctx, r.Register(), nil, &turn); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context = %v", err)
	}
	if n := r.waiters.Load(); n != 0 {
		t.Fatalf("%d waiters left registered", n)
	}
}

// TestWaitClaimedSlot: with a slot claimed but unpublished (idle false),
// Wait must not block without a bound: the producer's Notify may have
// missed parked, so Wait re-checks on its own timer and returns once the
// record is ready, with no Notify at all.
func TestWaitClaimedSlot(t *testing.T) {
	w := newWaiter()
	var ready atomic.Bool
	notIdle := func() bool { return false }
	go func() {
		// Publish only once Wait has timed out on a claim at least once,
		// and without Notify.
		for _, timeouts := w.ClaimWaits(); timeouts == 0; _, timeouts = w.ClaimWaits() {
			time.Sleep(100 * time.Microsecond)
		}
		ready.Store(true)
	}()
	got := make(chan Reason, 1)
	go func() { got <- w.Wait(0, ready.Load, notIdle, nil, nil) }()
	select {
	case r := <-got:
		if r != Ready {
			t.Fatalf("Wait = %v; want Ready", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait blocked without a bound while a slot was claimed")
	}
	waits, timeouts := w.ClaimWaits()
	if waits == 0 || timeouts == 0 {
		t.Fatalf("ClaimWaits() = %d, %d; want both > 0", waits, timeouts)
	}
	if w.IsParked() {
		t.Fatal("parked flag left set")
	}

	// The caller's done (closed before the call: answered at once, even
	// with a token waiting; or closed during a claimed wait) and timer
	// still end a claimed wait, and the claim timer is not mistaken for
	// the caller's.
	done := make(chan struct{})
	close(done)
	never := func() bool { return false }
	w.Wake()
	if r := w.Wait(0, never, notIdle, done, nil); r != Done {
		t.Fatalf("claimed Wait with done closed and a token = %v; want Done", r)
	}
	w.Wait(0, never, notIdle, nil, nil) // take the token
	later := make(chan struct{})
	go func() {
		for !w.IsParked() {
			time.Sleep(time.Millisecond)
		}
		close(later)
	}()
	if r := w.Wait(0, never, notIdle, later, nil); r != Done {
		t.Fatalf("claimed Wait, done closed while parked = %v; want Done", r)
	}
	if r := w.Wait(0, never, notIdle, nil, time.After(5*time.Millisecond)); r != Timeout {
		t.Fatalf("claimed Wait with a timer = %v; want Timeout", r)
	}
	w.Wake()
	if r := w.Wait(0, never, notIdle, nil, nil); r != Woken {
		t.Fatalf("claimed Wait after Wake = %v; want Woken", r)
	}
}

// TestNoSpinOnOneP: with one P nothing is published while the consumer
// spins, so Wait spins only when there are at least two.
func TestNoSpinOnOneP(t *testing.T) {
	for _, c := range []struct{ procs, want int }{{1, 0}, {0, 0}, {2, spins}, {64, spins}} {
		if got := spinsFor(c.procs); got != c.want {
			t.Errorf("spinsFor(%d) = %d; want %d", c.procs, got, c.want)
		}
	}
	// The budget follows GOMAXPROCS from Init, and after a park.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var w Waiter
	w.Init(1024, 64)
	if w.spins != spins {
		t.Fatalf("after Init with GOMAXPROCS=2: %d spins; want %d", w.spins, spins)
	}
	runtime.GOMAXPROCS(1)
	w.Wake()
	if r := w.Wait(0, func() bool { return false }, func() bool { return true }, nil, nil); r != Woken {
		t.Fatalf("Wait after Wake = %v; want Woken", r)
	}
	if w.spins != 0 {
		t.Fatalf("after a park with GOMAXPROCS=1: %d spins; want 0", w.spins)
	}
	// The spin budget left from two Ps (halved by that park, not zero) must
	// not spin at one: a Wait that finds nothing checks once after the
	// yield and once when it announces the park.
	if w.budget == 0 {
		t.Fatal("the park emptied the budget: this check would prove nothing")
	}
	calls := 0
	w.Wake()
	if r := w.Wait(0, func() bool { calls++; return false }, func() bool { return true }, nil, nil); r != Woken {
		t.Fatalf("Wait after Wake = %v; want Woken", r)
	}
	if calls != 2 {
		t.Fatalf("with GOMAXPROCS=1, Wait called ready() %d times; want 2 (no spin)", calls)
	}
}

// TestCheckModes: what announce concludes on a ring that is empty and
// idle, by how the consumer proves that no publish escaped it. The claim
// check (mpsc) blocks without a bound when idle() holds; the heavy fence
// (spsc) only when asked to fence (Wait asks once its bounded waits have
// reached their longest step) and the fence works, and then without
// consulting idle(); the bounded wait never does. With the bounded wait,
// Wait returns on its timer when a value is published without a Notify
// (the wake-up a missing fence could lose). These check the verdicts, not
// the fence's ordering: the litmus and watchdog tests do that.
func TestCheckModes(t *testing.T) {
	notReady := func() bool { return false }
	idleTrue := func() bool { return true }
	idleFalse := func() bool { return false }
	w := newWaiter()
	if v := w.announce(notReady, idleTrue, false); v != vBlock {
		t.Fatalf("claim check, idle: %v; want vBlock", v)
	}
	if v := w.announce(notReady, idleFalse, true); v != vClaimed {
		t.Fatalf("claim check, a claim in flight: %v; want vClaimed", v)
	}
	w = newWaiter()
	w.UseHeavyFence()
	if v := w.announce(notReady, idleTrue, false); v != vClaimed {
		t.Fatalf("heavy fence, not asked to fence: %v; want vClaimed", v)
	}
	want := vClaimed // no fence here: the bounded wait
	if HeavyFenceAvailable() {
		want = vBlock
	}
	if v := w.announce(notReady, idleFalse, true); v != want {
		t.Fatalf("heavy fence, fenced (available: %v): %v; want %v (idle() is not consulted)", HeavyFenceAvailable(), v, want)
	}
	modes := []func(*Waiter){(*Waiter).UseBoundedWait}
	if !HeavyFenceAvailable() {
		// UseHeavyFence falls back to the bounded wait. Where the fence
		// works, a publish without Notify after the bounded steps would
		// (rightly) never be seen.
		modes = append(modes, (*Waiter).UseHeavyFence)
	}
	for _, mode := range modes {
		w = newWaiter()
		mode(w)
		if v := w.announce(notReady, idleTrue, false); v != vClaimed {
			t.Fatalf("bounded wait, idle: %v; want vClaimed", v)
		}
		var published atomic.Bool
		time.AfterFunc(5*time.Millisecond, func() { published.Store(true) }) // no Notify
		if r := w.Wait(0, published.Load, idleTrue, nil, nil); r != Ready {
			t.Fatalf("bounded wait for an unannounced publish: %v; want Ready", r)
		}
		if waits, timeouts := w.ClaimWaits(); waits == 0 || timeouts == 0 {
			t.Fatalf("bounded wait: %d waits, %d timeouts; want both > 0", waits, timeouts)
		}
	}
}

// TestFenceModeStopsPolling: with UseHeavyFence a consumer on an idle ring
// that naps (its spin had not been paying) naps six times (20 µs to
// 640 µs), then fences and blocks without a timer; one that parks at once
// (its spin had been paying) re-checks on the bounded timer six times
// (Notify wakes it meanwhile), then fences and blocks. Either way an idle
// consumer then costs nothing, and Notify wakes it.
func TestFenceModeStopsPolling(t *testing.T) {
	if !HeavyFenceAvailable() {
		t.Skip("no heavy fence here: the bounded wait polls by design")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, c := range []struct {
		name                    string
		budget                  int
		naps, bounded, timeouts uint64
	}{{"paced", 0, napSteps, 0, 0}, {"busy", spins, 0, 6, 6}} {
		w := newWaiter()
		w.UseHeavyFence()
		w.budget = c.budget
		var published atomic.Bool
		returned := make(chan Reason, 1)
		go func() { returned <- w.Wait(0, published.Load, idle, nil, nil) }()
		time.Sleep(100 * time.Millisecond)
		naps := w.Naps()
		_, first := w.ClaimWaits()
		time.Sleep(100 * time.Millisecond)
		waits, second := w.ClaimWaits()
		if naps != c.naps || w.Naps() != c.naps || waits != c.bounded || first != c.timeouts || second != c.timeouts {
			t.Fatalf("%s: %d naps, %d bounded waits, %d then %d (100 ms later) of them timed out; want %d, %d, %d, %d",
				c.name, w.Naps(), waits, first, second, c.naps, c.bounded, c.timeouts, c.timeouts)
		}
		if !w.IsParked() {
			t.Fatalf("%s: the consumer is not parked", c.name)
		}
		published.Store(true)
		w.Notify(0, 1)
		select {
		case r := <-returned:
			if r != Woken && r != Ready {
				t.Fatalf("%s: Wait = %v; want Woken or Ready", c.name, r)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Notify did not wake the fenced consumer", c.name)
		}
	}
}

// TestSpinBudgetAdapts: the spin is kept while the first short wait finds
// a value (producers keep the ring busy) and given up, down to one spin,
// while values come later; a park halves it. The test counts ready()
// calls: a Wait with a budget of n spins calls it once per spin, then once
// after the yield.
func TestSpinBudgetAdapts(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var w Waiter
	w.Init(1024, 64)
	if w.budget != spins {
		t.Fatalf("after Init: budget %d; want %d", w.budget, spins)
	}
	idle := func() bool { return true }
	// readyAt returns a ready() that first reports true on its k-th call
	// (0: never), and how many calls it has had.
	readyAt := func(k int) (func() bool, *int) {
		calls := new(int)
		return func() bool { *calls++; return k > 0 && *calls >= k }, calls
	}
	wait := func(k int) int {
		t.Helper()
		ready, calls := readyAt(k)
		if k == 0 {
			w.Wake() // the park returns at once
		}
		want := Ready
		if k == 0 {
			want = Woken
		}
		if r := w.Wait(0, ready, idle, nil, nil); r != want {
			t.Fatalf("Wait (value at call %d) = %v; want %v", k, r, want)
		}
		return *calls
	}
	// Busy: the first spin finds a value, and the budget stays full.
	for range 3 {
		if c := wait(1); c != 1 {
			t.Fatalf("busy ring: %d ready() calls; want 1", c)
		}
		if w.budget != spins {
			t.Fatalf("busy ring: budget %d; want %d", w.budget, spins)
		}
	}
	// Paced: the value turns up only after the yield; each such Wait gives
	// up one spin, down to one.
	for want := spins - 1; want >= 1; want-- {
		n := w.budget
		if c := wait(n + 1); c != n+1 {
			t.Fatalf("paced ring, budget %d: %d ready() calls; want %d", n, c, n+1)
		}
		if w.budget != want {
			t.Fatalf("paced ring: budget %d; want %d", w.budget, want)
		}
	}
	if wait(2); w.budget != 1 {
		t.Fatalf("paced ring at one spin: budget %d; want it kept at 1", w.budget)
	}
	// A park halves the budget: from the full spin to half of it, and from
	// one spin to none; a Wait with none goes straight to the yield (one
	// ready() call).
	for range 3 {
		wait(1) // busy again: back to the full spin
	}
	if wait(0); w.budget != spins/2 {
		t.Fatalf("a park at budget %d: budget %d; want %d", spins, w.budget, spins/2)
	}
	for w.budget > 1 {
		wait(w.budget + 1) // found after the yield: one spin less
	}
	if wait(0); w.budget != 0 {
		t.Fatalf("after a park: budget %d; want 0", w.budget)
	}
	if c := wait(1); c != 1 || w.budget != 1 {
		t.Fatalf("no spin: %d ready() calls, budget then %d; want 1 and 1", c, w.budget)
	}
	// Busy again: each first-spin hit grows the budget back by one.
	for want := 2; want <= spins; want++ {
		if wait(1); w.budget != want {
			t.Fatalf("busy again: budget %d; want %d", w.budget, want)
		}
	}
}

// TestNotifyWakesNapperAtHalf: a producer that finds the consumer napping
// wakes it only once it publishes half a ring past where the consumer
// stopped reading, with positions that wrap at 64 bits (slot rings) or 32
// (ByteRing); a parked consumer is woken by any publish.
func TestNotifyWakesNapperAtHalf(t *testing.T) {
	for _, c := range []struct {
		bits       uint
		head, half uint64
	}{
		{64, 0, 512},
		{64, 1<<64 - 100, 512}, // wakeAt wraps past 2^64
		{32, 1<<32 - 100, 512}, // ByteRing positions wrap at 2^32
		{32, 1000, 512},
	} {
		var w Waiter
		w.Init(2*c.half, c.bits)
		mask := uint64(1)<<(c.bits%64) - 1
		if c.bits == 64 {
			mask = ^uint64(0)
		}
		at := func(d uint64) uint64 { return (c.head + d) & mask }
		w.NapAt(c.head)
		for _, d := range []uint64{0, 1, c.half - 2} {
			if w.notify(at(d), at(d+1)) {
				t.Fatalf("%d-bit positions, head %#x: a push ending %d past head woke the napping consumer; want only from %d", c.bits, c.head, d+1, c.half)
			}
			if !w.IsNapping() {
				t.Fatalf("%d-bit positions: state changed by a push that did not wake", c.bits)
			}
		}
		if !w.notify(at(c.half-1), at(c.half)) {
			t.Fatalf("%d-bit positions, head %#x: the push ending half a ring past head did not wake the napping consumer", c.bits, c.head)
		}
		if w.IsNapping() || len(w.wake) != 1 {
			t.Fatalf("%d-bit positions: after the wake, napping %v and %d tokens; want awake and 1", c.bits, w.IsNapping(), len(w.wake))
		}
		<-w.wake
		w.NapAt(c.head)
		if !w.notify(at(c.half+100), at(c.half+101)) {
			t.Fatalf("%d-bit positions: a push beyond half a ring did not wake the napping consumer", c.bits)
		}
		<-w.wake
		w.state.Store(parked)
		if !w.notify(at(0), at(1)) {
			t.Fatalf("%d-bit positions: the first push did not wake the parked consumer", c.bits)
		}
	}
}

// TestNapsOnlyWhenPaced: a Wait whose spin had been paying until lately
// (a budget of two spins or more: producers keep the ring busy) parks at
// once, so the next push wakes it; one whose spin had not been paying (one
// spin or none) naps napSteps times first, and producers pay nothing
// meanwhile. With one P it never naps.
func TestNapsOnlyWhenPaced(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	never := func() bool { return false }
	for _, c := range []struct {
		name          string
		procs, budget int
		naps          uint64
	}{{"busy", 2, spins, 0}, {"lately busy", 2, 2, 0}, {"paced", 2, 1, napSteps}, {"paced, no spin", 2, 0, napSteps}, {"one P", 1, 0, 0}} {
		runtime.GOMAXPROCS(c.procs)
		w := newWaiter()
		w.budget = c.budget
		returned := make(chan Reason, 1)
		go func() { returned <- w.Wait(0, never, idle, nil, nil) }()
		until(t, w, w.IsParked, c.name+": the consumer never parked")
		if got := w.Naps(); got != c.naps {
			t.Fatalf("%s (budget %d): %d naps before the park; want %d", c.name, c.budget, got, c.naps)
		}
		w.Wake()
		if r := <-returned; r != Woken {
			t.Fatalf("%s: Wait = %v; want Woken", c.name, r)
		}
	}
}

// TestNapFindsPublishWithoutNotify: a napping consumer re-checks on its
// timer, so a publish that no Notify announces (a producer that found it
// napping, below half a ring) still ends its Wait.
func TestNapFindsPublishWithoutNotify(t *testing.T) {
	w := newWaiter()
	w.SetNaps(1 << 30) // keep napping: only the nap's re-check can find the value
	var published atomic.Bool
	returned := make(chan Reason, 1)
	go func() { returned <- w.Wait(0, published.Load, idle, nil, nil) }()
	until(t, w, w.IsNapping, "the consumer never napped")
	published.Store(true)
	select {
	case r := <-returned:
		if r != Ready {
			t.Fatalf("Wait = %v; want Ready", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the napping consumer did not find the publish on its timer")
	}
}

// until polls cond every 100 µs for 10 s; on timeout it wakes w, which
// ends a Wait under test (nothing leaks), and fails with what.
func until(t *testing.T, w *Waiter, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			w.Wake()
			t.Fatal(what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestSlowValuesStopNaps: once a Wait's naps all run out (values come
// further apart than the naps last), later Waits park at once, so a slow
// producer pays its wake-up as with a channel and the consumer no timer
// wake-ups; a park that ends soon (values close together again) brings the
// naps back.
func TestSlowValuesStopNaps(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	never := func() bool { return false }
	w := newWaiter()
	w.budget = 0 // paced
	fenced := HeavyFenceAvailable()
	if fenced {
		w.UseHeavyFence() // as spsc: a slow park fences at once, no bounded steps
	}
	// parkThenWake runs a Wait, waits until it parks, sleeps for after and
	// wakes it; it returns how many naps the Wait took.
	parkThenWake := func(after time.Duration) uint64 {
		t.Helper()
		before := w.Naps()
		returned := make(chan Reason, 1)
		go func() { returned <- w.Wait(0, never, idle, nil, nil) }()
		until(t, w, w.IsParked, "the consumer never parked")
		time.Sleep(after)
		w.Wake()
		if r := <-returned; r != Woken {
			t.Fatalf("Wait = %v; want Woken", r)
		}
		return w.Naps() - before
	}
	if n := parkThenWake(0); n != napSteps {
		t.Fatalf("first Wait: %d naps; want %d", n, napSteps)
	}
	// Slow values: the naps ran out, so the next Wait parks at once; a
	// park that lasts longer than the naps took keeps it so.
	if w.napTook < napSpan {
		t.Fatalf("the naps took %v; want at least %v", w.napTook, napSpan)
	}
	for i := range 2 {
		if n := parkThenWake(2 * w.napTook); n != 0 {
			t.Fatalf("Wait %d after the naps ran out: %d naps; want 0", i+2, n)
		}
	}
	if waits, _ := w.ClaimWaits(); fenced && waits != 0 {
		t.Fatalf("%d bounded waits in slow parks with the heavy fence; want 0 (the timer wake-ups naps are dropped to spare)", waits)
	}
	// A park that ends sooner than the naps took: naps again, even when
	// it lasts longer than napSpan, since values that far apart are what
	// the naps catch (they take several times napSpan with timers of
	// millisecond resolution). The naps' length is set here, so that the
	// park's (a sleep, whose timer may run late on a loaded machine) sits
	// well between the two; a preemption could still stretch it, so try a
	// few times.
	w.napTook = time.Second // between Waits: the consumer is not running
	const short = 20 * time.Millisecond
	for i := 0; w.slow; i++ {
		if i == 5 {
			t.Fatalf("parks of %v (the naps took %v) did not bring the naps back", short, w.napTook)
		}
		parkThenWake(short)
	}
	if n := parkThenWake(0); n != napSteps {
		t.Fatalf("Wait after a short park: %d naps; want %d", n, napSteps)
	}
}

// TestNoNapWithAClaim: a Wait that finds a push claimed but not published
// (mpsc's idle() false) does not nap, since that push's Notify, short of
// half a ring, would not wake a napping consumer; it waits for the publish
// on the bounded steps, as a parked consumer that Notify wakes.
func TestNoNapWithAClaim(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	w := newWaiter()
	w.budget = 0 // paced: it would nap
	returned := make(chan Reason, 1)
	go func() { returned <- w.Wait(0, func() bool { return false }, func() bool { return false }, nil, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for waits, _ := w.ClaimWaits(); waits == 0; waits, _ = w.ClaimWaits() {
		if time.Now().After(deadline) {
			w.Wake()
			t.Fatal("the consumer never waited on the bounded steps")
		}
		time.Sleep(100 * time.Microsecond)
	}
	w.Wake()
	<-returned
	if n := w.Naps(); n != 0 {
		t.Fatalf("%d naps with a push claimed; want 0", n)
	}
}

// TestRefusedWakesNapper: a producer refused for want of room wakes a
// napping consumer (a ByteRing may refuse a large record before it is half
// full), and sends no token to an awake or parked one.
func TestRefusedWakesNapper(t *testing.T) {
	w := newWaiter()
	w.Refused()
	w.state.Store(parked)
	w.Refused()
	if len(w.wake) != 0 || !w.IsParked() {
		t.Fatalf("Refused on an awake, then a parked consumer: %d tokens, parked %v; want 0 and still parked", len(w.wake), w.IsParked())
	}
	w.NapAt(0)
	w.Refused()
	if w.IsNapping() || len(w.wake) != 1 {
		t.Fatalf("after Refused: napping %v, %d tokens; want awake and 1", w.IsNapping(), len(w.wake))
	}
	<-w.wake
	// The next Wait parks at once: a ring full of what the consumer keeps
	// would have each refusal wake it from its naps again.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	w.spins, w.budget = spins, 0 // paced: it would nap
	returned := make(chan Reason, 1)
	go func() { returned <- w.Wait(0, func() bool { return false }, idle, nil, nil) }()
	until(t, w, w.IsParked, "the consumer never parked")
	w.Wake()
	<-returned
	if n := w.Naps(); n != 0 {
		t.Fatalf("the Wait after a refusal took %d naps; want 0", n)
	}
}
