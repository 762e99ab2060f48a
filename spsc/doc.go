// Package spsc implements a bounded lock-free queue for exactly one producer
// goroutine and exactly one consumer goroutine.
//
// Each side owns one index and keeps a private cached copy of the other's, so
// in steady state a push or pop touches only its own cache line; the other
// index is reloaded only when the cache says the ring is full (producer) or
// empty (consumer). Batch forms move many values with one publishing store.
//
// The contract:
//
//   - TryPush and TryPushBatch must only be called by the single producer;
//     TryPop, TryPopBatch and Wait only by the single consumer. Len, Cap and
//     Wake are safe from anywhere.
//   - Only Wait blocks: a push onto a full ring and a pop from an empty one
//     fail at once. Wait waits for the next push (or Wake, or the
//     context's end) after a spin of a few microseconds that lets a batch
//     build, in the way SetWait chose (package wait): by default it parks
//     like a channel receive, and the push that finds it parked pays its
//     wake-up; lingering, it sleeps up to a stated time and the producer
//     wakes it only once a quarter to half of the ring is full (package
//     wait); spinning, it never blocks. The producer pays one atomic load
//     per push in every case. On amd64 a
//     park that lasts more than a millisecond pays one membarrier(2) system
//     call and then blocks without a timer; where the kernel or a sandbox
//     refuses membarrier, or off Linux, it keeps re-checking every
//     millisecond instead (docs/design.md, "No lost wake-ups"). New starts
//     no goroutine and makes no system call.
//   - spsc.Ring has no Close: its one producer knows when it stops and can
//     say so (a Wake, a last value); an exact Close would need a store→load
//     fence on every push (docs/design.md, "Consumer waiting").
//   - No method allocates. Popped slots of a type that holds pointers are
//     zeroed so the ring keeps nothing alive.
//
// Use [github.com/ringsink/ringsink/mpsc] when more than one goroutine pushes.
package spsc
