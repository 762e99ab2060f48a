// Package relstore provides a release store: a store that makes every earlier
// write visible before it, without the full fence of atomic.Uint64.Store.
//
// On amd64 (TSO: stores are never reordered with earlier stores) a release
// store is a plain MOV, while sync/atomic's Store is an XCHG that waits for
// the store buffer to drain; for a single-writer index that stall is the
// largest cost of publishing a value across cores. Under the race detector and
// on other architectures Store falls back to sync/atomic.
package relstore

// Uint64 is a uint64 written by exactly one goroutine with Store and read by
// others with Load. The zero value is 0.
type Uint64 struct {
	v uint64
}
