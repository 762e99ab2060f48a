package main

import (
	"context"
	"runtime"
	"sync"

	"github.com/ringsink/ringsink/internal/pad"
	"github.com/ringsink/ringsink/internal/relstore"

	"github.com/ringsink/ringsink/mpsc"
	"github.com/ringsink/ringsink/spsc"
)

const ringCap = 1 << 14

// ringSample: the ring scenarios time one push in 17 (impl.sample): a
// period prime to the 8 slots of a cache line, so that the timed push does
// not always land on the same word of its line.
const ringSample = 17

// The ring scenarios retry a refused push until it is accepted, as the
// rings' documentation asks of a caller that retries: with a yield
// (runtime.Gosched) after every refusal, so that with more producers than
// cores the consumer gets a processor. The baseline is what a Go programmer
// writes to the same end: a blocking channel send. Nothing is dropped on
// either side; the headline is delivered records/s. Each side's push is
// one closure call.

// counter is a consumer's count of the values it received: one writer,
// which publishes with a release store (a plain MOV on amd64), so counting
// costs the consumer no locked instruction, and on a line of its own, so it
// does not slow the lines the producers and the consumer share.
type counter struct {
	_ pad.Line
	n relstore.Uint64
	_ pad.Line
}

// consumer runs pop until stop is closed and pop finds nothing more, and
// returns how many values it received in all and how many so far.
func consumer(pop func() int, wait func(done <-chan struct{})) (stop, sofar func() uint64) {
	done := make(chan struct{})
	c := new(counter)
	var wg sync.WaitGroup
	wg.Go(func() {
		var n uint64
		for {
			if k := pop(); k > 0 {
				n += uint64(k)
				c.n.Store(n)
				continue
			}
			select {
			case <-done:
				for k := pop(); k > 0; k = pop() {
					n += uint64(k)
				}
				c.n.Store(n)
				return
			default:
				wait(done)
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return c.n.Load() }, c.n.Load
}

// chanCounter ranges over ch, counting, until it is closed. It publishes
// its count every 256 values (as often as a ring consumer that drains 256
// at a time) and at the end: sofar may lag by up to 255 values.
func chanCounter[T any](ch chan T) (stop, sofar func() uint64) {
	c := new(counter)
	var wg sync.WaitGroup
	wg.Go(func() {
		var n uint64
		for range ch {
			if n++; n%256 == 0 {
				c.n.Store(n)
			}
		}
		c.n.Store(n)
	})
	return func() uint64 { close(ch); wg.Wait(); return c.n.Load() }, c.n.Load
}

// mpscImpl's consumer parks in Wait. Wait takes a context, which stop
// cancels before it stops the consumer, so a parked consumer returns and
// sees done.
func mpscImpl() impl {
	return impl{name: "mpsc.Ring", sample: ringSample, start: func(int) started {
		r := mpsc.New[int](ringCap)
		dst := make([]int, 256)
		ctx, cancel := context.WithCancel(context.Background())
		stop, sofar := consumer(func() int { return r.TryPopBatch(dst) }, func(<-chan struct{}) { _ = r.Wait(ctx) })
		push := func([]byte) bool {
			for !r.TryPush(1) {
				runtime.Gosched()
			}
			return true
		}
		return started{newPush: func(int) pushFunc { return push }, stop: func() uint64 { cancel(); return stop() }, sofar: sofar}
	}}
}

// spscImpl's consumer parks in Wait like mpscImpl's.
func spscImpl() impl {
	return impl{name: "spsc.Ring", sample: ringSample, start: func(int) started {
		r := spsc.New[int](ringCap)
		dst := make([]int, 256)
		ctx, cancel := context.WithCancel(context.Background())
		stop, sofar := consumer(func() int { return r.TryPopBatch(dst) }, func(<-chan struct{}) { _ = r.Wait(ctx) })
		push := func([]byte) bool {
			for !r.TryPush(1) {
				runtime.Gosched()
			}
			return true
		}
		return started{newPush: func(int) pushFunc { return push }, stop: func() uint64 { cancel(); return stop() }, sofar: sofar}
	}}
}

// chanImpl is the baseline: a buffered channel of the same capacity with a
// blocking send, and a consumer ranging over it.
func chanImpl() impl {
	return impl{name: "chan", baseline: true, sample: ringSample, start: func(int) started {
		ch := make(chan int, ringCap)
		stop, sofar := chanCounter(ch)
		push := func([]byte) bool { ch <- 1; return true }
		return started{newPush: func(int) pushFunc { return push }, stop: stop, sofar: sofar}
	}}
}

func byteRingImpl() impl {
	return impl{name: "mpsc.ByteRing", sample: ringSample, start: func(int) started {
		r := mpsc.NewByteRing(1 << 22)
		dst := make([][]byte, 256)
		ctx, cancel := context.WithCancel(context.Background())
		stop, sofar := consumer(func() int { return r.Release(r.Peek(dst)) }, func(<-chan struct{}) { _ = r.Wait(ctx) })
		push := func(rec []byte) bool {
			if len(rec) > r.MaxRecord() {
				return false // refused for good: retrying would spin forever
			}
			for !r.TryWrite(rec) {
				runtime.Gosched()
			}
			return true
		}
		return started{newPush: func(int) pushFunc { return push }, stop: func() uint64 { cancel(); return stop() }, sofar: sofar}
	}}
}

// chanCopyImpl is the usual Go way to queue byte records: copy each into a
// fresh slice and send it on a buffered channel (a blocking send).
func chanCopyImpl(size int) impl {
	return impl{name: "chan []byte", baseline: true, sample: ringSample, start: func(int) started {
		ch := make(chan []byte, (1<<22)/max(size, 1))
		stop, sofar := chanCounter(ch)
		push := func(rec []byte) bool { ch <- append([]byte(nil), rec...); return true }
		return started{newPush: func(int) pushFunc { return push }, stop: stop, sofar: sofar}
	}}
}
