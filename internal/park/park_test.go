package park

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// idle reports nothing claimed: Wait may block without a bound.
func idle() bool { return true }

func newWaiter() *Waiter {
	w := &Waiter{}
	w.Init(64)
	return w
}

// policies are the policies every Waiter test runs with: a short linger,
// so that a test waits for its end in milliseconds.
var policies = []Policy{{Kind: KindPark}, {Kind: KindLinger, Linger: 2 * time.Millisecond}, {Kind: KindSpin}}

func (p Policy) String() string {
	return [...]string{"default", "park", fmt.Sprintf("linger(%v)", p.Linger), "spin"}[p.Kind]
}

func newPolicyWaiter(p Policy) *Waiter {
	w := newWaiter()
	w.SetPolicy(p, Policy{})
	return w
}

func TestSetPolicy(t *testing.T) {
	park, spin := Policy{Kind: KindPark}, Policy{Kind: KindSpin}
	linger := Policy{Kind: KindLinger, Linger: time.Millisecond}
	for _, c := range []struct{ p, def, want Policy }{
		{Policy{}, Policy{}, park},
		{Policy{}, linger, linger},
		{spin, linger, spin},
		{Policy{Kind: KindLinger}, spin, park}, // no linger: park
		{linger, spin, linger},
	} {
		w := newWaiter()
		w.SetPolicy(c.p, c.def)
		if got := w.Policy(); got != c.want {
			t.Errorf("SetPolicy(%v, %v): %v; want %v", c.p, c.def, got, c.want)
		}
	}
	if got := newWaiter().Policy(); got != park {
		t.Errorf("after Init: %v; want park", got)
	}
}

func TestWaitReasons(t *testing.T) {
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			w := newPolicyWaiter(p)
			if r := w.Wait(0, 512, func() bool { return true }, idle, nil, nil); r != Ready {
				t.Fatalf("Wait with a ready condition = %v; want Ready", r)
			}
			done := make(chan struct{})
			close(done)
			if r := w.Wait(0, 512, func() bool { return false }, idle, done, nil); r != Done {
				t.Fatalf("Wait with done closed = %v; want Done", r)
			}
			if r := w.Wait(0, 512, func() bool { return false }, idle, nil, time.After(time.Millisecond)); r != Timeout {
				t.Fatalf("Wait with a timer = %v; want Timeout", r)
			}
			if _, armed := w.WakeAt(); armed {
				t.Fatal("wake word left armed after Wait returned")
			}
		})
	}
}

// TestWakeBeforeParkIsNotLost: a Wake that lands before the consumer waits
// (the flush/close race) must still end the next Wait.
func TestWakeBeforeParkIsNotLost(t *testing.T) {
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			w := newPolicyWaiter(p)
			w.Wake()
			got := make(chan Reason, 1)
			go func() { got <- w.Wait(0, 512, func() bool { return false }, idle, nil, nil) }()
			select {
			case r := <-got:
				if r != Woken {
					t.Fatalf("Wait = %v; want Woken", r)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a Wake before the park was lost")
			}
		})
	}
}

// TestNotifyWakesOnlyAWaitingConsumer: Notify sends no token while the
// word is not armed, and wakes a parked consumer with the first publish.
func TestNotifyWakesOnlyAWaitingConsumer(t *testing.T) {
	w := newWaiter()
	w.Notify(1) // nobody waits: no token
	if len(w.wake) != 0 {
		t.Fatal("Notify with nobody waiting left a token")
	}
	var ready atomic.Bool
	got := make(chan Reason, 1)
	go func() { got <- w.Wait(0, 512, ready.Load, idle, nil, nil) }()
	until(t, w, w.IsParked, "the consumer never parked")
	select {
	case r := <-got:
		t.Fatalf("Wait returned %v with nothing ready (a stale Notify token?)", r)
	case <-time.After(20 * time.Millisecond):
	}
	ready.Store(true)
	w.Notify(1)
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
// a parking Wait must not block without a bound: the producer's Notify may
// have missed the wake word, so Wait re-checks on its own timer and returns
// once the record is ready, with no Notify at all. A lingering Wait parks
// the same way once its linger runs out.
func TestWaitClaimedSlot(t *testing.T) {
	for _, p := range policies[:2] {
		t.Run(p.String(), func(t *testing.T) { testWaitClaimedSlot(t, p) })
	}
}

func testWaitClaimedSlot(t *testing.T, p Policy) {
	w := newPolicyWaiter(p)
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
	go func() { got <- w.Wait(0, 512, ready.Load, notIdle, nil, nil) }()
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
		t.Fatal("wake word left armed")
	}

	// The caller's done (closed before the call: answered at once, even
	// with a token waiting; or closed during a claimed wait) and timer
	// still end a claimed wait, and the step timer is not mistaken for
	// the caller's.
	done := make(chan struct{})
	close(done)
	never := func() bool { return false }
	w.Wake()
	if r := w.Wait(0, 512, never, notIdle, done, nil); r != Done {
		t.Fatalf("claimed Wait with done closed and a token = %v; want Done", r)
	}
	w.Wait(0, 512, never, notIdle, nil, nil) // take the token
	later := make(chan struct{})
	go func() {
		for !w.IsParked() {
			time.Sleep(time.Millisecond)
		}
		close(later)
	}()
	if r := w.Wait(0, 512, never, notIdle, later, nil); r != Done {
		t.Fatalf("claimed Wait, done closed while parked = %v; want Done", r)
	}
	if r := w.Wait(0, 512, never, notIdle, nil, time.After(5*time.Millisecond)); r != Timeout {
		t.Fatalf("claimed Wait with a timer = %v; want Timeout", r)
	}
	w.Wake()
	if r := w.Wait(0, 512, never, notIdle, nil, nil); r != Woken {
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
	w.Init(64)
	if w.spins != spins {
		t.Fatalf("after Init with GOMAXPROCS=2: %d spins; want %d", w.spins, spins)
	}
	runtime.GOMAXPROCS(1)
	w.Wake()
	if r := w.Wait(0, 512, func() bool { return false }, func() bool { return true }, nil, nil); r != Woken {
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
	if r := w.Wait(0, 512, func() bool { calls++; return false }, func() bool { return true }, nil, nil); r != Woken {
		t.Fatalf("Wait after Wake = %v; want Woken", r)
	}
	if calls != 2 {
		t.Fatalf("with GOMAXPROCS=1, Wait called ready() %d times; want 2 (no spin)", calls)
	}
}

// TestCheckModes: what announce concludes on a ring that is empty and
// idle, by how the consumer proves that no publish escaped it. The claim
// check (mpsc) blocks without a bound when idle() holds; the heavy fence
// (spsc) only when asked to fence (Wait asks after one bounded step, or
// after a linger) and the fence works, and then without consulting
// idle(); the bounded wait never does. With the bounded wait, Wait returns
// on its timer when a value is published without a Notify (the wake-up a
// missing fence could lose). These check the verdicts, not the fence's
// ordering: the litmus and watchdog tests do that.
func TestCheckModes(t *testing.T) {
	notReady := func() bool { return false }
	idleTrue := func() bool { return true }
	idleFalse := func() bool { return false }
	w := newWaiter()
	if v := w.announce(0, notReady, idleTrue, false); v != vBlock {
		t.Fatalf("claim check, idle: %v; want vBlock", v)
	}
	if v := w.announce(0, notReady, idleFalse, true); v != vClaimed {
		t.Fatalf("claim check, a claim in flight: %v; want vClaimed", v)
	}
	w = newWaiter()
	w.UseHeavyFence()
	if v := w.announce(0, notReady, idleTrue, false); v != vClaimed {
		t.Fatalf("heavy fence, not asked to fence: %v; want vClaimed", v)
	}
	want := vClaimed // no fence here: the bounded wait
	if HeavyFenceAvailable() {
		want = vBlock
	}
	if v := w.announce(0, notReady, idleFalse, true); v != want {
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
		if v := w.announce(0, notReady, idleTrue, false); v != vClaimed {
			t.Fatalf("bounded wait, idle: %v; want vClaimed", v)
		}
		var published atomic.Bool
		time.AfterFunc(5*time.Millisecond, func() { published.Store(true) }) // no Notify
		if r := w.Wait(0, 512, published.Load, idleTrue, nil, nil); r != Ready {
			t.Fatalf("bounded wait for an unannounced publish: %v; want Ready", r)
		}
		if waits, timeouts := w.ClaimWaits(); waits == 0 || timeouts == 0 {
			t.Fatalf("bounded wait: %d waits, %d timeouts; want both > 0", waits, timeouts)
		}
	}
}

// TestIdleWaitStopsPolling: a consumer on an idle ring costs at most one
// timer wake-up and one heavy fence, then blocks without a timer, with
// every policy but spin: parking with the claim check (mpsc) blocks at
// once; parking with the heavy fence (spsc) blocks one step (1 ms) on a
// timer, fences and blocks; lingering sleeps one linger, then parks (and
// fences at once with the heavy fence). Notify then wakes it.
func TestIdleWaitStopsPolling(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	type counts struct{ lingers, timeouts, fences uint64 }
	cases := []struct {
		name  string
		p     Policy
		fence bool
		want  counts
	}{
		{"park/claim-check", policies[0], false, counts{0, 0, 0}},
		{"linger/claim-check", policies[1], false, counts{1, 0, 0}},
		{"park/heavy-fence", policies[0], true, counts{0, 1, 1}},
		{"linger/heavy-fence", policies[1], true, counts{1, 0, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.fence && !HeavyFenceAvailable() {
				t.Skip("no heavy fence here: the bounded wait polls by design")
			}
			w := newPolicyWaiter(c.p)
			if c.fence {
				w.UseHeavyFence()
			}
			var published atomic.Bool
			returned := make(chan Reason, 1)
			go func() { returned <- w.Wait(0, 512, published.Load, idle, nil, nil) }()
			read := func() counts {
				_, timeouts := w.ClaimWaits()
				return counts{w.Lingers(), timeouts, w.Fences()}
			}
			time.Sleep(100 * time.Millisecond)
			first := read()
			time.Sleep(100 * time.Millisecond)
			if second := read(); first != c.want || second != c.want {
				t.Fatalf("lingers, step timeouts, fences: %v, then %v 100 ms later; want %v", first, second, c.want)
			}
			if !w.IsParked() {
				t.Fatal("the consumer is not parked")
			}
			published.Store(true)
			w.Notify(1)
			select {
			case r := <-returned:
				if r != Woken && r != Ready {
					t.Fatalf("Wait = %v; want Woken or Ready", r)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Notify did not wake the parked consumer")
			}
		})
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
	w.Init(64)
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
		if r := w.Wait(0, 512, ready, idle, nil, nil); r != want {
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

// TestNotifyWakesAtTheArmedPosition: a producer wakes the consumer once it
// publishes up to the position the wake word holds, and not before, with
// positions that wrap at 64 bits (slot rings: the word keeps 62) or 32
// (ByteRing): half a ring past head while the consumer lingers, head+1
// while it parks (a publish the consumer has already read does not wake
// it).
func TestNotifyWakesAtTheArmedPosition(t *testing.T) {
	for _, c := range []struct {
		bits       uint
		head, half uint64
	}{
		{64, 0, 512},
		{64, 1<<64 - 100, 512}, // the linger's position wraps past 2^64
		{64, 1<<62 - 100, 512}, // and past the word's 62 bits
		{32, 1<<32 - 100, 512}, // ByteRing positions wrap at 2^32
		{32, 1000, 512},
	} {
		var w Waiter
		w.Init(c.bits)
		mask := uint64(1)<<(c.bits%64) - 1
		if c.bits == 64 {
			mask = ^uint64(0)
		}
		at := func(d uint64) uint64 { return (c.head + d) & mask }
		name := fmt.Sprintf("%d-bit positions, head %#x", c.bits, c.head)
		w.arm(at(c.half), lingerBit)
		for _, d := range []uint64{0, 1, c.half - 2} {
			if w.notify(at(d + 1)) {
				t.Fatalf("%s: a push ending %d past head woke the lingering consumer; want only from %d", name, d+1, c.half)
			}
			if !w.IsLingering() {
				t.Fatalf("%s: the word changed by a push that did not wake", name)
			}
		}
		if !w.notify(at(c.half)) {
			t.Fatalf("%s: the push ending half a ring past head did not wake the lingering consumer", name)
		}
		if _, armed := w.WakeAt(); armed || len(w.wake) != 1 {
			t.Fatalf("%s: after the wake, armed %v and %d tokens; want cleared and 1", name, armed, len(w.wake))
		}
		<-w.wake
		w.arm(at(c.half), lingerBit)
		if !w.notify(at(c.half + 101)) {
			t.Fatalf("%s: a push beyond half a ring did not wake the lingering consumer", name)
		}
		<-w.wake
		w.arm(at(1), 0) // parked at head
		if w.notify(at(0)) {
			t.Fatalf("%s: a publish ending at head (read already) woke the parked consumer", name)
		}
		if !w.notify(at(1)) {
			t.Fatalf("%s: the first push did not wake the parked consumer", name)
		}
		if w.notify(at(2)) || len(w.wake) != 1 {
			t.Fatalf("%s: a second push sent a second token", name)
		}
		<-w.wake
	}
}

// TestLingerThenParks: a lingering Wait sleeps one linger, with producers
// short of its position not waking it, then parks, whether or not its spin
// had been paying (the policy is the user's); with one P it parks at once.
func TestLingerThenParks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	never := func() bool { return false }
	for _, c := range []struct {
		name          string
		procs, budget int
		lingers       uint64
	}{{"busy", 2, spins, 1}, {"paced", 2, 0, 1}, {"one P", 1, 0, 0}} {
		runtime.GOMAXPROCS(c.procs)
		w := newPolicyWaiter(Policy{Kind: KindLinger, Linger: 50 * time.Millisecond})
		w.budget = c.budget
		returned := make(chan Reason, 1)
		go func() { returned <- w.Wait(100, 612, never, idle, nil, nil) }()
		if c.lingers > 0 {
			until(t, w, w.IsLingering, c.name+": the consumer never lingered")
			if at, _ := w.WakeAt(); at != 612 {
				t.Fatalf("%s: lingering, woken at %d; want 612", c.name, at)
			}
			w.Notify(611) // short of it: no wake-up
		}
		until(t, w, w.IsParked, c.name+": the consumer never parked")
		if at, _ := w.WakeAt(); at != 101 {
			t.Fatalf("%s: parked, woken at %d; want 101", c.name, at)
		}
		if got := w.Lingers(); got != c.lingers {
			t.Fatalf("%s (budget %d): %d lingers before the park; want %d", c.name, c.budget, got, c.lingers)
		}
		w.Notify(101)
		if r := <-returned; r != Woken {
			t.Fatalf("%s: Wait = %v; want Woken", c.name, r)
		}
	}
}

// TestLingerFindsPublishWithoutNotify: a lingering consumer re-checks when
// its linger ends, so a publish that no Notify announces (a producer that
// found it lingering, short of its position) still ends its Wait.
func TestLingerFindsPublishWithoutNotify(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	w := newPolicyWaiter(Policy{Kind: KindLinger, Linger: 20 * time.Millisecond})
	var published atomic.Bool
	returned := make(chan Reason, 1)
	go func() { returned <- w.Wait(0, 512, published.Load, idle, nil, nil) }()
	until(t, w, w.IsLingering, "the consumer never lingered")
	published.Store(true)
	select {
	case r := <-returned:
		if r != Ready {
			t.Fatalf("Wait = %v; want Ready", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lingering consumer did not find the publish when its linger ended")
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

// TestRefusedWakesOnlyALingeringConsumer: a producer refused for want of
// room wakes a lingering consumer (a ByteRing may refuse a large record
// before it is half full), and sends no token to a parked one or to one
// running without a linger's word;
// the Wait after the one a refusal ended parks instead of lingering (a
// ring full of what the consumer keeps would have every refusal wake it
// from every linger), and the one after that lingers again.
func TestRefusedWakesOnlyALingeringConsumer(t *testing.T) {
	w := newWaiter()
	w.Refused()
	w.arm(1, 0)
	w.Refused()
	if len(w.wake) != 0 || !w.IsParked() {
		t.Fatalf("Refused on a running, then a parked consumer: %d tokens, parked %v; want 0 and still parked", len(w.wake), w.IsParked())
	}
	w.arm(512, lingerBit)
	w.Refused()
	if _, armed := w.WakeAt(); armed || len(w.wake) != 1 {
		t.Fatalf("after Refused: armed %v, %d tokens; want cleared and 1", armed, len(w.wake))
	}
	w.Notify(600) // the mark is not armed: no second token
	if len(w.wake) != 1 {
		t.Fatalf("a push after the refusal sent a token; %d tokens, want 1", len(w.wake))
	}
	<-w.wake
	w.at.Store(0)

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	w = newPolicyWaiter(Policy{Kind: KindLinger, Linger: time.Hour})
	never := func() bool { return false }
	wait := func() (lingered bool) {
		t.Helper()
		before := w.Lingers()
		returned := make(chan Reason, 1)
		go func() { returned <- w.Wait(0, 512, never, idle, nil, nil) }()
		until(t, w, func() bool { return w.IsLingering() || w.IsParked() }, "the consumer never waited")
		lingered = w.IsLingering()
		if lingered {
			w.Refused()
		} else {
			w.Wake()
		}
		if r := <-returned; r != Woken {
			t.Fatalf("Wait = %v; want Woken", r)
		}
		if w.Lingers() != before {
			t.Fatal("a linger ran out: the test's linger is an hour")
		}
		return lingered
	}
	if !wait() {
		t.Fatal("the first Wait parked; want it lingering")
	}
	if wait() {
		t.Fatal("the Wait after a refusal lingered; want it parked")
	}
	if !wait() {
		t.Fatal("the Wait after that parked; want it lingering again")
	}
}

// TestSpinNeverArms: a spinning consumer arms no wake word (a producer
// pays its one load and never a wake-up) and returns on a publish that no
// Notify announces, on Wake, done and its timer.
func TestSpinNeverArms(t *testing.T) {
	w := newPolicyWaiter(Policy{Kind: KindSpin})
	var published, stop atomic.Bool
	returned := make(chan Reason, 1)
	go func() { returned <- w.Wait(0, 512, published.Load, idle, nil, nil) }()
	armed := make(chan bool, 1)
	go func() {
		seen := false
		for !stop.Load() {
			_, a := w.WakeAt()
			seen = seen || a
		}
		armed <- seen
	}()
	time.Sleep(20 * time.Millisecond)
	published.Store(true) // no Notify
	select {
	case r := <-returned:
		if r != Ready {
			t.Fatalf("Wait = %v; want Ready", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the spinning consumer did not find the publish")
	}
	stop.Store(true)
	if <-armed {
		t.Fatal("the spinning consumer armed its wake word")
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(5*time.Millisecond, cancel)
	if r := w.Wait(0, 512, func() bool { return false }, idle, ctx.Done(), nil); r != Done {
		t.Fatalf("Wait, done closed while spinning = %v; want Done", r)
	}
	time.AfterFunc(5*time.Millisecond, w.Wake)
	if r := w.Wait(0, 512, func() bool { return false }, idle, nil, nil); r != Woken {
		t.Fatalf("Wait, Wake while spinning = %v; want Woken", r)
	}
}

// keepWord runs one Wait whose linger runs out on its timer and then
// finds a value, from head with lingerAt: the linger's word stays armed
// while the consumer reads.
func keepWord(t *testing.T, w *Waiter, head, lingerAt uint64) {
	t.Helper()
	w.budget = 0
	before := w.Lingers()
	ready := func() bool { return w.Lingers() > before } // a value once the timer fired
	if r := w.Wait(head, lingerAt, ready, idle, nil, nil); r != Ready {
		t.Fatalf("Wait from %d = %v; want Ready", head, r)
	}
	if !w.IsLingering() {
		t.Fatalf("after the linger from %d the word is not a linger's", head)
	}
}

// TestLingerKeepsItsWord: a linger that ends leaves its wake word armed
// for the next linger, which stores none while that word is at least half
// as far ahead of head as its own would be (every store of the word costs
// the next push a cache miss on it), and arms its own once head has come
// closer; so a lingering consumer is woken a quarter to half a ring past
// its head.
func TestLingerKeepsItsWord(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	w := newPolicyWaiter(Policy{Kind: KindLinger, Linger: time.Millisecond})
	for _, c := range []struct{ head, at uint64 }{
		{100, 612}, // armed
		{300, 612}, // 312 ahead, at least half of 512: kept
		{356, 612}, // 256 ahead: kept
		{357, 869}, // 255 ahead: armed again
	} {
		keepWord(t, w, c.head, c.head+512)
		if at, _ := w.WakeAt(); at != c.at {
			t.Fatalf("after a linger from %d the word is armed at %d; want %d", c.head, at, c.at)
		}
	}
	// Lingering from 613 on the kept 869: a push ending at 868 does not
	// wake it, the one ending at 869 (256 past head, a quarter) does.
	w.SetPolicy(Policy{Kind: KindLinger, Linger: time.Hour}, Policy{})
	returned := make(chan Reason, 1)
	go func() { returned <- w.Wait(613, 613+512, func() bool { return false }, idle, nil, nil) }()
	time.Sleep(20 * time.Millisecond) // lingering (or about to) on the kept word
	if at, _ := w.WakeAt(); at != 869 {
		w.Wake()
		t.Fatalf("lingering from 613, the word is armed at %d; want the kept 869", at)
	}
	if w.notify(868) {
		t.Fatal("a push short of the kept word's position woke the lingering consumer")
	}
	if !w.notify(869) {
		t.Fatal("a push reaching the kept word's position did not wake the lingering consumer")
	}
	if r := <-returned; r != Woken {
		t.Fatalf("Wait = %v; want Woken", r)
	}
}

// TestRefusalWhileReadingParksTheNextWait: a refusal that finds the
// linger's word kept while the consumer reads leaves its mark and one
// token; the next Wait returns on that token, and the Wait after it that
// blocks parks instead of lingering (Refused's promise, when no linger was
// running to wake).
func TestRefusalWhileReadingParksTheNextWait(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	w := newPolicyWaiter(Policy{Kind: KindLinger, Linger: time.Millisecond})
	keepWord(t, w, 100, 612)
	w.Refused()
	w.Notify(611) // the mark is not armed: no second token
	if len(w.wake) != 1 || w.IsLingering() {
		t.Fatalf("Refused on a consumer reading with its linger word: %d tokens, lingering %v; want 1 and the mark", len(w.wake), w.IsLingering())
	}
	never := func() bool { return false }
	before := w.Lingers()
	if r := w.Wait(100, 612, never, idle, nil, nil); r != Woken || w.Lingers() != before {
		t.Fatalf("Wait after the refusal = %v, %d lingers ran out; want Woken at once", r, w.Lingers()-before)
	}
	w.SetPolicy(Policy{Kind: KindLinger, Linger: time.Hour}, Policy{})
	returned := make(chan Reason, 1)
	go func() { returned <- w.Wait(100, 612, never, idle, nil, nil) }()
	until(t, w, func() bool { return w.IsLingering() || w.IsParked() }, "the consumer never waited")
	parked := w.IsParked()
	w.Wake()
	<-returned
	if !parked {
		t.Fatal("the Wait after the refusal's own lingered; want it parked")
	}
}

// TestSetPolicyClearsAKeptLingerWord: a consumer that leaves linger for
// spin or park arms no linger word any more, so a push that reaches the
// kept position sends no token to a spinning consumer.
func TestSetPolicyClearsAKeptLingerWord(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, p := range []Policy{{Kind: KindSpin}, {Kind: KindPark}} {
		w := newPolicyWaiter(Policy{Kind: KindLinger, Linger: time.Millisecond})
		keepWord(t, w, 100, 612)
		w.SetPolicy(p, Policy{})
		if _, armed := w.WakeAt(); armed || w.notify(612) || len(w.wake) != 0 {
			t.Fatalf("policy %v after a linger: the kept word stays armed, or a push reaching it sent a token", p.Kind)
		}
	}
}
