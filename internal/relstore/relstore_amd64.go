//go:build amd64 && !race && !ringsink_portable

package relstore

import "sync/atomic"

// Release reports that Store is a plain MOV (a release store) in this build:
// the build in which a missing store→load fence can show.
const Release = true

// Store publishes v and every write before it (release). One writer only.
func (u *Uint64) Store(v uint64) { storeRel(&u.v, v) }

// Load returns the value (acquire: a plain MOV on amd64).
func (u *Uint64) Load() uint64 { return atomic.LoadUint64(&u.v) }

//go:noescape
func storeRel(addr *uint64, v uint64)

// Fence orders every earlier store (including release stores) before every
// later load: a full barrier. A release store alone gives no store→load
// order, so a goroutine that release-stores and then loads what another
// goroutine stores must fence in between (park.Room.Freed).
func Fence()

// Store2 release-stores va into a, then vb into b, in that order, in one
// call (a call into assembly costs about as much as the stores; a ring that
// publishes a slot and then its index pays it once).
func Store2(a *Uint64, va uint64, b *Uint64, vb uint64) { store2(&a.v, va, &b.v, vb) }

// StoreRun release-stores v, v+step, v+2*step, ... (wrapping, so a step of
// -2 counts down) into the n Uint64s that start at first and lie stride
// bytes apart (one field of consecutive array elements; stride < 0 walks
// backwards), in that order, in one call. The n Uint64s must lie in one
// allocation.
func StoreRun(first *Uint64, stride, n int, v, step uint64) {
	storeRun(&first.v, stride, n, v, step)
}

//go:noescape
func store2(a *uint64, va uint64, b *uint64, vb uint64)

//go:noescape
func storeRun(first *uint64, stride, n int, v, step uint64)
