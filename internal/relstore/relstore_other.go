//go:build !amd64 || race || ringsink_portable

package relstore

import "sync/atomic"

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
