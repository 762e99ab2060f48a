package ring

// A durable ring lives in memory the caller maps from a file (MAP_SHARED),
// so the records it holds outlive the process: the page cache keeps every
// byte a producer stored, whatever kills the process. The layout:
//
//	[0, 4096)        file header
//	  0  [8]byte     magic "RINGSINK"
//	  8  uint32      layout version (2; 1 is recovered, then rewritten)
//	 12  uint32      log2 of the data capacity
//	 16  uint64      head: records<<32 | byte position, stored by Release
//	 24  [16]byte    boot id of the last open (who may trust unsealed records)
//	[4096, 4096+cap) data: records as in ByteRing, with 16-byte headers
//
//	record header    word 0: pubHeader(len, seq) (published: len+1 in the
//	                         low half, a 30-bit hash of len+1 and seq in
//	                         the high half; layout 1: len+1 alone),
//	                         claimFlag|len (claimed, the copy may be
//	                         torn), padFlag|n (skip n bytes)
//	                 word 1: seq<<32 | check
//
// seq is the record's count at its claim (the high half of tail), so
// sequence numbers grow by one per claim in ring order. check is liveBit
// until the consumer seals the record (Seal), then sealedBit | liveBit |
// 30 bits of CRC-32C over the payload, mixed with seq and len. A live
// record's word 1 is never 0: clearing a released record zeroes word 1
// first, so a record caught half cleared reads as released. Producers
// never compute a checksum: their path gains two plain stores (the claim
// word and seq) over an in-memory ring, and two multiplies (the hash in the
// publish store's value).
//
// The live path. The mapping is shared: another process of the same user,
// or a stray write, can change any word under the consumer. The consumer
// (nextDurable, under Peek, Release, Ready, Seal, Quiescent, WaitUnsealed)
// reads header words only, each once, and checks each before using it as
// a length or an index; the payload is never read as structure. At the
// position of record count rec it accepts:
//
//   - padding, padFlag|n: n 8-aligned, at least 8, not past the buffer's
//     end nor head+cap, and, at or past seenPos (below), ending exactly at
//     the buffer's end (what a producer writes); below seenPos, ending at
//     or before it: a record seen ends at seenPos, after any padding a
//     producer or recovery (between the records it kept) wrote before it.
//     Padding that ends at seenPos takes seenRec as the count there, so
//     the records it covered, if it is damage, are counted;
//   - a record: word 0 == pubHeader(len, rec) with len <= MaxRecord, the
//     record within the buffer (never straddling its end) and head+cap,
//     and word 1 == rec<<32|liveBit or rec<<32|sealed check (the check
//     itself is not verified live: that is a CRC per record). Word 1 is
//     read only after word 0 showed the publish, which is the producer's
//     release store after its store of word 1: the acquire load of word 0
//     orders the load of word 1 after it.
//
// Per record that is one more load (word 1, beside word 0), the hash (two
// multiplies) and six compares, all on one or two cache lines the consumer
// reads anyway; padding, seven or eight compares.
// Anything else is either a record still being written (0, a claim word:
// the consumer waits, as for any claim) or damage, and which one depends
// on where it is:
//
//   - below seenPos, the end of the records the consumer has already seen
//     published (a walk passed their publish, the producer's last store to
//     them; recovery sets seenPos to the end of what it kept), no producer
//     will store again, so damage there is skipped: resync steps 8 bytes
//     at a time, from the damage, to the first record that passes the
//     checks above with a count between rec and seenRec (and at most one
//     record per 16 bytes since the last record counted: padding before
//     the damage may have covered records), or to seenPos itself, and the
//     records in between (their counts tell how many) are lost, counted
//     in Damaged when Release moves past them, or when Peek finds nothing
//     published after them (it removes them then: no Release would). A
//     record whose word 0 passes but whose word 1 does not costs itself
//     alone (its length is verified: its producer is done, and the next
//     record starts after it). So damage the consumer has seen never
//     stops it.
//   - at or past seenPos, a word that is not a record may be a record
//     whose producer is still copying: a stray write there is repaired by
//     the producer's publish, and releasing those bytes would let the
//     producer write into another record later. The consumer cannot tell
//     a finished producer from one that is not, so it waits there, as for
//     a claim. If the producer had finished, the consumer stays stopped
//     at that record (Peek returns what precedes it, the ring fills and
//     producers are refused, Quiescent is false so uds leaves the file
//     mapped at Close) until the next Open, whose recovery skips the
//     damage and counts it. This is the one kind of damage the live path
//     does not pass: passing it needs a sign that the producer finished,
//     a store the producer's path does not have to spare.
//
// Release removes exactly the records the last Peek returned, by the ends
// Peek kept (peekEnds), not by reading their headers again: a header
// damaged between Peek and Release changes neither what is removed nor
// how many are counted lost. Clearing released bytes reads each header
// again, checked, and clears one word at a time from the end (clearBack)
// from the first header that does not fit.
//
// Not defended: a writer that knows the layout and the record counts can
// forge records (the same user can write the file anyway: see the threat
// model in docs/design.md); a change to a payload byte of a record not yet
// sealed is sent as it is (no checksum exists yet), and of a sealed one
// too (the live path does not verify checks); a random word passes as a
// published header once in 2^30 tries.
//
// Recovery (recover) walks the data from the stored head, at most cap bytes:
//
//   - a published record is kept if its check verifies (sealed), or if it is
//     unsealed, this is the boot that wrote it (the page cache, not the
//     disk, held it, so it is exactly what the producer stored), and word 0
//     is keyed by word 1's seq (or is layout 1's len+1 alone), and a seq no further
//     from head's count than the bytes since head hold records (16 bytes
//     each at least); a verified record whose seq is below the expected
//     one, or one whose word 1 is 0, was released before the crash
//     (Release stores head before clearing) and ends the walk; an
//     unsealed one below it is stepped over by its (keyed) length: it was
//     released, and only released records follow, or its seq was damaged
//     and a record kept after it counts a damaged stretch;
//   - a claimed record (claimFlag) is a producer that died mid-copy: it is
//     skipped by its length, never sent;
//   - a zero word is free space or a claim whose producer died before its
//     claim word: skipped 8 bytes at a time. Such a claim has no payload
//     bytes either: a killed thread's stores up to the kill point all reach
//     memory, in program order as far as anything read afterwards can
//     tell, and the claim word is stored before the copy;
//   - anything else is damage: the walk resynchronizes 8 bytes at a time
//     and trusts only a sealed record whose check verifies, or an unsealed
//     record of this boot whose seq is not below the expected one (records
//     are claimed in seq order), or steps over such a record of another
//     boot (Unverified). So damage costs the records it hits, not the
//     unsealed records that follow the last sealed one. Damaged counts the
//     damaged stretches, one after the last record kept included, and a
//     kept record whose seq is further ahead than the claims skipped
//     before it explain (each counted one, or 16 zero bytes at least):
//     damage that read as padding or free space over records. A kill
//     inside a recovery's renumbering can make the next one count such a
//     stretch that was not damage (counted, nothing lost).
//
// Kept records are renumbered (seq = head.records + k: word 1 resealed
// first, then word 0 keyed) and resealed, the
// gaps between them become padding records, and the bytes after the last
// one are zeroed, so the ring is a valid ByteRing again and new records
// follow with higher sequence numbers. Every step is a single aligned store
// that leaves a state the same walk accepts, so a crash during recovery is
// recovered by the next Open.

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ringsink/ringsink/internal/park"
	"github.com/ringsink/ringsink/internal/pow2"
	"github.com/ringsink/ringsink/internal/testhook"
)

const (
	// DurableHeader is the size of a durable ring's file header; the data
	// follows it.
	DurableHeader = 4096
	durHdr        = 16
	durVersion    = 2 // 1: a published header was len+1 alone (still recovered)
	sealedBit     = 1 << 31
	liveBit       = 1 << 30 // in every live record's word 1: a cleared word 1 reads 0
	offVersion    = 8
	offLogCap     = 12
	offHead       = 16
	offBoot       = 24
)

var durMagic = [8]byte{'R', 'I', 'N', 'G', 'S', 'I', 'N', 'K'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrDurableDamaged is wrapped by the errors NewDurableByteRing returns for
// memory that is not a durable ring it can recover: a foreign or damaged
// file header, or a size that does not match it. The memory is left as it
// was.
var ErrDurableDamaged = errors.New("not a recoverable durable ring")

// DurableSize returns the bytes to map for a durable ring of capacity data
// bytes (rounded up as NewByteRing rounds them).
func DurableSize(capacity int) int {
	return DurableHeader + max(pow2.Round(capacity, "mpsc: durable ring capacity"), minByteCap)
}

// Recovery says what NewDurableByteRing found in a ring's memory.
type Recovery struct {
	Records    int  // records recovered: queued, oldest first, ahead of new ones
	Bytes      int  // their payload bytes
	Unfinished int  // records whose producer died mid-copy: skipped
	Damaged    int  // damaged stretches (between recovered records, or after the last): skipped
	Unverified int  // records written before a reboot and never sealed: skipped
	Formatted  bool // the memory was blank and has been formatted
}

// NewDurableByteRing returns a ByteRing kept in mem, which the caller maps
// from a file with MAP_SHARED and keeps mapped while the ring is in use
// (mem must be 8-aligned, as a mapping is). mem is DurableSize(capacity)
// bytes. Blank (all-zero) memory is formatted; otherwise the records a
// previous ring in the same memory held and did not release are recovered
// (see the comment at the top of durable.go) and come out of Peek first.
//
// boot identifies the running boot of the machine (Linux:
// /proc/sys/kernel/random/boot_id); records the consumer had not yet
// sealed are trusted only when it matches the boot that wrote them. A zero
// boot trusts only sealed records.
//
// The ring behaves as one from NewByteRing, with 16-byte record headers.
// The consumer seals records it holds on to (Seal); Release stores the new
// head into mem. Only one ring may use the memory at a time: the caller locks
// the file.
func NewDurableByteRing(mem []byte, boot [16]byte) (*ByteRing, Recovery, error) {
	var rec Recovery
	capa := len(mem) - DurableHeader
	switch {
	case capa < minByteCap || capa > maxByteCap || capa&(capa-1) != 0:
		return nil, rec, fmt.Errorf("%w: %d bytes is not %d plus a power of two in [64, 1 GiB]", ErrDurableDamaged, len(mem), DurableHeader)
	case uintptr(unsafe.Pointer(&mem[0]))%8 != 0:
		return nil, rec, errors.New("durable ring memory is not 8-aligned")
	}
	r := &ByteRing{
		mask:     uint32(capa - 1),
		hlen:     durHdr,
		buf:      mem[DurableHeader:],
		persist:  (*atomic.Uint64)(unsafe.Pointer(&mem[offHead])),
		peekEnds: make([]uint64, peekMax),
	}
	r.park.Init(32)
	hdr := mem[:DurableHeader]
	if [8]byte(hdr[:8]) == ([8]byte{}) {
		if !allZero(mem[DurableHeader:]) { // a header half formatted by a killed Open is redone
			return nil, rec, fmt.Errorf("%w: no header, yet the data is not blank", ErrDurableDamaged)
		}
		clear(hdr[8:]) // a half-formatted header may hold anything, head included
		*(*uint32)(unsafe.Pointer(&hdr[offVersion])) = durVersion
		*(*uint32)(unsafe.Pointer(&hdr[offLogCap])) = uint32(bits.TrailingZeros(uint(capa)))
		copy(hdr[offBoot:], boot[:])
		copy(hdr, durMagic[:]) // last: a blank magic means not yet formatted
		rec.Formatted = true
		return r, rec, nil
	}
	if [8]byte(hdr[:8]) != durMagic {
		return nil, rec, fmt.Errorf("%w: bad magic %q", ErrDurableDamaged, hdr[:8])
	}
	version := (*uint32)(unsafe.Pointer(&hdr[offVersion]))
	if v := *version; v != 1 && v != durVersion {
		return nil, rec, fmt.Errorf("%w: layout version %d, want 1 or %d", ErrDurableDamaged, v, durVersion)
	}
	if lc := *(*uint32)(unsafe.Pointer(&hdr[offLogCap])); lc >= 31 || 1<<lc != capa {
		return nil, rec, fmt.Errorf("%w: header says %d data bytes, the memory holds %d (truncated or extended)", ErrDurableDamaged, uint64(1)<<min(lc, 63), capa)
	}
	head := r.persist.Load()
	if _, pos := unpack(head); pos%8 != 0 {
		return nil, rec, fmt.Errorf("%w: head position %d is not 8-aligned", ErrDurableDamaged, pos)
	}
	trust := boot != [16]byte{} && bytes.Equal(hdr[offBoot:offBoot+16], boot[:])
	r.recover(head, trust, *version == 1, &rec)
	// After the walk, which rewrote every kept header in layout 2's form
	// (a walk of either layout accepts both forms).
	*version = durVersion
	copy(hdr[offBoot:], boot[:])
	return r, rec, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// check is a sealed record's checksum of payload p with sequence number seq.
func check(seq uint32, p []byte) uint64 {
	c := crc32.Checksum(p, castagnoli) ^ seq*0x9E3779B1 ^ uint32(len(p))*0x85EBCA77
	return uint64(c&^(sealedBit|liveBit) | sealedBit | liveBit)
}

// durableCopy is TryWrite's copy into a durable ring: the claim word and the
// sequence number first, so that recovery can step over a copy its producer
// did not finish.
func (r *ByteRing) durableCopy(i, seq uint32, pre, p []byte) {
	r.hdr(i).Store(claimFlag | uint64(len(pre)+len(p)))
	r.hdr(i + 8).Store(uint64(seq)<<32 | liveBit)
	j := i + durHdr
	if len(pre) > 0 {
		j += uint32(copy(r.buf[j:], pre))
	}
	dst := r.buf[j:]
	if testhook.MidCopy != nil {
		half := len(p) / 2
		copy(dst, p[:half])
		testhook.MidCopy(seq, p)
		copy(dst[half:], p[half:])
		return
	}
	copy(dst, p)
}

// seal stores the checksum of the published record seq whose payload is
// at buffer index start, n bytes, unless it has one. Consumer only.
func (r *ByteRing) seal(start, n int, seq uint32) {
	w := r.hdr(uint32(start) - 8)
	if v := w.Load(); v&sealedBit == 0 {
		w.Store(uint64(seq)<<32 | check(seq, r.buf[start:start+n]))
	}
}

// Seal checksums every published record the consumer has not yet sealed, up
// to the first unpublished one, and returns how many it sealed: for a
// consumer that holds records without sending them (a daemon away), so a
// reboot does not cost them. Durable rings only; consumer only.
func (r *ByteRing) Seal() int {
	if r.persist == nil {
		return 0
	}
	records, head := unpack(r.head.Load())
	if int32(r.sealRec-records) < 0 {
		r.sealPos, r.sealRec = head, records
	}
	k := 0
	for {
		start, n, end, rec, ok := r.nextDurable(r.sealPos, r.sealRec, head)
		if !ok {
			return k
		}
		r.seal(start, n, rec-1)
		r.sealPos, r.sealRec = end, rec
		k++
	}
}

// WaitUnsealed parks the consumer until a record Seal has not sealed is
// published, done is closed or timer fires (either may be nil). Durable
// rings only; consumer only; allocates nothing.
func (r *ByteRing) WaitUnsealed(done <-chan struct{}, timer <-chan time.Time) park.Reason {
	// Parked, the consumer is woken by the first write past the sealed
	// records. Lingering, it is woken halfway through the free space: half
	// of what lies between the first unsealed record and the end of the
	// ring (head plus the capacity). Half a ring past the first unsealed
	// record, as for Wait, would lie beyond the end of the ring whenever
	// the sealed backlog holds more than half of it (the uds consumer keeps
	// up to three quarters while the daemon is away): no write could reach
	// it, and the first wake-up would be a refused record. A ring full
	// before the wake point (padding, a large record) still wakes it by
	// refusing.
	pos, _, head := r.unsealedPos()
	end := head + uint32(len(r.buf))
	return r.park.Wait(uint64(pos), uint64(pos+(end-pos)/2), r.unsealedReady, r.sealedAll, done, timer)
}

// unsealedPos returns the byte position of the first record Seal has not
// sealed, its record count, and head's position.
func (r *ByteRing) unsealedPos() (pos, rec, head uint32) {
	records, head := unpack(r.head.Load())
	pos, rec = r.sealPos, r.sealRec
	if int32(r.sealRec-records) < 0 {
		pos, rec = head, records
	}
	return pos, rec, head
}

func (r *ByteRing) unsealedReady() bool {
	pos, rec, head := r.unsealedPos()
	_, _, _, _, ok := r.nextDurable(pos, rec, head)
	return ok
}

// sealedAll reports whether nothing is claimed beyond the sealed records
// (the idle condition of park.Wait for WaitUnsealed).
func (r *ByteRing) sealedAll() bool {
	records, _ := unpack(r.tail.Load())
	head, _ := unpack(r.head.Load())
	return records == max32(r.sealRec, head)
}

// max32 returns the later of two wrapping counters.
func max32(a, b uint32) uint32 {
	if int32(a-b) < 0 {
		return b
	}
	return a
}

// Quiescent reports whether every claimed record is published: no producer
// is between its claim and its publish, so no producer will store into the
// ring's memory again once it is closed. In a durable ring, a header
// damaged before the consumer read it (see the top of durable.go) counts as
// unpublished. Consumer only.
func (r *ByteRing) Quiescent() bool {
	records, head := unpack(r.head.Load())
	tail, _ := r.snapshot()
	claimed, _ := unpack(tail)
	pos := head
	if r.persist != nil {
		for rec := records; int32(claimed-rec) > 0; {
			_, _, end, next, ok := r.nextDurable(pos, rec, head)
			if !ok {
				return next == claimed // damage skipped up to the last claim
			}
			pos, rec = end, next
		}
		return true
	}
	for n := records; n != claimed; n++ {
		_, _, end, ok := r.next(pos, head)
		if !ok {
			return false
		}
		pos = end
	}
	return true
}

// Damaged returns how many records the consumer of a durable ring has
// removed as damaged: their headers, in memory another process (or a
// stray write) can change, no longer said what their producers stored, so
// Peek never returned them (see the comment at the top of durable.go).
// Release counts them when it moves past them. Zero in any other ring.
// Safe from any goroutine.
func (r *ByteRing) Damaged() uint64 { return r.damaged.Load() }

// peekMax is how many record ends a durable ring's Peek keeps for Release:
// uds peeks at most 1024 records (one writev). Records past it are found
// again by reading their headers.
const peekMax = 1024

// peekDurable is Peek for a durable ring. When no record is published
// after the damaged records at head, it removes them (a Release of nothing
// but them): Release, which removes skipped damage with the records after
// it, would never be called for them. Only up to seenPos: past it, the
// walk may have stepped over padding that is a stray write on a record
// still being copied, or on bytes not yet claimed.
func (r *ByteRing) peekDurable(dst [][]byte) int {
	records, head := unpack(r.head.Load())
	pos, rec := head, records
	k := 0
	for k < len(dst) {
		start, n, end, next, ok := r.nextDurable(pos, rec, head)
		if !ok {
			if k == 0 && next != records && !r.before(r.seenPos, end) {
				r.advance(records, head, next, end, 0)
			}
			break
		}
		dst[k] = r.buf[start : start+n : start+n]
		if k < len(r.peekEnds) {
			r.peekEnds[k] = pack(next, end)
		}
		pos, rec = end, next
		k++
	}
	r.peekLo, r.peekN = 0, min(k, len(r.peekEnds))
	return k
}

// releaseDurable is Release for a durable ring. The records the last Peek
// returned are removed by the ends it kept, not by their headers, which
// may have been damaged since: what was sent is exactly what is removed.
func (r *ByteRing) releaseDurable(n int) int {
	records, head := unpack(r.head.Load())
	pos, rec := head, records
	k := 0
	if use := min(n, r.peekN-r.peekLo); use > 0 {
		rec, pos = unpack(r.peekEnds[r.peekLo+use-1])
		r.peekLo += use
		k = use
	}
	for k < n {
		_, _, end, next, ok := r.nextDurable(pos, rec, head)
		if !ok {
			break
		}
		pos, rec = end, next
		k++
	}
	if k == 0 {
		return 0
	}
	r.advance(records, head, rec, pos, k)
	return k
}

// advance moves head from (records, head) to record count rec at
// position pos, past k records delivered and rec-records-k damaged ones
// (counted in Damaged), and clears the bytes. Consumer only.
func (r *ByteRing) advance(records, head, rec, pos uint32, k int) {
	if lost := rec - records - uint32(k); lost != 0 {
		r.damaged.Add(uint64(lost))
	}
	next := pack(rec, pos)
	// Into the file before the bytes are zeroed: a crash in between
	// leaves released records after the recovered ones, where their
	// sequence numbers mark them stale, never a hole before them.
	r.persist.Store(next)
	r.clearRecords(head, pos)
	if int32(r.sealRec-rec) < 0 {
		r.sealPos, r.sealRec = pos, rec
	}
	// Hand the zeroed bytes back to producers and count the records.
	r.head.Store(next)
}

// nextDurable is next for a durable ring, whose header words another
// process can change at any time: it returns the first published record at
// or after pos (record count rec), stepping over padding and over damage
// it may skip, with the record count after it (damaged records skipped
// included). Not ok, end and next are where it stopped: a record not yet
// published there, or pos reached head+cap. Every word it reads is checked
// before it is used as a length or an index (see the comment at the top of
// durable.go). Consumer only.
func (r *ByteRing) nextDurable(pos, rec, head uint32) (start, n int, end, next uint32, ok bool) {
	capa := uint32(len(r.buf))
	limit := head + capa
	from := pos // the end of the last record counted, before any padding
	for pos != limit {
		i := pos & r.mask
		h := r.hdr(i).Load()
		if h&padFlag != 0 {
			if m := h &^ padFlag; m >= 8 && m%8 == 0 && m <= uint64(capa-i) && pos+uint32(m)-head <= capa {
				end := pos + uint32(m)
				if r.before(pos, r.seenPos) {
					// Seen: a record seen ends at seenPos, after any
					// padding before it (a producer's, to the buffer's
					// end, or recovery's, between the records it kept),
					// so padding here ends at seenPos or before it.
					if !r.before(r.seenPos, end) {
						if pos = end; pos == r.seenPos {
							// The records it covered, if it is damage,
							// are counted by the count at seenPos.
							rec = r.seenRec
						}
						continue
					}
				} else if m == uint64(capa-i) {
					// Not yet seen: only a producer's padding, which
					// runs to the buffer's end.
					pos = end
					continue
				}
			}
		} else if m := uint32(h) - 1; m <= capa/2-durHdr && h == pubHeader(int(m), rec) {
			// Published, by the producer of record rec: its last store to
			// the record, so it is done with it.
			size := r.recordSize(int(m))
			if i+size <= capa && pos+size-head <= capa {
				// The producer stored word 1 before its release store of
				// word 0, which this goroutine's acquire load of word 0
				// saw: this load sees that store of word 1 (or a later
				// store by Seal, or another process's).
				w1 := r.hdr(i + 8).Load()
				if uint32(w1>>32) == rec && (uint32(w1) == liveBit || uint32(w1)&(sealedBit|liveBit) == sealedBit|liveBit) {
					// Every record up to here was seen published, in
					// order (a walk starts at head, at seenPos after
					// recovery): no producer stores below seenPos again.
					if r.before(r.seenPos, pos+size) {
						r.seenPos, r.seenRec = pos+size, rec+1
					}
					return int(i + durHdr), int(m), pos + size, rec + 1, true
				}
				// Its word 1 is not what its producer stored: the damage
				// costs this record (its length is known and verified).
				pos, rec = pos+size, rec+1
				from = pos
				if r.before(r.seenPos, pos) {
					r.seenPos, r.seenRec = pos, rec
				}
				continue
			}
		}
		// Not a record, not padding. Beyond seenPos this may be a record
		// still being written (0, a claim word) or damage a producer's
		// publish will overwrite: wait for it, as for any claim.
		if !r.before(pos, r.seenPos) {
			return 0, 0, pos, rec, false
		}
		// Damage where every producer is done: skip it.
		pos, rec = r.resync(from, pos, rec)
		from = pos
	}
	return 0, 0, pos, rec, false
}

// before reports whether position a comes before b (both within a lap of
// head). Consumer only.
func (r *ByteRing) before(a, b uint32) bool { return int32(a-b) < 0 }

// resync returns where the records resume after damage at pos (record
// count rec, counted up to from: padding may lie in [from, pos)), a
// position before seenPos: the first published record at or after pos
// that fits before seenPos and whose word 1 holds a record count between
// rec and seenRec, no more records after from than 16-byte headers fit
// before it, else seenPos itself (whose count is known). Every producer is
// done below seenPos, so the bytes skipped are no producer's. It never
// returns from (the bound admits no record there, and seenPos is after
// pos). Consumer only.
func (r *ByteRing) resync(from, pos, rec uint32) (uint32, uint32) {
	if pos == r.rsPos && rec == r.rsRec && from == r.rsFrom && r.rsEnd != r.rsFrom {
		return r.rsEnd, r.rsEndRec
	}
	capa := uint32(len(r.buf))
	q, qrec := r.seenPos, r.seenRec
	for p := pos; p != r.seenPos; p += 8 {
		i := p & r.mask
		h := r.hdr(i).Load()
		m := uint32(h) - 1
		if m > capa/2-durHdr {
			continue
		}
		size := r.recordSize(int(m))
		if i+size > capa || r.before(r.seenPos, p+size) {
			continue
		}
		w1 := r.hdr(i + 8).Load()
		s := uint32(w1 >> 32)
		// A record of count s takes 16 bytes at least: s-rec records fit
		// in [from, p) only if s-rec <= (p-from)/16. (At pos itself,
		// after padding: the padding ended on an intact record, ahead of
		// rec by the records it covered, which lie in [from, pos).)
		if int32(s-rec) > 0 && s-rec <= (p-from)/durHdr && int32(r.seenRec-s) > 0 && h == pubHeader(int(m), s) &&
			(uint32(w1) == liveBit || uint32(w1)&(sealedBit|liveBit) == sealedBit|liveBit) {
			q, qrec = p, s
			break
		}
	}
	r.rsFrom, r.rsPos, r.rsRec, r.rsEnd, r.rsEndRec = from, pos, rec, q, qrec
	return q, qrec
}

// recover walks the data from head and rebuilds the ring from the records
// it can trust (see the comment at the top of this file).
func (r *ByteRing) recover(head uint64, trust, v1 bool, rec *Recovery) {
	records, hpos := unpack(head)
	capa := uint32(len(r.buf))
	maxRec := uint32(r.MaxRecord())
	end := hpos + capa
	expect := records // the lowest sequence number a live record may have
	kept := uint32(0)
	last := hpos     // the end of the last kept record
	gap := hpos      // the start of the gap before the next kept record
	damaged := false // inside a damaged stretch: trust nothing but a verified seal
	// Since the last kept record: claims skipped and counted, and zero
	// bytes (a claim whose producer died before its claim word leaves 16 at
	// least). Together they bound how far the next kept record's seq may
	// be ahead of expect; further, records were lost to damage that read
	// as something else (padding over a record).
	skips, zeros := uint32(0), uint32(0)
	staleSkipped := false // an unsealed record behind expect was stepped over
	for pos := hpos; pos != end; {
		i := pos & r.mask
		w0 := r.hdr(i).Load()
		room := min(capa-i, end-pos) // bytes before the buffer's end or the walk's
		switch {
		case w0 == 0:
			pos += 8
			zeros += 8
			continue
		case !damaged && w0&padFlag != 0 && w0&claimFlag == 0 && w0&^padFlag >= 8 && w0&^padFlag <= uint64(room) && w0%8 == 0:
			pos += uint32(w0 &^ padFlag)
			continue
		case !damaged && w0&claimFlag != 0 && w0&padFlag == 0 && w0&^claimFlag <= uint64(maxRec) && r.recordSize(int(w0&^claimFlag)) <= room:
			rec.Unfinished++
			skips++
			pos += r.recordSize(int(w0 &^ claimFlag))
			continue
		case pubLen(w0) <= maxRec && r.recordSize(int(pubLen(w0))) <= room:
			n := int(pubLen(w0))
			w1 := r.hdr(i + 8).Load()
			seq := uint32(w1 >> 32)
			p := r.buf[i+durHdr : i+durHdr+uint32(n)]
			sealed := w1&sealedBit != 0
			unsealed := uint32(w1) == liveBit // as its producer left it
			stale := int32(seq-expect) < 0
			// A damaged stretch ends at a verified seal, or at an unsealed
			// record this boot wrote whose seq is not behind (seq only
			// grows along the ring): damage costs what it hits, not the
			// unsealed records after the last sealed one.
			verified := sealed && w1 == uint64(seq)<<32|check(seq, p)
			// Word 0 keyed by word 1's count, or layout 1's len+1 alone:
			// an unsealed record's length has nothing else to vouch for
			// it. (A sealed one's check covers its length; a kill inside
			// renumbering leaves word 0 keyed by the old count and word 1
			// resealed with the new one: verified.)
			keyed := w0 == pubHeader(n, seq) || v1 && w0>>32 == 0
			// The records claimed since head lie between it and here, 16
			// bytes each at least (renumbering only lowers seqs, so this
			// holds in the middle of a killed recovery too). A header
			// forged in a payload rarely fits.
			fits := seq-records <= (pos-hpos)/durHdr
			ok := verified && (stale || fits) || unsealed && trust && keyed && !stale && fits
			if ok && stale || !damaged && uint32(w1) == 0 {
				// Released before the crash: head reached the file, and the
				// clearing (word 1 first, the header last) had not begun,
				// or had cleared word 1 (never 0 in a live record) and
				// maybe part of the payload. The live records are behind
				// us.
				pos = end
				continue
			}
			if !damaged && unsealed && stale && keyed {
				// Released (Release stores head before clearing), and
				// then only released records follow to the walk's end;
				// or a live record whose seq was damaged, if a record is
				// kept after it (counted then). Its length is keyed:
				// step over it, never into its payload.
				skips++
				staleSkipped = true
				pos += r.recordSize(n)
				continue
			}
			if ok {
				if damaged || staleSkipped || seq-expect > skips+zeros/durHdr {
					rec.Damaged++
					damaged = false
				}
				skips, zeros, staleSkipped = 0, 0, false
				r.pad(gap, pos)
				newSeq := records + kept
				// Word 1 first: a kill before word 0 leaves a record whose
				// check verifies, whatever word 0's high half says.
				r.hdr(i + 8).Store(uint64(newSeq)<<32 | check(newSeq, p))
				if pub := pubHeader(n, newSeq); w0 != pub {
					r.hdr(i).Store(pub)
				}
				expect = seq + 1
				kept++
				rec.Records++
				rec.Bytes += n
				pos += r.recordSize(n)
				last, gap = pos, pos
				continue
			}
			if unsealed && !trust && !stale && keyed && fits {
				if damaged {
					rec.Damaged++
					damaged = false
				}
				rec.Unverified++ // a record the reboot may have torn: step over it
				skips++
				pos += r.recordSize(n)
				continue
			}
		}
		damaged = true
		pos += 8
	}
	if damaged {
		rec.Damaged++ // a stretch after the last record kept
	}
	r.clearTail(last, end) // free space, and whatever followed the last kept record
	r.head.Store(head)
	r.tail.Store(pack(records+kept, last))
	r.sealPos, r.sealRec = last, records+kept
	r.seenPos, r.seenRec = last, records+kept // no producer has written since
}

// pubLen returns the payload length a published header states in its low
// half (len+1), in either layout; a zero low half or a flag returns more
// than any MaxRecord.
func pubLen(w0 uint64) uint32 {
	if lo := uint32(w0); lo != 0 && w0>>62 == 0 {
		return lo - 1
	}
	return 1<<32 - 1
}

// pubHeader is word 0 of a published durable record of n payload bytes and
// record count seq (layout 2): len+1, and above it a 30-bit hash of len+1
// and seq, so that the live consumer, which knows the count it expects,
// can tell a word changed by another process or copied from another record
// from the one the producer stored (but for one chance in 2^30), before it
// uses the length. A hash, not len+1 xor a key: flipping the same bit in
// both halves must not pass (the fuzz target found that). The producer's
// publish is the same one store, two multiplies dearer.
func pubHeader(n int, seq uint32) uint64 {
	l := uint32(n) + 1
	return uint64((l^seq*0x9E3779B1)*0x85EBCA77>>2)<<32 | uint64(l)
}

// clearTail clears [from, to), which follows the last kept record and
// holds anything (released records, unfinished ones, damage): it first
// covers the range with padding records, clears what they cover, then
// their headers, the first last. A kill part way leaves a walk that skips
// the range, never cleared words before bytes that could read as records.
func (r *ByteRing) clearTail(from, to uint32) {
	if from == to {
		return
	}
	r.pad(from, to)
	for pos := from; pos != to; {
		i := pos & r.mask
		n := min(uint32(len(r.buf))-i, to-pos)
		clear(r.buf[i+8 : i+n])
		pos += n
	}
	if j := from&r.mask + (to - from); j > uint32(len(r.buf)) {
		r.hdr(0).Store(0) // the second padding record, at the buffer's start
	}
	r.hdr(from & r.mask).Store(0)
}

// clearRecords is zero for a durable ring's released records in [from,
// to) (published records and padding, as Release walked them): each
// record's bytes after its first word (word 1 first), then that word. A
// kill part way leaves the record being cleared with its header intact and
// its word 1 zero, which no live record has (liveBit), so recovery reads it
// as released, never a zeroed header before payload bytes that could read
// as records. The headers are read again, and checked: one that does not
// fit in what is left (damage, or a word changed since the walk) leaves
// the rest to clearBack.
func (r *ByteRing) clearRecords(from, to uint32) {
	capa := uint32(len(r.buf))
	for pos := from; pos != to; {
		i := pos & r.mask
		h := r.hdr(i).Load()
		room := uint64(min(capa-i, to-pos))
		m := h &^ padFlag
		if h&padFlag == 0 {
			m = uint64(r.recordSize(int(uint32(h) - 1)))
			if h>>62 != 0 || uint32(h)-1 > capa/2-durHdr {
				m = 0
			}
		}
		if m < 8 || m%8 != 0 || m > room {
			r.clearBack(pos, to)
			return
		}
		clear(r.buf[i+8 : i+uint32(m)])
		r.hdr(i).Store(0)
		pos += uint32(m)
	}
}

// clearBack zeroes [from, to) one word at a time from the end, for bytes
// whose headers cannot be trusted: a kill part way leaves them intact up
// to some word and zero after it, so the first header (stale, or damaged)
// is still there for recovery, and no header is zeroed before the bytes
// after it.
func (r *ByteRing) clearBack(from, to uint32) {
	for pos := to; pos != from; {
		pos -= 8
		r.hdr(pos & r.mask).Store(0)
	}
}

// Sealed returns the record count up to which Seal has sealed (every record
// released or sealed). Durable rings only; consumer only.
func (r *ByteRing) Sealed() uint32 {
	head, _ := unpack(r.head.Load())
	return max32(r.sealRec, head)
}

// pad turns the gap [from, to) between kept records into padding records,
// split at the buffer's end (a record never straddles it).
func (r *ByteRing) pad(from, to uint32) {
	for from != to {
		i := from & r.mask
		n := min(uint32(len(r.buf))-i, to-from)
		r.hdr(i).Store(padFlag | uint64(n))
		from += n
	}
}
