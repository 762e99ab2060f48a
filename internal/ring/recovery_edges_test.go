package ring

import (
	"bytes"
	"testing"
	"unsafe"
)

// highCount reopens a blank ring whose stored head says base records were
// released (a file reused for a long time: counts continue across Opens).
func highCount(t *testing.T, capa int, base uint32) ([]byte, *ByteRing) {
	mem := durMem(capa)
	openDurable(t, mem, bootA)
	*(*uint64)(unsafe.Pointer(&mem[offHead])) = pack(base, 0)
	r, _ := openDurable(t, mem, bootA)
	return mem, r
}

// Recovery at the edges: record counts past 2^31, a damaged seq, a
// half-formatted header.

// A kill inside Release's clearing of a released record, at any record
// count: its cleared word 1 reads as seq 0, which past 2^31 is not "below"
// expect in int32 arithmetic; liveBit makes a cleared word 1 a sign of a
// released record whatever the count.
func TestDurableKillMidClearAtAnyCount(t *testing.T) {
	for _, base := range []uint32{100, 1 << 31, 1<<31 + 100, 0xFFFFFFF0} {
		for cut := 16; cut <= 48; cut += 8 {
			mem, r := highCount(t, 1024, base)
			r.TryWrite([]byte("first"))
			r.TryWrite([]byte("second record, released, being cleared"))
			r.Release(1)
			before := bytes.Clone(mem)
			r.Release(1) // the kill comes while this clears record 2
			copy(mem[DurableHeader:], before[DurableHeader:])
			start := DurableHeader + int(r.recordSize(5))
			clear(mem[start+8 : start+cut]) // memclr's first stores: the seq word and some payload
			r2, rc := openDurable(t, mem, bootA)
			got := drain(r2)
			if rc.Records != 0 {
				t.Errorf("base %#x cut %d: recovered %d released records: %q", base, cut, rc.Records, got)
			}
		}
	}
}

// Damage that lowers a sealed live record's seq (one flipped bit) costs
// that record, counted, not the walk (the stale rule needs a verified
// record, an unsealed one, or a cleared word 1).
func TestDurableDamagedSeqCostsOneRecord(t *testing.T) {
	mem, r := highCount(t, 1024, 100)
	for i := range 4 {
		r.TryWrite(rec(i, 20))
	}
	r.Seal()
	p := DurableHeader + int(r.recordSize(20)) + 8 // record 1's seq word
	*(*uint64)(unsafe.Pointer(&mem[p])) ^= 1 << 34 // seq 101 -> 97
	_, rc := openDurable(t, mem, bootA)
	if rc.Records != 3 || rc.Damaged != 1 {
		t.Errorf("want 3 records recovered and 1 damaged stretch, got %+v", rc)
	}
}

// Formatting a header whose magic is blank (a format killed half way)
// resets the whole header, head included.
func TestDurableFormatResetsStaleHead(t *testing.T) {
	mem := durMem(256)
	*(*uint64)(unsafe.Pointer(&mem[offHead])) = pack(5, 0) // blank magic, stale head
	r, rc := openDurable(t, mem, bootA)
	if !rc.Formatted {
		t.Fatal(rc)
	}
	for i := range 3 {
		r.TryWrite(rec(i, 10))
	}
	_, rc = openDurable(t, mem, bootA) // crash, recover
	if rc.Records != 3 {
		t.Errorf("3 accepted records, recovered %+v", rc)
	}
}
