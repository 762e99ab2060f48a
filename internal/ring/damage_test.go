package ring

import (
	"bytes"
	"testing"
	"unsafe"
)

// word returns the 8-byte word at data offset off of a durable ring's
// memory.
func word(mem []byte, off int) *uint64 {
	return (*uint64)(unsafe.Pointer(&mem[DurableHeader+off]))
}

// peekCopies peeks up to n records and returns copies.
func peekCopies(r *ByteRing, n int) [][]byte {
	dst := make([][]byte, n)
	k := r.Peek(dst)
	out := make([][]byte, k)
	for i, p := range dst[:k] {
		out[i] = bytes.Clone(p)
	}
	return out
}

// writeRecs writes rec(i, size) for i in [from, to) and returns them.
func writeRecs(t *testing.T, r *ByteRing, from, to, size int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := from; i < to; i++ {
		p := rec(i, size)
		if !r.TryWrite(p) {
			t.Fatalf("write %d refused", i)
		}
		out = append(out, p)
	}
	return out
}

// Six records of 20 bytes take 40 bytes each (16-byte header, payload
// padded to 8): record i's header is at data offset 40*i.
const recAt = 40

// A stray write gives a record the consumer has seen a length of
// 536870927 bytes (the panic: slice bounds out of range in Peek).
// The record costs itself, counted; the records after it are delivered.
func TestDurableLiveDamagedHeaderCostsOneRecord(t *testing.T) {
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	want := writeRecs(t, r, 0, 6, 20)
	if got := peekCopies(r, 8); len(got) != 6 {
		t.Fatalf("Peek = %d records, want 6", len(got))
	}
	*word(mem, 2*recAt) = 536870927 + 1
	got := peekCopies(r, 8)
	checkRecords(t, got, [][]byte{want[0], want[1], want[3], want[4], want[5]})
	if n := r.Release(len(got)); n != len(got) {
		t.Fatalf("Release(%d) = %d", len(got), n)
	}
	if r.Pending() != 0 || r.Damaged() != 1 {
		t.Fatalf("Pending = %d, Damaged = %d; want 0 and 1", r.Pending(), r.Damaged())
	}
	// The ring goes on working over the cleared bytes.
	more := writeRecs(t, r, 6, 30, 20)
	checkRecords(t, drain(r), more)
}

// A header damaged between Peek and Release: Release removes exactly the
// records Peek returned (they were sent), no more, none counted lost.
func TestDurableLiveReleaseAfterDamageRemovesWhatPeekReturned(t *testing.T) {
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	want := writeRecs(t, r, 0, 6, 20)
	if got := peekCopies(r, 4); len(got) != 4 {
		t.Fatalf("Peek = %d records, want 4", len(got))
	}
	*word(mem, 1*recAt) = 1<<40 | 7 // record 1: neither a length nor a flag
	if n := r.Release(4); n != 4 {
		t.Fatalf("Release(4) = %d", n)
	}
	if r.Pending() != 2 || r.Damaged() != 0 {
		t.Fatalf("Pending = %d, Damaged = %d; want 2 and 0", r.Pending(), r.Damaged())
	}
	checkRecords(t, drain(r), want[4:])
}

// One flipped bit in the length of a published record the consumer has not
// read yet: the record is never sent with the wrong length, and the records
// after it are not lost: the live consumer stops there (its producer may
// still be writing it) and recovery skips it, counted.
func TestDurableLiveFlippedLengthIsNeverSent(t *testing.T) {
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	want := writeRecs(t, r, 0, 6, 20)
	*word(mem, 2*recAt) ^= 8 // 20 bytes -> 28
	got := peekCopies(r, 8)
	checkRecords(t, got, want[:2])
	r.Release(len(got))
	r2, rc := openDurable(t, mem, bootA)
	if rc.Records != 3 || rc.Damaged != 1 {
		t.Fatalf("recovery: %+v; want 3 records and 1 damaged stretch", rc)
	}
	checkRecords(t, drain(r2), want[3:])
}

// The same flip in a record the consumer has read (Peek, Seal) costs that
// record alone, live.
func TestDurableLiveFlippedLengthAfterPeek(t *testing.T) {
	for _, seal := range []bool{false, true} {
		mem := durMem(1024)
		r, _ := openDurable(t, mem, bootA)
		want := writeRecs(t, r, 0, 6, 20)
		if seal {
			r.Seal()
		} else {
			peekCopies(r, 8)
		}
		*word(mem, 2*recAt) ^= 8
		got := drain(r)
		checkRecords(t, got, [][]byte{want[0], want[1], want[3], want[4], want[5]})
		if r.Damaged() != 1 || r.Pending() != 0 {
			t.Fatalf("seal %v: Damaged = %d, Pending = %d; want 1 and 0", seal, r.Damaged(), r.Pending())
		}
	}
}

// Damage to the last sealed record costs that record, counted, not the
// unsealed records of the same boot that follow it; after a reboot those
// are counted as unverified.
func TestDurableRecoveryDamagedLastSealedKeepsTheRest(t *testing.T) {
	for _, boot := range [][16]byte{bootA, bootB} {
		mem := durMem(1024)
		r, _ := openDurable(t, mem, bootA)
		want := writeRecs(t, r, 0, 4, 20)
		r.Seal()
		want = append(want, writeRecs(t, r, 4, 7, 20)...)
		mem[DurableHeader+3*recAt+16+5] ^= 0x5a // record 3's payload: its check fails
		r2, rc := openDurable(t, mem, boot)
		keep := [][]byte{want[0], want[1], want[2], want[4], want[5], want[6]}
		unverified := 0
		if boot == bootB {
			keep, unverified = want[:3], 3
		}
		if rc.Records != len(keep) || rc.Damaged != 1 || rc.Unverified != unverified {
			t.Fatalf("reboot %v: recovery %+v; want %d records, 1 damaged, %d unverified", boot == bootB, rc, len(keep), unverified)
		}
		checkRecords(t, drain(r2), keep)
	}
}

// A kill inside a recovery's renumbering: the dead record before the
// kept ones became padding, the first kept record was renumbered (count 1
// to 0, resealed), the second was resealed with its new count (1) and its
// word 0 is still keyed by its old one (2). The next recovery keeps all
// three: the second verifies, and the third's count is ahead of the
// second's by more than the bytes between them hold, not more than the
// bytes since head.
func TestDurableKillInsideRenumbering(t *testing.T) {
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	if !deadWrite(r, rec(0, 20)) {
		t.Fatal("the hook did not run")
	}
	want := writeRecs(t, r, 1, 4, 20) // counts 1, 2, 3
	*word(mem, 0) = padFlag | recAt
	*word(mem, recAt) = pubHeader(20, 0)
	*word(mem, recAt+8) = check(0, want[0])
	*word(mem, 2*recAt+8) = 1<<32 | check(1, want[1])
	r2, rc := openDurable(t, mem, bootA)
	if rc.Records != 3 {
		t.Fatalf("recovery: %+v; want the 3 records", rc)
	}
	checkRecords(t, drain(r2), want)
}

// A padding word forged over a record the consumer has seen, ending exactly
// where the records it has seen end (seenPos), skips the records it covers:
// they are counted in Damaged, and the records published after them are
// delivered. The walk must not arrive at seenPos with a record count behind
// the one there, or it waits for good for a record that never comes.
func TestDurableLivePaddingToSeenPosIsSkippedAndCounted(t *testing.T) {
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	want := writeRecs(t, r, 0, 6, 20)
	if got := peekCopies(r, 8); len(got) != 6 { // seenPos = 6*recAt
		t.Fatalf("Peek = %d records, want 6", len(got))
	}
	*word(mem, 2*recAt) = padFlag | (6*recAt - 2*recAt) // records 2..5
	more := writeRecs(t, r, 6, 8, 20)                   // published after the damage
	checkRecords(t, drain(r), append([][]byte{want[0], want[1]}, more...))
	if r.Pending() != 0 || r.Damaged() != 4 {
		t.Fatalf("Pending = %d, Damaged = %d; want 0 and 4", r.Pending(), r.Damaged())
	}
	// The ring goes on working, across the buffer's end.
	checkRecords(t, writeDraining(t, r, 8, 60), recs(8, 60))
}

// Below seenPos, a padding word that runs to the buffer's end while seenPos
// lies before it is no padding a producer or recovery wrote (a record seen
// ends after any padding before it): it is damage, skipped to the next
// intact record and counted, never a jump over records nobody has read.
func TestDurableLivePaddingPastSeenPosIsDamage(t *testing.T) {
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	want := writeRecs(t, r, 0, 6, 20)
	if got := peekCopies(r, 3); len(got) != 3 { // seenPos = 3*recAt
		t.Fatalf("Peek = %d records, want 3", len(got))
	}
	*word(mem, 1*recAt) = padFlag | (1024 - 1*recAt)
	checkRecords(t, drain(r), append([][]byte{want[0]}, want[2:]...))
	if r.Pending() != 0 || r.Damaged() != 1 {
		t.Fatalf("Pending = %d, Damaged = %d; want 0 and 1", r.Pending(), r.Damaged())
	}
	checkRecords(t, writeDraining(t, r, 6, 60), recs(6, 60))
}

// recs returns rec(i, 20) for i in [from, to).
func recs(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, rec(i, 20))
	}
	return out
}

// writeDraining writes rec(i, 20) for i in [from, to), draining after each, and
// returns what was delivered.
func writeDraining(t *testing.T, r *ByteRing, from, to int) [][]byte {
	t.Helper()
	var got [][]byte
	for i := from; i < to; i++ {
		if !r.TryWrite(rec(i, 20)) {
			t.Fatalf("write %d refused (Pending %d, Damaged %d)", i, r.Pending(), r.Damaged())
		}
		got = append(got, drain(r)...)
	}
	return got
}

// A padding word forged over seen records that ends before seenPos, on an
// intact record: the walk resumes at that record (the records the padding
// covered are counted), not at a later one.
func TestDurableLivePaddingBelowSeenPosResumesAtItsEnd(t *testing.T) {
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	want := writeRecs(t, r, 0, 6, 20)
	if got := peekCopies(r, 8); len(got) != 6 { // seenPos = 6*recAt
		t.Fatalf("Peek = %d records, want 6", len(got))
	}
	*word(mem, 1*recAt) = padFlag | 2*recAt // records 1 and 2
	checkRecords(t, drain(r), [][]byte{want[0], want[3], want[4], want[5]})
	if r.Pending() != 0 || r.Damaged() != 2 {
		t.Fatalf("Pending = %d, Damaged = %d; want 0 and 2", r.Pending(), r.Damaged())
	}
}

// Damage to the last records the consumer has seen, with nothing published
// after them: Peek, finding nothing to return, removes them, counted, so
// Pending does not keep them (a Flush waiting for it to reach 0 would wait
// until the next record).
func TestDurableLiveDamageAtTheEndIsRemovedByPeek(t *testing.T) {
	for _, pad := range []bool{false, true} {
		mem := durMem(1024)
		r, _ := openDurable(t, mem, bootA)
		want := writeRecs(t, r, 0, 6, 20)
		if got := peekCopies(r, 8); len(got) != 6 {
			t.Fatalf("Peek = %d records, want 6", len(got))
		}
		*word(mem, 4*recAt) = 1<<40 | 7 // records 4, 5: neither a length nor a flag
		if pad {
			*word(mem, 4*recAt) = padFlag | 2*recAt
		}
		*word(mem, 5*recAt+8) = 0
		checkRecords(t, drain(r), want[:4])
		if r.Pending() != 0 || r.Damaged() != 2 {
			t.Fatalf("padding %v: Pending = %d, Damaged = %d; want 0 and 2", pad, r.Pending(), r.Damaged())
		}
		checkRecords(t, writeDraining(t, r, 6, 60), recs(6, 60))
	}
}

// Damage to the last record seen, and a stray padding word in the free
// space after it (where the next record will be claimed) running to the
// buffer's end: Peek removes the damaged record, but not the bytes past
// seenPos, which no record has been seen in (the padding may be a stray
// write on a record being copied, or, as here, on bytes not yet claimed:
// removing them would move head past tail). The next write overwrites the
// padding word with its claim.
func TestDurableLivePeekRemovesDamageOnlyUpToSeenPos(t *testing.T) {
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	want := writeRecs(t, r, 0, 6, 20)
	if got := peekCopies(r, 8); len(got) != 6 { // seenPos = 6*recAt
		t.Fatalf("Peek = %d records, want 6", len(got))
	}
	*word(mem, 5*recAt) = 1<<40 | 7
	*word(mem, 6*recAt) = padFlag | (1024 - 6*recAt)
	checkRecords(t, drain(r), want[:5])
	checkRecords(t, writeDraining(t, r, 6, 60), recs(6, 60))
	if r.Pending() != 0 || r.Damaged() != 1 {
		t.Fatalf("Pending = %d, Damaged = %d; want 0 and 1", r.Pending(), r.Damaged())
	}
}
