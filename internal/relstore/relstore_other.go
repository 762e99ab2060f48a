//go:build !amd64 || race || ringsink_portable

package relstore

import (
	"sync/atomic"
	"unsafe"
)

// Release reports that Store is a plain MOV (a release store) in this build;
// here every Store is sequentially consistent. The ringsink_portable build
// tag selects this file on amd64 too, so CI tests the fallback.
const Release = false

// Store publishes v and every write before it. One writer only.
func (u *Uint64) Store(v uint64) { atomic.StoreUint64(&u.v, v) }

// Load returns the value.
func (u *Uint64) Load() uint64 { return atomic.LoadUint64(&u.v) }

// Fence orders every earlier store before every later load. Here every
// Store is a sequentially consistent sync/atomic store, which already gives
// that order against later sync/atomic loads, so Fence has nothing to add.
func Fence() {}

// Store2 stores va into a, then vb into b, in that order.
func Store2(a *Uint64, va uint64, b *Uint64, vb uint64) {
	a.Store(va)
	b.Store(vb)
}

// StoreRun stores v, v+step, v+2*step, ... into the n Uint64s that start at
// first and lie stride bytes apart (stride < 0 walks backwards), in that
// order. The n Uint64s must lie in one allocation.
func StoreRun(first *Uint64, stride, n int, v, step uint64) {
	for i := range n {
		(*Uint64)(unsafe.Add(unsafe.Pointer(first), i*stride)).Store(v + uint64(i)*step)
	}
}
