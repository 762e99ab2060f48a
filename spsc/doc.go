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
//     fail at once. Wait parks the consumer until the next push (or Wake,
//     or the context's end), like a channel receive, after a spin of a few
//     microseconds that lets a batch build. The producer pays one load per
//     push for it (two while the consumer naps). When values come paced, from microseconds to a few
//     milliseconds apart, the consumer first naps on a timer (six naps, a
//     few milliseconds in all), and the producer does not wake it unless
//     the ring is half full: the push rarely pays for the consumer's
//     wake-up, and a value may wait about a millisecond. A parked consumer
//     re-checks on a timer for its first 1.26 ms (unless it napped), then, on amd64 Linux, pays one membarrier(2) system call and
//     blocks without a timer; on amd64 elsewhere, or where the kernel or a
//     sandbox refuses membarrier, it keeps re-checking every millisecond
//     (docs/design.md, "No lost wake-ups").
//   - No method allocates. Popped slots of a type that holds pointers are
//     zeroed so the ring keeps nothing alive.
//
// Use [github.com/ringsink/ringsink/mpsc] when more than one goroutine pushes.
package spsc
