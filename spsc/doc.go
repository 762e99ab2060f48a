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
//     TryPop and TryPopBatch only by the single consumer. Len and Cap are safe
//     from anywhere.
//   - Nothing blocks: a push onto a full ring and a pop from an empty one
//     fail at once.
//   - No method allocates. Popped slots are zeroed so the ring keeps nothing
//     alive.
//
// Use [github.com/ringsink/ringsink/mpsc] when more than one goroutine pushes.
package spsc
