//go:build unix

package uds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/ringsink/ringsink/internal/ring"
	"github.com/ringsink/ringsink/internal/testhook"
)

// A stray write into the header of a record the spill file holds while the
// Writer runs (another process of the same user can write the file) costs
// that record, counted in DroppedDamaged; the others are sent intact and
// the conservation sum holds.
func TestSpillLiveDamageCostsTheRecordItHits(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	recs, word := sealedSpill(t, w, 10)
	atomic.StoreUint64(word(3, 0), 536870927+1)
	d := startMsgDaemon(t, "unixgram", path, false)
	flushAndClose(t, w)
	want := append(append([][]byte(nil), recs[:3]...), recs[4:]...)
	wantMessages(t, d, want)
	st := w.Stats()
	if st.DroppedDamaged != 1 || st.Written != 9 || st.Pending != 0 {
		t.Fatalf("stats: %+v; want 1 damaged, 9 written, 0 pending", st)
	}
	checkConservation(t, st)
}

// TestSpillLiveDamageReachesTheDropNotice: records skipped as damaged
// are counted in the next drop notice (Drops.Damaged), so the daemon
// hears of them as of any other drop.
func TestSpillLiveDamageReachesTheDropNotice(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	var damaged atomic.Uint64
	cfg := spillConfig(path, dir)
	cfg.DropNotice = func(d Drops) []byte {
		damaged.Add(d.Damaged)
		return fmt.Appendf(nil, "dropped: %d damaged", d.Damaged)
	}
	w := mustOpen(t, cfg)
	_, word := sealedSpill(t, w, 10)
	atomic.StoreUint64(word(3, 0), 536870927+1)
	d := startMsgDaemon(t, "unixgram", path, false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := writeAll(w, []byte("after")); err != nil { // the next send starts with the notice
		t.Fatal(err)
	}
	flushAndClose(t, w)
	if got := damaged.Load(); got != 1 {
		t.Errorf("drop notices counted %d damaged records; want 1", got)
	}
	waitFor(t, "the notice at the daemon", 5*time.Second, func() bool {
		for _, m := range d.got() {
			if bytes.Equal(m, []byte("dropped: 1 damaged")) {
				return true
			}
		}
		return false
	})
}

// A padding word over records the consumer has sealed, running to the end
// of the last sealed record, costs the records it covers, counted in
// DroppedDamaged; the records before it and every record written after it
// are sent, Flush returns, and Close keeps nothing.
func TestSpillLivePaddingOverSealedRecordsIsSkippedAndCounted(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	recs, word := sealedSpill(t, w, 10)
	size := (16 + len(recs[0]) + 7) &^ 7
	atomic.StoreUint64(word(3, 0), 1<<63|uint64(7*size)) // padding from record 3 to the end of record 9
	d := startMsgDaemon(t, "unixgram", path, false)
	want := append([][]byte(nil), recs[:3]...)
	for i := 10; i < 15; i++ {
		p := fmt.Appendf(nil, "<14>record %d", i)
		if err := writeAll(w, p); err != nil {
			t.Fatal(err)
		}
		want = append(want, p)
	}
	flushAndClose(t, w)
	wantMessages(t, d, want)
	st := w.Stats()
	if st.DroppedDamaged != 7 || st.Written != 8 || st.Pending != 0 {
		t.Fatalf("stats: %+v; want 7 damaged, 8 written, 0 pending", st)
	}
	checkConservation(t, st)
}

// A stray write into the header of the last record the spill file holds,
// with nothing written after it: the record is counted in DroppedDamaged,
// the others are sent, and Flush returns.
func TestSpillLiveDamageToTheLastRecordLetsFlushReturn(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	recs, word := sealedSpill(t, w, 10)
	atomic.StoreUint64(word(9, 0), 536870927+1)
	d := startMsgDaemon(t, "unixgram", path, false)
	flushAndClose(t, w)
	want := recs[:9]
	wantMessages(t, d, want)
	st := w.Stats()
	if st.DroppedDamaged != 1 || st.Written != 9 || st.Pending != 0 {
		t.Fatalf("stats: %+v; want 1 damaged, 9 written, 0 pending", st)
	}
	checkConservation(t, st)
}

// Damage to a record the consumer has not yet read, after its Write
// returned: the consumer cannot tell it from a record still being written,
// so it stops there and Close keeps the file mapped; its error says that
// the ring stopped at a header that is not valid, damage or a Write that
// never finished, not that a Write never finished.
func TestSpillCloseAtDamageNotYetReadSaysWhatIsKnown(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	word := spillWord(w, len("<14>record 0"))
	// While record 0 is being copied (so the consumer cannot read past
	// it), record 1 is written, and then its header damaged.
	testhook.MidCopy = func(seq uint32, _ []byte) {
		if seq != 0 {
			return
		}
		done := make(chan error)
		go func() { done <- writeAll(w, []byte("<14>record 1")) }()
		if err := <-done; err != nil {
			t.Error(err)
		}
		atomic.StoreUint64(word(1, 0), 536870927+1)
	}
	defer func() { testhook.MidCopy = nil }()
	if err := writeAll(w, []byte("<14>record 0")); err != nil {
		t.Fatal(err)
	}
	testhook.MidCopy = nil
	err := w.Close()
	if err == nil || !strings.Contains(err.Error(), "header is not valid") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v; want the header not valid, at the deadline", err)
	}
	if st := w.Stats(); st.Pending != 2 || st.SpillLost != 0 {
		t.Fatalf("Pending %d, SpillLost %d after Close; want 2 records kept in the file, none lost", st.Pending, st.SpillLost)
	}
}

// sealedSpill writes n records ("<14>record i") into w, which has no daemon,
// and waits until the consumer has sealed them all (so it has read them).
// It returns the records and word, a pointer to word off of record k's
// header in the mapping, for the test to damage.
func sealedSpill(t *testing.T, w *Writer, n int) (recs [][]byte, word func(k, off int) *uint64) {
	t.Helper()
	recs = make([][]byte, n)
	for i := range recs {
		recs[i] = fmt.Appendf(nil, "<14>record %d", i)
		if err := writeAll(w, recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	word = spillWord(w, len(recs[0]))
	// With no daemon the consumer seals what it holds: once the last
	// record is sealed, it has read them all.
	waitFor(t, "the records sealed", 5*time.Second, func() bool { return atomic.LoadUint64(word(n-1, 8))&(1<<31) != 0 })
	return recs, word
}

// spillWord addresses word off of the k-th record's header in w's mapping,
// for records of size bytes written from an empty ring.
func spillWord(w *Writer, size int) func(k, off int) *uint64 {
	size = (16 + size + 7) &^ 7
	return func(k, off int) *uint64 {
		return (*uint64)(unsafe.Pointer(&w.spill.mem[ring.DurableHeader+k*size+off]))
	}
}

// wantMessages waits until d has len(want) messages and checks them.
func wantMessages(t *testing.T, d *msgDaemon, want [][]byte) {
	t.Helper()
	waitFor(t, "the intact records", 5*time.Second, func() bool { return len(d.got()) >= len(want) })
	got := d.got()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("message %d = %q, want %q", i, got[i], want[i])
		}
	}
}
