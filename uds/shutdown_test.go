package uds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ringsink/ringsink/offline"
)

// rN returns record i of a test: "r<i>".
func rN(i int) []byte { return fmt.Appendf(nil, "r%d", i) }

// wantRecords fails the test unless got is records from..to-1, in order.
func wantRecords(t *testing.T, got [][]byte, from, to int) {
	t.Helper()
	if len(got) != to-from {
		t.Fatalf("%d records; want %d (r%d to r%d)", len(got), to-from, from, to-1)
	}
	for i, rec := range got {
		if want := rN(from + i); !bytes.Equal(rec, want) {
			t.Fatalf("record %d is %q; want %q", i, rec, want)
		}
	}
}

// Close with the daemon away keeps what it could not send in the caller's
// Config.Offline, oldest first, and returns nil: kept is not lost.
func TestCloseWithDaemonAwayKeepsRecordsInOffline(t *testing.T) {
	keep := offline.New[[]byte](64)
	w := mustOpen(t, Config{Path: sockPath(t), Offline: keep, CloseTimeout: 50 * time.Millisecond})
	for i := range 10 {
		if _, err := w.Write(rN(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close = %v; want nil: every record is kept in Config.Offline", err)
	}
	st := w.Stats()
	checkConservation(t, st)
	if st.Accepted != 10 || st.Buffered != 10 || st.Evicted != 0 || st.Written != 0 {
		t.Fatalf("Accepted %d, Buffered %d, Evicted %d, Written %d; want 10, 10, 0, 0", st.Accepted, st.Buffered, st.Evicted, st.Written)
	}
	wantRecords(t, keep.Drain(nil), 0, 10)
}

// Without Config.Offline the offline ring is the Writer's own, and nothing
// holds it once the Writer is closed: Close with the daemon away reports
// every record as lost, by count, wrapping the deadline that ended the
// drain and the last socket error.
func TestCloseWithoutOfflineReportsRecordsAsLost(t *testing.T) {
	w := mustOpen(t, Config{Path: sockPath(t), CloseTimeout: 50 * time.Millisecond})
	for i := range 7 {
		w.Write(rN(i))
	}
	err := w.Close()
	lost := asLost(t, err)
	if lost.Unkept != 7 || lost.Evicted != 0 || lost.Unfinished != 0 || lost.SpillLost != 0 {
		t.Fatalf("Close: %+v; want 7 records unkept, nothing else", *lost)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v; want it to wrap context.DeadlineExceeded", err)
	}
	if !errors.Is(err, syscall.ENOENT) || lost.Socket == nil {
		t.Fatalf("Close = %v (Socket %v); want it to wrap the failed dial's ENOENT", err, lost.Socket)
	}
	if errors.Is(err, ErrSpillLost) {
		t.Fatalf("Close = %v; it wraps ErrSpillLost with no spill directory", err)
	}
	if again := w.Close(); again != err {
		t.Fatalf("second Close = %v; want the first's result", again)
	}
	if st := w.Stats(); st.Buffered != 7 {
		t.Fatalf("Buffered %d; want 7", st.Buffered)
	}
}

// Records that the shutdown evicts from a full offline ring to make room
// are lost, counted by reason, and Shutdown's error wraps ctx.Err(); the
// newest records are kept. A Dial that blocks until its context ends holds
// every record in the byte ring until Shutdown.
func TestShutdownReportsEvictedRecordsAsLost(t *testing.T) {
	dialing := make(chan struct{}, 1)
	dial := func(ctx context.Context, _ string) (*net.UnixConn, error) {
		select {
		case dialing <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	keep := offline.New[[]byte](4)
	w := mustOpen(t, Config{Path: sockPath(t), Offline: keep, Dial: dial, DialTimeout: time.Minute})
	<-dialing
	for i := range 10 {
		w.Write(rN(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	t0 := time.Now()
	err := w.Shutdown(ctx)
	if took := time.Since(t0); took > 10*time.Second {
		t.Fatalf("Shutdown with a cancelled ctx took %v", took)
	}
	lost := asLost(t, err)
	if lost.Evicted != 6 || lost.Unkept != 0 || lost.Unfinished != 0 || lost.SpillLost != 0 {
		t.Fatalf("Shutdown: %+v; want 6 records evicted, nothing else", *lost)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v; want it to wrap context.Canceled", err)
	}
	st := w.Stats()
	checkConservation(t, st)
	if st.Evicted != 6 || st.Buffered != 4 {
		t.Fatalf("Evicted %d, Buffered %d; want 6, 4", st.Evicted, st.Buffered)
	}
	wantRecords(t, keep.Drain(nil), 6, 10)
}

// slowDaemon accepts one connection and reads chunk bytes every pause,
// keeping what it read; done receives it all at EOF.
func slowDaemon(t *testing.T, path string, chunk int, pause time.Duration) (done chan []byte) {
	ln := listen(t, path)
	done = make(chan []byte, 1)
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			done <- nil
			return
		}
		defer c.Close()
		var got []byte
		b := make([]byte, chunk)
		for {
			n, err := c.Read(b)
			got = append(got, b[:n]...)
			if err != nil {
				done <- got
				return
			}
			time.Sleep(pause)
		}
	}()
	return done
}

// Shutdown drains until its context ends, not for CloseTimeout: a daemon
// that takes far longer than CloseTimeout to read everything gets every
// record, in order, and Shutdown returns nil.
func TestShutdownDrainsASlowDaemonPastCloseTimeout(t *testing.T) {
	path := sockPath(t)
	done := slowDaemon(t, path, 4<<10, time.Millisecond)
	const n, size = 2000, 100 // 200 KB: about 50 reads, several times CloseTimeout
	w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, SendBuffer: 8 << 10, CloseTimeout: 10 * time.Millisecond})
	rec := make([]byte, size)
	for i := range n {
		copy(rec, fmt.Sprintf("%08d", i))
		if _, err := w.WriteContext(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t0 := time.Now()
	if err := w.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v; want nil: the daemon reads, slowly", err)
	}
	took := time.Since(t0)
	recs, torn := frames(<-done)
	if len(recs) != n || torn != 0 {
		t.Fatalf("daemon got %d records (%d torn bytes); want %d", len(recs), torn, n)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("%08d", i); string(r[:8]) != want {
			t.Fatalf("record %d is %q; want %q", i, r[:8], want)
		}
	}
	st := w.Stats()
	checkConservation(t, st)
	if st.Written != n || st.Pending+st.Buffered != 0 {
		t.Fatalf("Written %d, Pending %d, Buffered %d; want %d, 0, 0", st.Written, st.Pending, st.Buffered, n)
	}
	t.Logf("Shutdown took %v (CloseTimeout 10ms)", took)
}

// Shutdown with the daemon away waits for it, as Flush does: a daemon that
// comes up while Shutdown waits gets every record, and Shutdown returns nil.
func TestShutdownWaitsForTheDaemonToComeBack(t *testing.T) {
	path := sockPath(t)
	w := mustOpen(t, Config{Path: path, ReconnectMin: time.Millisecond, ReconnectMax: 20 * time.Millisecond, CloseTimeout: time.Millisecond})
	for i := range 5 {
		w.Write(append(rN(i), '\n'))
	}
	waitFor(t, "a failed dial", 5*time.Second, func() bool { return w.Stats().DialErrors > 0 })
	res := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { res <- w.Shutdown(ctx) }()
	select {
	case err := <-res:
		t.Fatalf("Shutdown returned %v with the daemon away and ctx not done", err)
	case <-time.After(100 * time.Millisecond):
	}
	d := startDaemon(t, path)
	if err := <-res; err != nil {
		t.Fatalf("Shutdown = %v; want nil once the daemon came back", err)
	}
	d.wait()
	var want []byte
	for i := range 5 {
		want = append(append(want, rN(i)...), '\n')
	}
	if got := bytes.Join(d.data(), nil); !bytes.Equal(got, want) {
		t.Fatalf("daemon got %q; want %q", got, want)
	}
}

// A Close during a Shutdown without a deadline bounds it by CloseTimeout:
// the earliest bound ends the drain, and both return the same result.
func TestCloseBoundsAShutdownInProgress(t *testing.T) {
	keep := offline.New[[]byte](16)
	w := mustOpen(t, Config{Path: sockPath(t), Offline: keep, CloseTimeout: 50 * time.Millisecond})
	for i := range 3 {
		w.Write(rN(i))
	}
	closeDuringShutdown(t, w, "Config.Offline")
	wantRecords(t, keep.Drain(nil), 0, 3)
}

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

// closeDuringShutdown starts Shutdown(context.Background()) on w, whose
// daemon is away, checks that it is still waiting 50 ms later, then calls
// Close: Close must return within its bound (5 s at most), nil because
// every record is kept (in kept: where), and Shutdown must return the
// same result.
func closeDuringShutdown(t *testing.T, w *Writer, kept string) {
	t.Helper()
	res := make(chan error, 1)
	go func() { res <- w.Shutdown(context.Background()) }()
	select {
	case err := <-res:
		t.Fatalf("Shutdown(Background) returned %v with the daemon away", err)
	case <-time.After(50 * time.Millisecond):
	}
	t0 := time.Now()
	err := w.Close()
	if took := time.Since(t0); took > 5*time.Second {
		t.Fatalf("Close took %v with CloseTimeout %v", took, w.cfg.CloseTimeout)
	}
	if err != nil {
		t.Fatalf("Close = %v; want nil: the records are kept in %s", err, kept)
	}
	if serr := <-res; serr != err {
		t.Fatalf("Shutdown = %v, Close = %v; want the same result", serr, err)
	}
}
