package uds

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/offline"
)

// Regression tests from an adversarial review of the stall and Close
// changes; each failed before its fix.

// Close is not bounded by CloseTimeout while the consumer's run loop is
// inside a dial (it uses context.Background() + DialTimeout).
func TestCloseInterruptsADial(t *testing.T) {
	path := sockPath(t)
	var dialing atomic.Bool
	dial := func(ctx context.Context, p string) (*net.UnixConn, error) {
		dialing.Store(true)
		<-ctx.Done() // a daemon whose accept is slow / a proxying Dial
		return nil, ctx.Err()
	}
	w := mustOpen(t, Config{Path: path, Dial: dial, DialTimeout: 3 * time.Second, CloseTimeout: 100 * time.Millisecond})
	w.Write([]byte("x"))
	waitFor(t, "dialing", 5*time.Second, dialing.Load)
	t0 := time.Now()
	w.Close()
	if took := time.Since(t0); took > time.Second {
		t.Fatalf("Close took %v with CloseTimeout 100ms", took)
	}
}

// preloaded offline records that share a backing array. Once the first
// is sent its buffer is recycled with its full capacity, and the next spill
// (here spill(false), on a stall) writes a live record over the following
// preloaded record, which is still queued (and here torn).
func TestPreloadedBuffersAreNotReused(t *testing.T) {
	path := sockPath(t)
	ln := listen(t, path)
	got := make(chan []byte, 1)
	release := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		<-release
		b, _ := io.ReadAll(c)
		got <- b
	}()
	// One file read, sliced into records (cap runs to the end of the file).
	file := append(bytes.Repeat([]byte("A"), 2000), bytes.Repeat([]byte("B"), 200000)...)
	off := offline.New[[]byte](16)
	off.Push(file[:2000])
	off.Push(file[2000:])
	w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, Offline: off, WriteTimeout: 5 * time.Millisecond, SendBuffer: 4096})
	waitFor(t, "a stall", 5*time.Second, func() bool { return w.Stats().Stalls > 0 })
	live := bytes.Repeat([]byte("L"), 100000)
	w.Write(live)
	s := w.Stats().Stalls
	waitFor(t, "another stall", 5*time.Second, func() bool { return w.Stats().Stalls > s+1 })
	close(release)
	flushAndClose(t, w)
	recs, torn := frames(<-got)
	if len(recs) != 3 || torn != 0 {
		t.Fatalf("got %d records, %d torn bytes", len(recs), torn)
	}
	if !bytes.Equal(recs[1], bytes.Repeat([]byte("B"), 200000)) {
		i := bytes.IndexFunc(recs[1], func(r rune) bool { return r != 'B' })
		t.Fatalf("preloaded record 1 corrupted on the wire: first non-B byte at %d (%q)", i, recs[1][i:i+8])
	}
}

// DropNotice counts: noticed = totals() is read after the callback, so
// drops made while the callback ran are never reported.
func TestDropNoticesCountEveryDrop(t *testing.T) {
	path := sockPath(t)
	d := startDaemon(t, path)
	var sum atomic.Uint64
	var mu sync.Mutex
	notice := func(dr Drops) []byte {
		mu.Lock()
		sum.Add(dr.Full)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // formatting, a slow callback
		return fmt.Appendf(nil, "DROPPED %d", dr.Full)
	}
	w := mustOpen(t, Config{Path: path, RingBytes: 1 << 12, DropNotice: notice, Framing: Newline})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			b := bytes.Repeat([]byte("y"), 100)
			for {
				select {
				case <-stop:
					return
				default:
				}
				w.Write(b)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	flushAndClose(t, w)
	d.wait()
	st := w.Stats()
	if sum.Load() != st.DroppedFull {
		t.Fatalf("notices reported %d full-ring drops; DroppedFull = %d", sum.Load(), st.DroppedFull)
	}
}

// the final spill copies every record left in the byte ring into the
// offline ring (evicting all but the newest Cap), after the deadline.
func TestCloseDoesNotCopyALargeRingPastItsDeadline(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("64 M writes: too slow under -race or -short, and the timing means nothing there")
	}
	path := sockPath(t)
	holdConnections(t, path)
	const closeTimeout = 100 * time.Millisecond
	w := mustOpen(t, Config{Path: path, RingBytes: 1 << 30, WriteTimeout: 20 * time.Millisecond, SendBuffer: 4096,
		CloseTimeout: closeTimeout})
	rec := []byte("x")
	for range 64 << 20 {
		w.Write(rec)
	}
	st := w.Stats()
	offDropped := w.off.Dropped()
	t0 := time.Now()
	w.Close()
	took := time.Since(t0)
	t.Logf("pending at Close %d; Close took %v (CloseTimeout %v); evicted %d", st.Pending, took, closeTimeout, w.Stats().Evicted)
	// Copying 64 M records into the offline ring, which evicts all but its
	// last Cap, took 2.3 s here; evicting them in bulk about 0.5 s (zeroing
	// 1 GiB), a time that a loaded machine stretches past any tight bound.
	// So the test checks the mechanism: records evicted in bulk never pass
	// through the offline ring, whose own eviction count stays below its
	// capacity (the copy made it about 64 M). The time bound only catches
	// a Close that hangs.
	if d := w.off.Dropped() - offDropped; d >= uint64(w.off.Cap()) {
		t.Fatalf("%d records were copied through the offline ring and evicted there, one by one", d)
	}
	if took > closeTimeout+10*time.Second {
		t.Fatalf("Close took %v", took)
	}
	checkConservation(t, w.Stats())
}

// TestTinyWriteTimeoutRefused: with a WriteTimeout of 1 ns no writev could
// finish; every send was a stall and nothing was ever written.
func TestTinyWriteTimeoutRefused(t *testing.T) {
	if _, err := Open(Config{Path: sockPath(t), WriteTimeout: time.Nanosecond}); err == nil {
		t.Fatal("Open accepted a 1 ns WriteTimeout")
	}
}
