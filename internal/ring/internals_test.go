package ring

import (
	"bytes"
	"testing"
)

func TestPopZeroesSlots(t *testing.T) {
	r := New[*int](4)
	for range 4 {
		x := 1
		r.TryPush(&x)
	}
	r.TryPop()
	r.TryPopBatch(make([]*int, 3))
	for i := range r.slots {
		if r.slots[i].val != nil {
			t.Fatalf("slot %d still holds a pointer after pop", i)
		}
	}
}

func TestByteRingPaddingAtEveryOffset(t *testing.T) {
	// For each starting offset, write a record that cannot fit before the end
	// of the buffer, so it is preceded by a padding record.
	for off := 0; off < 256; off += 8 {
		r := NewByteRing(256)
		if off > 0 {
			r.TryWrite(make([]byte, off-hdrSize))
			r.Release(1)
		}
		p := bytes.Repeat([]byte{'p'}, r.MaxRecord())
		if !r.TryWrite(p) {
			t.Fatalf("offset %d: max record refused in an empty ring", off)
		}
		dst := make([][]byte, 2)
		if n := r.Peek(dst); n != 1 || !bytes.Equal(dst[0], p) {
			t.Fatalf("offset %d: Peek = %d records", off, n)
		}
		r.Release(1)
		if r.Len() != 0 {
			t.Fatalf("offset %d: Len %d after releasing everything", off, r.Len())
		}
		for i, b := range r.buf {
			if b != 0 {
				t.Fatalf("offset %d: byte %d = %d after release; want 0", off, i, b)
			}
		}
	}
}

// TestByteRingCountersWrap starts the packed position and record counters
// just below 2^32 so they wrap during the test.
func TestByteRingCountersWrap(t *testing.T) {
	r := NewByteRing(256)
	start := pack(^uint32(0)-2, ^uint32(0)-63) // 3 records and 64 bytes before the wrap
	r.tail.Store(start)
	r.head.Store(start)
	before := r.Written()
	dst := make([][]byte, 8)
	for i := range 1000 {
		p := bytes.Repeat([]byte{byte(i)}, i%40)
		first, second := r.TryWrite(p), r.TryWrite(p)
		if !first || !second {
			t.Fatalf("round %d: write refused in an empty ring", i)
		}
		if r.Pending() != 2 {
			t.Fatalf("round %d: Pending %d; want 2", i, r.Pending())
		}
		if n := r.Peek(dst); n != 2 || !bytes.Equal(dst[1], p) {
			t.Fatalf("round %d: Peek %d records", i, n)
		}
		r.Release(2)
	}
	if got := r.Written() - before; got != 2000 {
		t.Fatalf("Written advanced by %d; want 2000", got)
	}
	if r.Released() != r.Written() || r.Len() != 0 {
		t.Fatalf("Released %d, Written %d, Len %d", r.Released(), r.Written(), r.Len())
	}
}
