package ring

// Invariants:
//
//   - tail and head each pack two uint32 counters that only grow (wrapping
//     modulo 2^32; all arithmetic on them is modular): the low half is a byte
//     position, the high half a record count. One CAS on tail claims the bytes
//     and counts the record; one store of head releases bytes and records.
//     0 <= tail.pos-head.pos <= cap, and cap <= 2^30 keeps that unambiguous.
//   - Bytes in [head.pos, tail.pos) belong to records; all other bytes are zero.
//   - Every record starts at an 8-aligned position with an 8-byte header,
//     followed by its payload, padded to a multiple of 8. The header is
//       0          claimed but not yet published (the consumer stops here),
//       len+1      a published record of len payload bytes,
//       padFlag|n  a padding record of n bytes that runs to the end of the
//                  buffer (a record never straddles the end).
//   - A producer owns [tail, tail+size) from its winning CAS on tail until it
//     publishes the header; then the consumer owns it. Between the claim and
//     the publish there is only the payload copy.
//   - The consumer zeroes a record's bytes before it moves head past them, so
//     a claimed header reads 0 until its producer publishes it.
//   - A record of at most cap/2 bytes (header included) fits in an empty ring
//     wherever tail stands, so a record within MaxRecord is never refused
//     forever.
//   - A durable ring (NewDurableByteRing: memory-mapped, recoverable after a
//     crash; durable.go) has 16-byte headers: the word above (a published
//     one carries a hash of len+1 and seq in its high half), then
//     seq<<32|check, where seq is the record's count at its claim and check
//     is liveBit until the consumer's Seal adds a checksum. Before its copy
//     the producer stores claimFlag|len and its seq, so recovery can step
//     over a record whose producer died mid-copy. Release stores the new
//     head into the file before it clears the released records (word 1
//     first, the header last). Another process can write its memory: the
//     consumer checks every header word before use (durable.go).
//   - Close flips bit 31 of tail.pos (posClosed), so tail.pos-head.pos, which
//     is at most cap <= 2^30 while open, has bit 31 set from then on: the
//     ring looks more than full to every producer, and no claim succeeds.
//     Len masks the bit off. The record counts are untouched, so Pending is
//     exact after Close too.

import (
	"context"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ringsink/ringsink/internal/pad"
	"github.com/ringsink/ringsink/internal/park"
	"github.com/ringsink/ringsink/internal/pow2"
	"github.com/ringsink/ringsink/internal/relstore"
	"github.com/ringsink/ringsink/wait"
)

const (
	hdrSize   = 8
	padFlag   = 1 << 63
	claimFlag = 1 << 62 // durable rings: claimed, len in the low bits, not yet published
	// minByteCap keeps room for a header and a few bytes of payload.
	minByteCap = 64
	maxByteCap = 1 << 30
	posClosed  = 1 << 31 // in tail.pos-head.pos: the ring is closed
)

func pack(records, pos uint32) uint64       { return uint64(records)<<32 | uint64(pos) }
func unpack(v uint64) (records, pos uint32) { return uint32(v >> 32), uint32(v) }

// ByteRing is a bounded lock-free queue of variable-length byte records in
// one byte buffer, for many producers and one consumer (after Agrona's
// ManyToOneRingBuffer). TryWrite copies a record in with one CAS and one
// publishing store; the consumer reads records as slices that alias the
// buffer (Peek), writes them out, and then releases exactly the records that
// were written (Release). Memory is bounded in bytes, not records: the ring
// never holds more than Cap bytes of headers, payload and padding.
//
// A successful TryWrite synchronizes before the Peek that returns its record.
//
// ByteRing is safe for any number of producer goroutines and exactly one
// consumer goroutine; methods marked "consumer only" must only be called by
// that one.
type ByteRing struct {
	_    pad.Line
	tail atomic.Uint64 // records<<32 | next byte position to claim; CAS by producers
	_    pad.Line
	head relstore.Uint64 // records<<32 | oldest unreleased byte position; stored by the consumer
	_    pad.Line
	mask uint32
	hlen uint32 // header bytes: hdrSize, or durHdr for a durable ring
	buf  []byte // 8-aligned: backed by a []uint64 or a file mapping
	// persist is nil except in a durable ring (durable.go): the file's copy
	// of head, stored by Release. Beside buf: producers read both.
	persist *atomic.Uint64
	park    park.Waiter

	// Durable rings only (durable.go), consumer only, except damaged.
	sealPos uint32 // records before this position are sealed
	sealRec uint32 // the record count at sealPos
	// Every record before seenPos (seenRec records counted from the
	// start) was published when the consumer read its header: no producer
	// stores below seenPos again, so damage there can be skipped.
	seenPos, seenRec uint32
	// peekEnds[peekLo:peekN] are pack(records, pos) after each record the
	// last Peek returned and Release has not removed: Release removes
	// exactly those, without reading their headers again.
	peekEnds      []uint64
	peekLo, peekN int
	// The last resync (durable.go): damage at rsPos (record count rsRec,
	// counted up to rsFrom) ends at rsEnd (count rsEndRec). rsEnd ==
	// rsFrom: none.
	rsFrom, rsPos, rsRec, rsEnd, rsEndRec uint32
	damaged                               atomic.Uint64 // records released as damaged (Damaged); read by any goroutine
}

// NewByteRing returns a ring of capacity bytes, rounded up to a power of two
// and to at least 64. It panics if capacity < 1 or capacity > 1 GiB.
func NewByteRing(capacity int) *ByteRing {
	r := new(ByteRing)
	r.Init(capacity)
	return r
}

// Init makes r, a zero ByteRing, a ring of capacity bytes, as NewByteRing
// does: for a type that holds a ByteRing by value.
func (r *ByteRing) Init(capacity int) {
	if capacity > maxByteCap {
		panic("mpsc: byte ring capacity above 1 GiB")
	}
	n := max(pow2.Round(capacity, "mpsc: byte ring capacity"), minByteCap)
	words := make([]uint64, n/8)
	r.mask, r.hlen = uint32(n-1), hdrSize
	r.buf = unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
	r.park.Init(32)
}

// Cap returns the ring's size in bytes.
func (r *ByteRing) Cap() int { return len(r.buf) }

// MaxRecord returns the largest payload TryWrite accepts: cap/2 minus the
// header (8 bytes, 16 in a durable ring). Larger records are refused
// whatever the ring holds.
func (r *ByteRing) MaxRecord() int { return len(r.buf)/2 - int(r.hlen) }

// Len returns the bytes in use (headers, payload, padding, and records still
// being written). Safe from any goroutine; exact only when quiescent.
func (r *ByteRing) Len() int {
	_, head := unpack(r.head.Load()) // loaded first, so head <= tail below
	_, tail := unpack(r.tail.Load())
	return int((tail - head) &^ posClosed)
}

// Close stops intake: every TryWrite that has not claimed its bytes yet
// fails, now and later, and Closed reports true. Records already claimed
// stay in the ring for the consumer, so once Close has returned, the
// consumer has everything that will ever be written when Pending reports 0,
// and a consumer parked in Wait is woken. Safe from any goroutine;
// idempotent.
func (r *ByteRing) Close() {
	defer r.park.Wake() // a consumer parked on an empty ring learns of it
	for {
		t, closed := r.snapshot()
		if closed {
			return
		}
		records, pos := unpack(t)
		// Publishes the end of intake to every producer's next load of tail.
		if r.tail.CompareAndSwap(t, pack(records, pos^posClosed)) {
			return
		}
	}
}

// Closed reports whether Close has been called. Safe from any goroutine.
func (r *ByteRing) Closed() bool {
	_, closed := r.snapshot()
	return closed
}

// snapshot loads tail and tells whether the ring is closed. It needs head
// from the same moment: head is loaded before and after tail and the pair is
// retried until both agree, so a goroutine descheduled between the loads
// cannot mistake 2^31 bytes of progress for the closed bit.
func (r *ByteRing) snapshot() (tail uint64, closed bool) {
	for {
		h := r.head.Load()
		tail = r.tail.Load()
		if r.head.Load() != h {
			continue
		}
		_, head := unpack(h)
		_, pos := unpack(tail)
		return tail, (pos-head)&posClosed != 0
	}
}

// Pending returns the number of records written and not yet released
// (including records still being copied in). Safe from any goroutine; exact
// only when quiescent.
func (r *ByteRing) Pending() int {
	head, _ := unpack(r.head.Load())
	tail, _ := unpack(r.tail.Load())
	return int(tail - head)
}

// Written returns how many records TryWrite has accepted, modulo 2^32: a
// counter for barriers ("everything written before now"), compared with
// Released by subtraction. Safe from any goroutine.
func (r *ByteRing) Written() uint32 {
	n, _ := unpack(r.tail.Load())
	return n
}

// Released returns how many records Release has removed (damaged ones
// included), modulo 2^32. Safe from any goroutine.
func (r *ByteRing) Released() uint32 {
	n, _ := unpack(r.head.Load())
	return n
}

func (r *ByteRing) hdr(i uint32) *relstore.Uint64 {
	return (*relstore.Uint64)(unsafe.Pointer(&r.buf[i]))
}

// recordSize is the bytes a record of n payload bytes takes: its header and
// payload, rounded up to 8.
func (r *ByteRing) recordSize(n int) uint32 { return (r.hlen + uint32(n) + 7) &^ 7 }

// TryWrite copies p into the ring as one record and reports whether it was
// accepted. It never blocks and never allocates. It reports false when the
// ring lacks room or is closed (Closed tells), or always when len(p) >
// MaxRecord (check MaxRecord to tell). A lost race against another producer
// is retried, not reported as full.
func (r *ByteRing) TryWrite(p []byte) bool { return r.TryWriteReserve(nil, p, 0) }

// TryWriteReserve is TryWrite for the record pre followed by p (one record
// of len(pre)+len(p) bytes), accepted only if, once it is in, at least
// reserve bytes of the ring stay free, counting the padding to the end of
// the buffer it needs (except in an empty ring, so that a record within
// MaxRecord and a reserve of at most half the ring still fit there). The
// check is part of the claim, so concurrent writers cannot overrun the
// reserve between them. A refusal wakes a lingering consumer as
// TryWrite's does. Used by package uds for
// severity-aware admission; not part of the ring's stable surface.
func (r *ByteRing) TryWriteReserve(pre, p []byte, reserve int) bool {
	n := len(pre) + len(p)
	if n > r.MaxRecord() || uint(reserve) > uint(len(r.buf)) {
		return false
	}
	size := r.recordSize(n)
	keep := uint32(reserve)
	capa := uint32(len(r.buf))
	tail := r.tail.Load()
	for fails := 0; ; {
		head := r.head.Load()
		records, pos := unpack(tail)
		_, headPos := unpack(head)
		i := pos & r.mask
		total := size
		if i+size > capa {
			total += capa - i // pad to the end, then start at 0
		}
		// used <= cap while open; closed, bit 31 makes it look more than
		// full (see Invariants), and the first test refuses it before keep
		// is added. The reserve counts the padding too, except in an empty
		// ring, where a record within MaxRecord must always fit.
		used := pos - headPos
		if used+total > capa || used+size+keep > capa || used != 0 && used+total+keep > capa {
			// Full (or closed: see Invariants), unless a producer or the
			// consumer moved meanwhile (a stale tail can even be behind head).
			now := r.tail.Load()
			if now == tail && r.head.Load() == head {
				// A lingering consumer may not know: a record can fail to
				// fit before the ring is half full (padding, a large record).
				r.park.Refused()
				return false
			}
			tail = now
			continue
		}
		// Claim [pos, pos+total) and count the record: reserves the bytes,
		// publishes nothing.
		if !r.tail.CompareAndSwap(tail, pack(records+1, pos+total)) {
			park.Backoff(fails) // see Ring.TryPush
			fails++
			tail = r.tail.Load()
			continue
		}
		if total != size {
			// Publish the padding record to the consumer.
			r.hdr(i).Store(padFlag | uint64(capa-i))
			i = 0
		}
		preemptWindow()
		h := uint64(n) + 1
		if r.persist != nil {
			r.durableCopy(i, records, pre, p)
			h = pubHeader(n, records) // len+1 and a hash of it and seq (durable.go)
		} else {
			j := i + hdrSize
			if len(pre) > 0 {
				j += uint32(copy(r.buf[j:], pre))
			}
			copy(r.buf[j:], p)
		}
		// Publish the record to the consumer.
		r.hdr(i).Store(h)
		r.park.Notify(uint64(pos + total))
		return true
	}
}

// next returns the published record at byte position pos, skipping a padding
// record: the payload's buffer index and length, and the position after it.
// ok is false when the record at pos is not yet published, or pos has reached
// head+cap (a full ring: the bytes there are the oldest record again).
func (r *ByteRing) next(pos, head uint32) (start, n int, end uint32, ok bool) {
	limit := head + uint32(len(r.buf))
	if pos == limit {
		return 0, 0, pos, false
	}
	h := r.hdr(pos & r.mask).Load()
	// Producers pad only to the end of the buffer, so at most one padding
	// record precedes a record; a recovered durable ring may have more
	// (durable.go turns the gaps it skips into padding).
	for h&padFlag != 0 {
		if pos += uint32(h &^ padFlag); pos == limit {
			return 0, 0, pos, false
		}
		h = r.hdr(pos & r.mask).Load()
	}
	if h == 0 || h&claimFlag != 0 {
		return 0, 0, pos, false
	}
	n = int(h - 1)
	start = int(pos&r.mask) + int(r.hlen)
	return start, n, pos + r.recordSize(n), true
}

// Peek fills dst with up to len(dst) of the oldest published records, without
// removing them, and returns how many it filled. Each dst[k] aliases the
// ring's memory: it stays valid and unchanged until Release removes it, and
// must not be written to. Calling Peek again returns the same records first.
// (A durable ring's memory can be changed by another process: a record
// whose header was damaged since is skipped, counted in Damaged; when
// nothing is published after the damaged records at the front, Peek
// removes them, as Release would; see durable.go.) Consumer only. It
// allocates nothing.
func (r *ByteRing) Peek(dst [][]byte) int {
	if r.persist != nil {
		return r.peekDurable(dst)
	}
	_, head := unpack(r.head.Load())
	pos := head
	k := 0
	for k < len(dst) {
		start, n, end, ok := r.next(pos, head)
		if !ok {
			break
		}
		dst[k] = r.buf[start : start+n : start+n]
		pos = end
		k++
	}
	return k
}

// Release removes the n oldest records (fewer if fewer are published) and
// returns how many it removed, zeroing their bytes so producers can reuse
// them. Records returned by an earlier Peek beyond the first n stay in the
// ring, in order, and the next Peek returns them first. In a durable ring
// it also removes the damaged records among or before them that Peek
// skipped (counted in Damaged, and in Released, not in its result), and
// the records of the last Peek (up to 1024) are removed by where Peek
// found them, whatever their headers say since. Consumer only.
func (r *ByteRing) Release(n int) int {
	if r.persist != nil {
		return r.releaseDurable(n)
	}
	records, head := unpack(r.head.Load())
	pos := head
	k := 0
	for k < n {
		_, _, end, ok := r.next(pos, head)
		if !ok {
			break
		}
		pos = end
		k++
	}
	if pos == head {
		return 0
	}
	r.zero(head, pos)
	// Hand the zeroed bytes back to producers and count the records.
	r.head.Store(pack(records+uint32(k), pos))
	return k
}

// zero clears the buffer bytes of positions [from, to), which may wrap.
func (r *ByteRing) zero(from, to uint32) {
	i, j := from&r.mask, to&r.mask
	if to-from == uint32(len(r.buf)) || (j <= i && to != from) {
		clear(r.buf[i:])
		clear(r.buf[:j])
		return
	}
	clear(r.buf[i:j])
}

// Ready reports whether the oldest record is published, so Peek would return
// at least one record. Consumer only.
func (r *ByteRing) Ready() bool {
	records, head := unpack(r.head.Load())
	if r.persist != nil {
		_, _, _, _, ok := r.nextDurable(head, records, head)
		return ok
	}
	_, _, _, ok := r.next(head, head)
	return ok
}

// SetWait sets how Wait and WaitChan (and a durable ring's WaitUnsealed)
// wait when nothing is ready: wait.Park() by default. Consumer only; see
// Ring.SetWait.
func (r *ByteRing) SetWait(p wait.Policy) {
	r.park.SetPolicy(park.PolicyOf(p), park.Policy{Kind: park.KindPark})
}

// Wait blocks the consumer until a record is ready, Wake or Close is called
// or ctx is done; it returns ctx.Err() in the last case. Consumer only. See
// Ring.Wait: a lingering consumer is woken by the write that fills a quarter
// to half the ring past its head (padding counts), or by a write refused for want of
// room.
func (r *ByteRing) Wait(ctx context.Context) error {
	if r.wait(ctx.Done(), nil) == park.Done {
		return ctx.Err()
	}
	return nil
}

// headPos is the byte position the consumer reads next.
func (r *ByteRing) headPos() uint64 {
	_, pos := unpack(r.head.Load())
	return uint64(pos)
}

// WaitChan is Wait with a stop channel and a reusable timer (either may be
// nil); it reports why it returned. Consumer only; allocates nothing.
func (r *ByteRing) WaitChan(done <-chan struct{}, timer <-chan time.Time) park.Reason {
	return r.wait(done, timer)
}

// wait is Wait: woken by a write past head parked, half a ring past it
// lingering (32-bit positions: the waiter compares them modulo 2^32).
func (r *ByteRing) wait(done <-chan struct{}, timer <-chan time.Time) park.Reason {
	head := r.headPos()
	return r.park.Wait(head, head+uint64(len(r.buf)/2), r.Ready, r.idle, done, timer)
}

// idle reports whether no record is claimed beyond head (the claim CAS
// counts records in tail's high half): the consumer may then park without a
// bound. Consumer only. See Ring.idle.
func (r *ByteRing) idle() bool { return r.Pending() == 0 }

// Wake wakes the consumer if it is parked. Safe from any goroutine.
func (r *ByteRing) Wake() { r.park.Wake() }
