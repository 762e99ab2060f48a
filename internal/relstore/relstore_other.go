//go:build !amd64 || race

package relstore

import "sync/atomic"

// Store publishes v and every write before it. One writer only.
func (u *Uint64) Store(v uint64) { atomic.StoreUint64(&u.v, v) }

// Load returns the value.
func (u *Uint64) Load() uint64 { return atomic.LoadUint64(&u.v) }

// Fence orders every earlier store before every later load. Here every
// Store is a sequentially consistent sync/atomic store, which already gives
// that order against later sync/atomic loads, so Fence has nothing to add.
func Fence() {}
