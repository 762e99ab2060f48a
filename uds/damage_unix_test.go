//go:build unix

package uds

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/ringsink/ringsink/mpsc"
)

// A stray write into the header of a record the spill file holds while the
// Writer runs (another process of the same user can write the file) costs
// that record, counted in DroppedDamaged; the others are sent intact and
// the conservation sum holds.
func TestSpillLiveDamageCostsTheRecordItHits(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	recs := make([][]byte, 10)
	for i := range recs {
		recs[i] = fmt.Appendf(nil, "<14>record %d", i)
		if err := writeAll(w, recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	size := (16 + len(recs[0]) + 7) &^ 7
	word := func(k, off int) *uint64 {
		return (*uint64)(unsafe.Pointer(&w.spill.mem[mpsc.DurableHeader+k*size+off]))
	}
	// With no daemon the consumer seals what it holds: once the last
	// record is sealed, it has read them all.
	waitFor(t, "the records sealed", 5*time.Second, func() bool { return atomic.LoadUint64(word(9, 8))&(1<<31) != 0 })
	atomic.StoreUint64(word(3, 0), 536870927+1)
	d := startMsgDaemon(t, "unixgram", path, false)
	flushAndClose(t, w)
	want := append(append([][]byte(nil), recs[:3]...), recs[4:]...)
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
	rec := []byte("<14>record 0")
	for range 10 {
		if err := writeAll(w, rec); err != nil {
			t.Fatal(err)
		}
	}
	size := (16 + len(rec) + 7) &^ 7
	word := func(k, off int) *uint64 {
		return (*uint64)(unsafe.Pointer(&w.spill.mem[mpsc.DurableHeader+k*size+off]))
	}
	waitFor(t, "the records sealed", 5*time.Second, func() bool { return atomic.LoadUint64(word(9, 8))&(1<<31) != 0 })
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
