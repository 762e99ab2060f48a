package mpsc

import (
	"context"

	"github.com/ringsink/ringsink/internal/ring"
	"github.com/ringsink/ringsink/wait"
)

// ByteRing is a bounded lock-free queue of variable-length byte records in
// one byte buffer, for many producers and one consumer (after Agrona's
// ManyToOneRingBuffer). TryWrite copies a record in; the consumer reads
// records in place (Peek), writes them out, and then removes exactly the
// records that were written (Release). Memory is bounded in bytes: the ring
// never holds more than Cap bytes of records, their 8-byte headers and
// padding.
//
// A successful TryWrite synchronizes before the Peek that returns its
// record. Records from one producer come out in the order it wrote them.
//
// ByteRing is safe for any number of producer goroutines and exactly one
// consumer goroutine; methods marked "consumer only" must only be called by
// that one.
type ByteRing struct {
	r ring.ByteRing
}

// NewByteRing returns a ring of capacity bytes, rounded up to a power of
// two and to at least 64. It panics if capacity < 1 or capacity > 1 GiB.
func NewByteRing(capacity int) *ByteRing {
	r := new(ByteRing)
	r.r.Init(capacity)
	return r
}

// TryWrite copies p into the ring as one record and reports whether it was
// accepted. Safe from any goroutine; it never blocks, never makes a system
// call and never allocates. It reports false when the ring lacks room or is
// closed (Closed tells), and always when len(p) > MaxRecord. A lost race
// against another producer is retried, not reported as full.
func (r *ByteRing) TryWrite(p []byte) bool { return r.r.TryWrite(p) }

// Peek fills dst with up to len(dst) of the oldest records, without
// removing them, and returns how many it filled. Each dst[k] aliases the
// ring's memory: it stays valid and unchanged until Release removes it, and
// must not be written to. Peek again returns the same records first.
// Consumer only; it allocates nothing.
func (r *ByteRing) Peek(dst [][]byte) int { return r.r.Peek(dst) }

// Release removes the n oldest records (fewer if fewer are ready) and
// returns how many it removed; their bytes become free for producers.
// Records an earlier Peek returned beyond the first n stay, in order, and
// the next Peek returns them first. Consumer only.
func (r *ByteRing) Release(n int) int { return r.r.Release(n) }

// Wait blocks the consumer until a record is ready, Wake or Close is
// called, or ctx is done; it returns ctx.Err() in the last case and nil
// otherwise. As Ring.Wait; a lingering consumer is also woken by a write
// refused for want of room. Consumer only; it allocates nothing.
func (r *ByteRing) Wait(ctx context.Context) error { return r.r.Wait(ctx) }

// Wake ends the consumer's Wait if it is waiting, or its next Wait. Safe
// from any goroutine; it never blocks.
func (r *ByteRing) Wake() { r.r.Wake() }

// Close stops intake: every TryWrite that has not claimed its bytes yet
// fails, now and later, and a waiting consumer is woken. Records already
// accepted stay for the consumer: once Close has returned, the consumer has
// everything that will ever be written when Len reports 0. Safe from any
// goroutine; idempotent.
func (r *ByteRing) Close() { r.r.Close() }

// Closed reports whether Close has been called. Safe from any goroutine.
func (r *ByteRing) Closed() bool { return r.r.Closed() }

// Len returns the bytes in use: records, their headers and padding,
// counting writes in progress. Safe from any goroutine; exact only when no
// write or release runs.
func (r *ByteRing) Len() int { return r.r.Len() }

// Cap returns the ring's size in bytes.
func (r *ByteRing) Cap() int { return r.r.Cap() }

// MaxRecord returns the largest record TryWrite accepts: half the capacity
// minus an 8-byte header. Larger records are refused whatever the ring
// holds.
func (r *ByteRing) MaxRecord() int { return r.r.MaxRecord() }

// SetWait sets how Wait waits when nothing is ready: wait.Park() by
// default. Consumer only; see Ring.SetWait.
func (r *ByteRing) SetWait(p wait.Policy) { r.r.SetWait(p) }
