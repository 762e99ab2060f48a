package main

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ringsink/ringsink/mpsc"
	"github.com/ringsink/ringsink/spsc"
)

const ringCap = 1 << 14

// consumer runs pop until stop is closed and pop finds nothing more, and
// returns how many values it counted (one atomic add per batch) and how
// many so far.
func consumer(pop func() int, wait func(done <-chan struct{})) (stop, sofar func() uint64) {
	done := make(chan struct{})
	var n atomic.Uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			k := pop()
			n.Add(uint64(k))
			if k > 0 {
				continue
			}
			select {
			case <-done:
				for k := pop(); k > 0; k = pop() {
					n.Add(uint64(k))
				}
				return
			default:
				wait(done)
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return n.Load() }, n.Load
}

// chanCounter ranges over ch, counting, until it is closed.
func chanCounter[T any](ch chan T) (stop, sofar func() uint64) {
	var n atomic.Uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		for range ch {
			n.Add(1)
		}
	})
	return func() uint64 { close(ch); wg.Wait(); return n.Load() }, n.Load
}

func mpscImpl() impl {
	return impl{name: "mpsc.Ring", start: func(int) started {
		r := mpsc.New[int](ringCap)
		dst := make([]int, 256)
		stop, sofar := consumer(func() int { return r.TryPopBatch(dst) }, func(done <-chan struct{}) { r.WaitChan(done, nil) })
		return started{newPush: func(int) pushFunc { return func([]byte) bool { return r.TryPush(1) } }, stop: stop, sofar: sofar}
	}}
}

func spscImpl() impl {
	return impl{name: "spsc.Ring", start: func(int) started {
		r := spsc.New[int](ringCap)
		dst := make([]int, 256)
		stop, sofar := consumer(func() int { return r.TryPopBatch(dst) }, func(<-chan struct{}) { runtime.Gosched() })
		return started{newPush: func(int) pushFunc { return func([]byte) bool { return r.TryPush(1) } }, stop: stop, sofar: sofar}
	}}
}

// chanImpl is the baseline: a buffered channel of the same capacity with a
// non-blocking send, and a consumer ranging over it.
func chanImpl() impl {
	return impl{name: "chan", baseline: true, start: func(int) started {
		ch := make(chan int, ringCap)
		stop, sofar := chanCounter(ch)
		push := func([]byte) bool {
			select {
			case ch <- 1:
				return true
			default:
				return false
			}
		}
		return started{newPush: func(int) pushFunc { return push }, stop: stop, sofar: sofar}
	}}
}

func byteRingImpl() impl {
	return impl{name: "mpsc.ByteRing", start: func(int) started {
		r := mpsc.NewByteRing(1 << 22)
		dst := make([][]byte, 256)
		stop, sofar := consumer(func() int { return r.Release(r.Peek(dst)) }, func(done <-chan struct{}) { r.WaitChan(done, nil) })
		return started{newPush: func(int) pushFunc { return r.TryWrite }, stop: stop, sofar: sofar}
	}}
}

// chanCopyImpl is the usual Go way to queue byte records: copy each into a
// fresh slice and send it on a buffered channel.
func chanCopyImpl(size int) impl {
	return impl{name: "chan []byte", baseline: true, start: func(int) started {
		ch := make(chan []byte, (1<<22)/max(size, 1))
		stop, sofar := chanCounter(ch)
		push := func(rec []byte) bool {
			select {
			case ch <- append([]byte(nil), rec...):
				return true
			default:
				return false
			}
		}
		return started{newPush: func(int) pushFunc { return push }, stop: stop, sofar: sofar}
	}}
}
