package main

import (
	"runtime"
	"sync"

	"github.com/ringsink/ringsink/internal/pad"
	"github.com/ringsink/ringsink/internal/relstore"

	"github.com/ringsink/ringsink/mpsc"
	"github.com/ringsink/ringsink/spsc"
)

const ringCap = 1 << 14

// ringSample: the ring scenarios time one push in 16 (impl.sample).
const ringSample = 16

// The ring scenarios retry a refused push until it is accepted, as the
// rings' documentation asks of a caller that retries: with a yield
// (runtime.Gosched) after every refusal, so that with more producers than
// cores the consumer gets a processor. The baseline is what a Go programmer
// writes to the same end: a blocking channel send. Nothing is dropped on
// either side; the headline is delivered records/s.

// retry calls try until it succeeds, yielding after every failure.
func retry(try func() bool) bool {
	for !try() {
		runtime.Gosched()
	}
	return true
}

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

// chanCounter ranges over ch, counting, until it is closed.
func chanCounter[T any](ch chan T) (stop, sofar func() uint64) {
	c := new(counter)
	var wg sync.WaitGroup
	wg.Go(func() {
		var n uint64
		for range ch {
			n++
			c.n.Store(n)
		}
	})
	return func() uint64 { close(ch); wg.Wait(); return c.n.Load() }, c.n.Load
}

func mpscImpl() impl {
	return impl{name: "mpsc.Ring", sample: ringSample, start: func(int) started {
		r := mpsc.New[int](ringCap)
		dst := make([]int, 256)
		stop, sofar := consumer(func() int { return r.TryPopBatch(dst) }, func(done <-chan struct{}) { r.WaitChan(done, nil) })
		push := func() bool { return r.TryPush(1) }
		return started{newPush: func(int) pushFunc { return func([]byte) bool { return retry(push) } }, stop: stop, sofar: sofar}
	}}
}

func spscImpl() impl {
	return impl{name: "spsc.Ring", sample: ringSample, start: func(int) started {
		r := spsc.New[int](ringCap)
		dst := make([]int, 256)
		stop, sofar := consumer(func() int { return r.TryPopBatch(dst) }, func(<-chan struct{}) { runtime.Gosched() })
		push := func() bool { return r.TryPush(1) }
		return started{newPush: func(int) pushFunc { return func([]byte) bool { return retry(push) } }, stop: stop, sofar: sofar}
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
		stop, sofar := consumer(func() int { return r.Release(r.Peek(dst)) }, func(done <-chan struct{}) { r.WaitChan(done, nil) })
		return started{newPush: func(int) pushFunc {
			return func(rec []byte) bool { return retry(func() bool { return r.TryWrite(rec) }) }
		}, stop: stop, sofar: sofar}
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
