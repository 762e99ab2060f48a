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
