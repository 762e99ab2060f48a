package ring

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/park"
)

// TestNoLostWakeup ping-pongs single values between a producer and a parking
// consumer. Every round the consumer has drained the ring and is about to
// park (or parked) when the next value arrives; a missed wake-up would leave
// it parked forever, which the deadline turns into a failure.
func TestNoLostWakeup(t *testing.T) {
	const rounds = 20_000
	r := New[int](8)
	ack := New[int](8)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < rounds; {
			if err := r.Wait(ctx); err != nil {
				t.Errorf("consumer: round %d: %v (lost wake-up)", i, err)
				cancel()
				return
			}
			v, ok := r.TryPop()
			if !ok {
				continue // woken spuriously; wait again
			}
			if v != i {
				t.Errorf("consumer: got %d; want %d", v, i)
				cancel()
				return
			}
			ack.TryPush(v)
			i++
		}
	})
	for i := range rounds {
		r.TryPush(i)
		for {
			if _, ok := ack.TryPop(); ok {
				break
			}
			if err := ack.Wait(ctx); err != nil {
				t.Fatalf("producer: round %d: %v (lost wake-up)", i, err)
			}
		}
	}
	wg.Wait()
}

// TestParkedConsumerWakesOnPush waits until the consumer is really parked,
// then pushes once and expects Wait to return.
func TestParkedConsumerWakesOnPush(t *testing.T) {
	r := New[int](4)
	returned := make(chan error, 1)
	go func() { returned <- r.Wait(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for !r.park.IsParked() {
		if time.Now().After(deadline) {
			t.Fatal("consumer never parked on an empty ring")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-returned:
		t.Fatalf("Wait returned %v on an empty ring", err)
	case <-time.After(20 * time.Millisecond):
	}
	r.TryPush(7)
	select {
	case err := <-returned:
		if err != nil {
			t.Fatalf("Wait = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("parked consumer did not wake on push")
	}
	if v, ok := r.TryPop(); !ok || v != 7 {
		t.Fatalf("TryPop() = %d, %v; want 7, true", v, ok)
	}
}

func TestWaitHonoursContextAndWake(t *testing.T) {
	r := New[int](4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on empty ring = %v; want DeadlineExceeded", err)
	}
	go func() {
		for !r.park.IsParked() {
			time.Sleep(time.Millisecond)
		}
		r.Wake()
	}()
	if got := r.WaitChan(nil, nil); got != park.Woken {
		t.Fatalf("WaitChan after Wake = %v; want Woken", got)
	}
	timer := time.NewTimer(time.Millisecond)
	if got := r.WaitChan(nil, timer.C); got != park.Timeout {
		t.Fatalf("WaitChan with timer = %v; want Timeout", got)
	}
}

// lingerLong makes w linger until woken.
func lingerLong(w *park.Waiter) {
	w.SetPolicy(park.Policy{Kind: park.KindLinger, Linger: time.Hour}, park.Policy{})
}

// TestPushWakesLingererAtHalf: a consumer lingering in Wait is not woken
// by pushes that end less than half a ring past its head, and is by the
// push that reaches it: the positions each ring hands its waiter. The
// ByteRing runs across its 32-bit position wrap.
func TestPushWakesLingererAtHalf(t *testing.T) {
	r := New[int](8)
	for i := range 5 { // head at 5: the wake point is not a multiple of half
		r.TryPush(i)
		r.TryPop()
	}
	r.park.LingerAt(r.head.Load() + 4)
	for i := range 4 {
		r.TryPush(i)
		if end := r.Pushed() - r.head.Load(); r.park.IsLingering() != (end < 4) {
			t.Fatalf("Ring: after a push ending %d past head, lingering = %v; want it until 4 (half the ring)", end, r.park.IsLingering())
		}
	}
	if r.park.IsLingering() {
		t.Fatal("Ring: the consumer still lingers with half the ring full")
	}

	b := NewByteRing(256)
	start := uint32(1<<32 - 64) // four 16-byte records before the position wraps
	b.tail.Store(pack(0, start))
	b.head.Store(pack(0, start))
	b.park.LingerAt(b.headPos() + 128)
	rec := make([]byte, 8) // 16 bytes with its header
	for i := 0; ; i++ {
		if !b.TryWrite(rec) {
			t.Fatalf("ByteRing: write %d refused", i)
		}
		_, pos := unpack(b.tail.Load())
		end := pos - start
		if b.park.IsLingering() != (end < 128) {
			t.Fatalf("ByteRing: after a write ending %d bytes past head, lingering = %v; want it until 128 (half the ring)", end, b.park.IsLingering())
		}
		if end >= 128 {
			break
		}
	}
}

// TestWaitArmsFromHead: Wait and WaitChan hand their waiter the head the
// consumer reads next: parked, it is woken by a publish past it; lingering,
// half a ring past it. WaitUnsealed wakes a parked consumer past the first
// unsealed record, and a lingering one halfway from there to the end of
// the ring.
func TestWaitArmsFromHead(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // with one P a linger parks at once
	r := New[int](8)
	for i := range 5 {
		r.TryPush(i)
		r.TryPop()
	}
	b := NewByteRing(256)
	b.tail.Store(pack(0, 1<<32-40))
	b.head.Store(pack(0, 1<<32-40))
	d, _, err := NewDurableByteRing(make([]byte, DurableHeader+256), [16]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		d.TryWrite(make([]byte, 8))
	}
	d.Seal()
	d.Release(1) // two sealed records held: WaitUnsealed arms from the seal, not from head
	if uint64(d.sealPos) == d.headPos() {
		t.Fatal("the seal is at head: the durable case would not tell them apart")
	}
	mask32 := uint64(1<<32 - 1)
	for _, c := range []struct {
		name       string
		wait       func() park.Reason
		w          *park.Waiter
		wake       func()
		head, half uint64
	}{
		{"Ring.WaitChan", func() park.Reason { return r.WaitChan(nil, nil) }, &r.park, r.Wake, r.head.Load(), 4},
		{"Ring.Wait", func() park.Reason { _ = r.Wait(context.Background()); return park.Woken }, &r.park, r.Wake, r.head.Load(), 4},
		{"ByteRing.WaitChan", func() park.Reason { return b.WaitChan(nil, nil) }, &b.park, b.Wake, b.headPos(), 128},
		{"ByteRing.Wait", func() park.Reason { _ = b.Wait(context.Background()); return park.Woken }, &b.park, b.Wake, b.headPos(), 128},
		// Two sealed records held: halfway from the seal to the ring's end.
		{"ByteRing.WaitUnsealed", func() park.Reason { return d.WaitUnsealed(nil, nil) }, &d.park, d.Wake, uint64(d.sealPos), (d.headPos() + 256 - uint64(d.sealPos)) / 2},
	} {
		if c.head == 0 {
			t.Fatalf("%s: head 0: the check would not tell head from nothing", c.name)
		}
		for _, linger := range []bool{false, true} {
			if linger {
				lingerLong(c.w) // linger until woken
			} else {
				c.w.SetPolicy(park.Policy{Kind: park.KindPark}, park.Policy{})
			}
			returned := make(chan park.Reason, 1)
			go func() { returned <- c.wait() }()
			deadline := time.Now().Add(10 * time.Second)
			for !c.w.IsLingering() && !c.w.IsParked() {
				if time.Now().After(deadline) {
					c.wake()
					t.Fatalf("%s: the consumer never waited", c.name)
				}
				time.Sleep(100 * time.Microsecond)
			}
			got, _ := c.w.WakeAt()
			lingering := c.w.IsLingering()
			c.wake()
			<-returned
			want := c.head + 1
			if linger {
				want = c.head + c.half
			}
			if lingering != linger || got != want&mask32 && got != want {
				t.Fatalf("%s (linger %v): lingering %v, woken at position %d; want %v, %d (%d, where the consumer reads next, + %d)", c.name, linger, lingering, got, linger, want, c.head, want-c.head)
			}
		}
	}
}

// TestByteRingWakesLingererOnPaddingAndRefusal: a ByteRing counts a
// record's padding towards half a ring, and a record refused for want of
// room wakes a lingering consumer even with the ring less than half full.
func TestByteRingWakesLingererOnPaddingAndRefusal(t *testing.T) {
	b := NewByteRing(1024)
	b.tail.Store(pack(0, 600))
	b.head.Store(pack(0, 600))
	b.park.LingerAt(b.headPos() + 512) // woken at 1112
	// 300 bytes: ends at 900.
	if !b.TryWrite(make([]byte, 292)) || !b.park.IsLingering() {
		t.Fatal("a write ending at 900 woke the consumer (or was refused); want it lingering until 1112")
	}
	// 200 bytes from 900 would end at 1100, short of 1112, but do not fit
	// before the buffer's end: with its 124 bytes of padding it ends at 1224.
	if !b.TryWrite(make([]byte, 192)) || b.park.IsLingering() {
		t.Fatal("a padded write ending past half the ring did not wake the lingering consumer")
	}

	b = NewByteRing(256)
	b.tail.Store(pack(0, 100))
	b.head.Store(pack(0, 100))
	b.park.LingerAt(b.headPos() + 128)
	for range 7 { // 112 bytes: less than half
		if !b.TryWrite(make([]byte, 8)) {
			t.Fatal("a small write was refused")
		}
	}
	if !b.park.IsLingering() {
		t.Fatal("writes short of half the ring woke the consumer")
	}
	if b.TryWrite(make([]byte, b.MaxRecord())) {
		t.Fatal("a MaxRecord write fitted in 144 free bytes")
	}
	if b.park.IsLingering() {
		t.Fatal("a refused write left the consumer lingering")
	}
}

// TestWaitUnsealedWakesBeforeSealedBacklogFills: a consumer that holds a
// sealed backlog of more than half the ring (as uds does while the daemon
// is away, evicting the oldest past three quarters) and lingers in
// WaitUnsealed is woken by a write before the ring fills, so it can evict
// before a write is refused. Woken half a ring past the first unsealed
// record, it slept until a write was refused (the 4 KiB ring with a
// 2 904-byte backlog below took 12 writes, the 13th refused).
func TestWaitUnsealedWakesBeforeSealedBacklogFills(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // with one P a linger parks at once
	d, _, err := NewDurableByteRing(make([]byte, DurableSize(4096)), [16]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	rec := make([]byte, 72) // 88 bytes with the header
	for d.Len()+88 <= 2992 {
		if !d.TryWrite(rec) {
			t.Fatal("the backlog's write was refused")
		}
	}
	d.Seal()
	if held := d.Len(); held <= d.Cap()/2 || held > d.Cap()/4*3 {
		t.Fatalf("the sealed backlog holds %d of %d bytes; want more than half, at most three quarters", held, d.Cap())
	}
	lingerLong(&d.park) // linger until a write wakes it
	returned := make(chan park.Reason, 1)
	go func() { returned <- d.WaitUnsealed(nil, nil) }()
	for deadline := time.Now().Add(10 * time.Second); !d.park.IsLingering(); time.Sleep(50 * time.Microsecond) {
		if time.Now().After(deadline) {
			d.Wake()
			t.Fatal("the consumer never lingered")
		}
	}
	for i := 0; d.park.IsLingering(); i++ {
		if !d.TryWrite(rec) {
			d.Wake()
			<-returned
			t.Fatalf("write %d was refused (%d of %d bytes in use) while the consumer lingered: no write woke it to evict", i, d.Len(), d.Cap())
		}
	}
	<-returned
	if free := d.Cap() - d.Len(); free < 88 {
		t.Fatalf("the consumer was woken with %d bytes free; want room for another record", free)
	}
}
