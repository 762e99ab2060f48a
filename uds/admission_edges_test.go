//go:build unix

package uds

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ringsink/ringsink/uds/format"
)

// TestInfoRecordAcrossTheRingsEndLeavesTheReserveFree: Config.Reserve says
// a record of ShedFrom or less severe is refused unless at least Reserve
// bytes stay free once it is in. An Info record that does not fit before
// the buffer's end pads to it and starts again at 0; the padding must
// count, or one large Info record can take the whole reserve, and a small
// Warning record is then refused although nothing but Info was admitted
// past the reserve.
//
// The daemon reads nothing, so the consumer is blocked with its batch in
// the ring: head stands still. Every record before the large one takes 64
// bytes, so head and tail are known from Released and Written, and the
// test places the large record's start where it must pad.
func TestInfoRecordAcrossTheRingsEndLeavesTheReserveFree(t *testing.T) {
	const ringBytes, reserve = 64 << 10, 256
	w, d, _ := stuckBefore(t, Config{RingBytes: ringBytes, Reserve: reserve, KeepWait: -1}, infoRec)
	head := (64 * uint64(w.ring.Released())) % ringBytes
	tail := (64 * uint64(w.ring.Written())) % ringBytes
	if used := uint64(w.ring.Len()); (tail-head+ringBytes)%ringBytes != used%ringBytes {
		t.Fatalf("head %d, tail %d, %d bytes in use: the ring is not in the state the test computes", head, tail, used)
	}
	if head <= reserve+64 || head > ringBytes/2 {
		t.Skipf("the consumer stopped with head at %d; the test needs it in (%d, %d]", head, reserve+64, ringBytes/2)
	}
	// Info records of 64 bytes until the distance from tail to the
	// buffer's end (end) is reserve+64: a record larger than that pads.
	for end := ringBytes - tail; end != reserve+64; end = ringBytes - tail {
		if tail < head || end < reserve+64 {
			t.Fatalf("tail %d is past its place (head %d)", tail, head)
		}
		if _, err := w.WriteSeverity(format.Info, infoRec(0)); err != nil {
			t.Fatalf("filler at tail %d (head %d): %v", tail, head, err)
		}
		tail = (tail + 64) % ringBytes
	}
	// Free now: end bytes to the buffer's end, head bytes from 0. An Info
	// record of head bytes (header included) fits only at 0, after end
	// bytes of padding, and then nothing is free: it must be refused.
	big := int(head) - 8
	if _, err := w.WriteSeverity(format.Info, bytes.Repeat([]byte{'b'}, big)); err != nil && !errors.Is(err, ErrFull) {
		t.Fatal(err)
	}
	if free := ringBytes - w.ring.Len(); free < reserve {
		t.Errorf("an Info record was admitted and left %d bytes free; Config.Reserve is %d", free, reserve)
	}
	// What the reserve is for: a small Warning record fits.
	warn := []byte("warning " + strings.Repeat("w", 100))
	if _, err := w.WriteSeverity(format.Warning, warn); err != nil {
		t.Errorf("a %d-byte Warning record with only Info admitted into a %d-byte reserve: %v", len(warn), reserve, err)
	}
	close(d.release)
	flushAndClose(t, w)
	<-d.got
}
