package uds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/offline"
)

func TestOpenValidatesConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "regular")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty path", Config{}, "Path is empty"},
		{"path too long", Config{Path: "/tmp/" + strings.Repeat("x", 120)}, "the kernel takes at most 107"},
		{"not a socket", Config{Path: file}, "is not a socket"},
		{"bad framing", Config{Path: "/tmp/x.sock", Framing: 9}, "unknown Framing(9)"},
		{"ring too big", Config{Path: "/tmp/x.sock", RingBytes: 1<<30 + 1}, "RingBytes"},
		{"negative timeout", Config{Path: "/tmp/x.sock", WriteTimeout: -1}, "negative timeout"},
		{"negative sndbuf", Config{Path: "/tmp/x.sock", SendBuffer: -1}, "negative SendBuffer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Open(tc.cfg)
			if err == nil {
				w.Close()
				t.Fatalf("Open succeeded; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open error %q; want it to contain %q", err, tc.want)
			}
		})
	}
}

// seqRec is a record "p:i" padded to size.
func seqRec(buf []byte, p, i, size int) []byte {
	b := fmt.Appendf(buf[:0], "%d:%d:", p, i)
	for len(b) < size {
		b = append(b, 'x')
	}
	return b
}

func parseSeq(t *testing.T, rec []byte) (p, i int) {
	t.Helper()
	if _, err := fmt.Sscanf(string(rec), "%d:%d:", &p, &i); err != nil {
		t.Fatalf("bad record %q: %v", rec, err)
	}
	return p, i
}

func TestDaemonAbsentThenAppears(t *testing.T) {
	path := sockPath(t)
	w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, ReconnectMin: 5 * time.Millisecond, ReconnectMax: 20 * time.Millisecond})
	buf := make([]byte, 64)
	for i := range 100 {
		if _, err := w.Write(seqRec(buf, 0, i, 20)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "records to move offline", 5*time.Second, func() bool { return w.Stats().Buffered == 100 })
	if err := w.LastError(); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("LastError = %v; want a dial error saying the socket does not exist", err)
	}
	d := startDaemon(t, path)
	flushAndClose(t, w)
	d.wait()
	recs, torn := frames(bytes.Join(d.data(), nil))
	if len(recs) != 100 || torn != 0 {
		t.Fatalf("daemon got %d records (%d torn bytes); want 100", len(recs), torn)
	}
	for i, r := range recs {
		if _, n := parseSeq(t, r); n != i {
			t.Fatalf("record %d is seq %d: order lost", i, n)
		}
	}
	st := w.Stats()
	checkConservation(t, st)
	if st.Written != 100 || st.Buffered != 0 || st.Connects != 1 {
		t.Fatalf("Stats %+v", st)
	}
}

// TestDaemonRestartedManyTimes: 4 producers write sequence-numbered records
// while the daemon is stopped and restarted 10 times. Per-producer order
// holds with no duplicates; every record is received, counted as dropped, or
// was lost in the kernel's buffers when the daemon died, and that last
// number is bounded by what the socket buffers can hold.
func TestDaemonRestartedManyTimes(t *testing.T) {
	path := sockPath(t)
	const producers, size = 4, 100
	w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, RingBytes: 1 << 16,
		Offline:      offline.New[[]byte](256),
		ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			buf := make([]byte, size)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				w.Write(seqRec(buf, p, i, size))
				if i%32 == 0 {
					time.Sleep(50 * time.Microsecond)
				}
			}
		})
	}
	var daemons []*daemon
	start := func() *daemon {
		before := w.Stats().Connects
		d := startDaemon(t, path)
		daemons = append(daemons, d)
		waitFor(t, "the writer to reconnect", 10*time.Second, func() bool { return w.Stats().Connects > before })
		return d
	}
	for range 10 {
		d := start()
		time.Sleep(10 * time.Millisecond)
		d.stop()
		time.Sleep(5 * time.Millisecond)
	}
	final := start()
	close(stop)
	wg.Wait()
	flushAndClose(t, w)
	final.wait()

	st := w.Stats()
	checkConservation(t, st)
	last := make([]int, producers)
	for p := range last {
		last[p] = -1
	}
	received := 0
	for _, d := range daemons {
		for _, stream := range d.data() {
			recs, _ := frames(stream) // a torn tail is the documented torn-record case
			for _, r := range recs {
				p, i := parseSeq(t, r)
				if i <= last[p] {
					t.Fatalf("producer %d: seq %d after %d (duplicate or reordered)", p, i, last[p])
				}
				last[p] = i
				received++
			}
		}
	}
	if uint64(received) > st.Written {
		t.Fatalf("received %d records but only %d were written", received, st.Written)
	}
	// Written but never received: in the kernel's buffers when a daemon
	// was stopped. Each stop loses at most one socket's worth of buffered
	// bytes (SO_SNDBUF of ours plus the receive queue: bounded here by
	// 2 x 256 KiB per stop, far more than the default unix buffers).
	lost := st.Written - uint64(received)
	bound := uint64(10 * 2 * (256 << 10) / (size + 4))
	if lost > bound {
		t.Fatalf("%d written records never received; bound %d", lost, bound)
	}
	if st.Connects != 11 {
		t.Fatalf("Connects = %d; want 11", st.Connects)
	}
	t.Logf("accepted %d, written %d, received %d, lost in kernel buffers %d, dropped full %d, evicted %d, connects %d",
		st.Accepted, st.Written, received, lost, st.DroppedFull, st.Evicted, st.Connects)
}

// TestPeerClosesMidRecord: the first connection reads a few bytes of a large
// record and closes. The record was torn, so it must be sent whole on the
// next connection, not continued.
func TestPeerClosesMidRecord(t *testing.T) {
	path := sockPath(t)
	ln := listen(t, path)
	rec := bytes.Repeat([]byte("torn"), 50<<10) // 200 KiB
	done := make(chan []byte, 1)
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			done <- nil
			return
		}
		b := make([]byte, 1000)
		n, _ := c.Read(b)
		c.Close() // mid-record
		if n == 0 {
			done <- nil
			return
		}
		c2, err := ln.AcceptUnix()
		if err != nil {
			done <- nil
			return
		}
		defer c2.Close()
		stream := make([]byte, 0, 4+len(rec))
		buf := make([]byte, 64<<10)
		for len(stream) < 4+len(rec) {
			n, err := c2.Read(buf)
			stream = append(stream, buf[:n]...)
			if err != nil {
				break
			}
		}
		done <- stream
	}()
	w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, SendBuffer: 32 << 10, ReconnectMin: time.Millisecond})
	defer w.Close()
	if _, err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	var stream []byte
	select {
	case stream = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("second connection never received the record")
	}
	recs, torn := frames(stream)
	if len(recs) != 1 || torn != 0 || !bytes.Equal(recs[0], rec) {
		t.Fatalf("second connection: %d frames, %d torn bytes; want the record whole", len(recs), torn)
	}
	// The reader can have the record before the consumer has counted it.
	waitFor(t, "the record counted as written", 10*time.Second, func() bool { return w.Stats().Written == 1 })
	if st := w.Stats(); st.WriteErrors == 0 || st.Written != 1 {
		t.Fatalf("Stats: write errors %d, written %d; want >0, 1", st.WriteErrors, st.Written)
	}
}

func listen(t *testing.T, path string) *netUnixListener {
	t.Helper()
	ln, err := netListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// holdingListener accepts connections and never reads from them until
// released; it counts the connections.
type holdingListener struct {
	ln   *netUnixListener
	mu   sync.Mutex
	held []*netUnixConn
}

func holdConnections(t *testing.T, path string) *holdingListener {
	h := &holdingListener{ln: listen(t, path)}
	go func() {
		for {
			c, err := h.ln.AcceptUnix()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.held = append(h.held, c)
			h.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		h.mu.Lock()
		for _, c := range h.held {
			c.Close()
		}
		h.mu.Unlock()
	})
	return h
}

func (h *holdingListener) conns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.held)
}

// TestPeerNeverReads: a daemon that accepts and never reads is a paused
// daemon, not a dead one. The Writer keeps its one connection (a second one
// would let the daemon read newer records first once it resumes), moves
// the records waiting in the byte ring into the offline ring while it has
// room, evicting nothing, and producers are never slowed; once the offline
// ring is full, new records are dropped and counted.
func TestPeerNeverReads(t *testing.T) {
	path := sockPath(t)
	h := holdConnections(t, path)
	// Write never waits on the socket; the bound on the slowest Write is far
	// above scheduler noise on a loaded machine.
	const bound = time.Second
	off := offline.New[[]byte](256)
	w := mustOpen(t, Config{Path: path, RingBytes: 1 << 14, WriteTimeout: 50 * time.Millisecond, Offline: off,
		ReconnectMin: time.Millisecond, CloseTimeout: 50 * time.Millisecond, SendBuffer: 4096})
	rec := make([]byte, 1000)
	var worst time.Duration
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		t0 := time.Now()
		w.Write(rec)
		worst = max(worst, time.Since(t0))
	}
	st := w.Stats()
	if st.Stalls == 0 || st.Connects != 1 || st.WriteErrors != 0 || h.conns() != 1 {
		t.Fatalf("stalls %d, connects %d, write errors %d, connections seen %d: want the one connection kept",
			st.Stalls, st.Connects, st.WriteErrors, h.conns())
	}
	if !errors.Is(w.LastError(), os.ErrDeadlineExceeded) {
		t.Fatalf("LastError = %v; want the stall (a deadline error)", w.LastError())
	}
	if st.Buffered != uint64(off.Cap()) || st.Evicted != 0 {
		t.Fatalf("buffered %d of %d, evicted %d: want the offline ring filled and nothing evicted", st.Buffered, off.Cap(), st.Evicted)
	}
	if st.DroppedFull == 0 {
		t.Fatal("no drops counted although the daemon never read")
	}
	if worst > bound {
		t.Fatalf("slowest Write took %v with a stuck daemon; want < %v", worst, bound)
	}
	w.Close()
	checkConservation(t, w.Stats())
}

// TestCloseWithinCloseTimeoutWhenPeerNeverReads: a writev blocked on a
// daemon that never reads used to run its whole WriteTimeout before Close
// could proceed (Close took 5.9 s with CloseTimeout 1 s).
func TestCloseWithinCloseTimeoutWhenPeerNeverReads(t *testing.T) {
	path := sockPath(t)
	holdConnections(t, path)
	const closeTimeout = 300 * time.Millisecond
	w := mustOpen(t, Config{Path: path, RingBytes: 1 << 16, WriteTimeout: 10 * time.Second,
		CloseTimeout: closeTimeout, SendBuffer: 4096})
	rec := make([]byte, 1000)
	for range 2000 { // far more than the socket buffers hold: the writev blocks
		w.Write(rec)
	}
	waitFor(t, "the connection", 10*time.Second, func() bool {
		st := w.Stats()
		return st.Connected && st.Pending > 0
	})
	time.Sleep(200 * time.Millisecond) // the consumer is inside a writev that cannot finish
	start := time.Now()
	err := w.Close()
	if took := time.Since(start); took > closeTimeout+time.Second {
		t.Fatalf("Close took %v with CloseTimeout %v", took, closeTimeout)
	}
	if err == nil {
		t.Fatal("Close returned nil with records unsent")
	}
	st := w.Stats()
	checkConservation(t, st)
	if st.Buffered == 0 {
		t.Fatalf("unsent records not left in the offline ring: %+v", st)
	}
}

// TestPausedPeerKeepsOrder: the daemon stops reading for a while (a
// SIGSTOP, a GC pause, a full disk) and then reads everything. Records must
// arrive once each and in order, on one connection, with nothing evicted
// while the offline ring had room.
func TestPausedPeerKeepsOrder(t *testing.T) {
	path := sockPath(t)
	ln := listen(t, path)
	var conns atomic.Int32
	got := make(chan []byte, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				time.Sleep(700 * time.Millisecond) // paused
				b, _ := io.ReadAll(c)
				got <- b
			}()
		}
	}()
	w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, RingBytes: 1 << 13, WriteTimeout: 20 * time.Millisecond,
		SendBuffer: 4096, Offline: offline.New[[]byte](100_000)})
	buf := make([]byte, 64)
	n := 0
	for start := time.Now(); time.Since(start) < time.Second; n++ {
		if _, err := w.Write(seqRec(buf, 0, n, 40)); err != nil {
			t.Fatal(err)
		}
		if n%64 == 0 {
			time.Sleep(100 * time.Microsecond) // ~0.5 M records/s at most
		}
	}
	flushAndClose(t, w)
	recs, torn := frames(<-got)
	st := w.Stats()
	if conns.Load() != 1 || st.Connects != 1 {
		t.Fatalf("%d connections (%d connects): a paused daemon got a second connection", conns.Load(), st.Connects)
	}
	if st.Evicted != 0 || st.Stalls == 0 {
		t.Fatalf("evicted %d, stalls %d: want stalls and no eviction (the offline ring had room)", st.Evicted, st.Stalls)
	}
	if torn != 0 {
		t.Fatalf("%d torn bytes at the end of the stream", torn)
	}
	want := n - int(st.DroppedFull)
	if len(recs) != want || st.Written != uint64(want) {
		t.Fatalf("got %d records, Written %d; want %d (%d written, %d dropped)", len(recs), st.Written, want, n, st.DroppedFull)
	}
	last := -1
	for _, r := range recs {
		_, i := parseSeq(t, r)
		if i <= last {
			t.Fatalf("record %d after %d: order broken", i, last)
		}
		last = i
	}
}

// TestSharedOfflineRingRefused: two Writers on one offline ring raced in
// Ring.Push; the second Open is refused until the first is closed.
func TestSharedOfflineRingRefused(t *testing.T) {
	off := offline.New[[]byte](16)
	w1 := mustOpen(t, Config{Path: sockPath(t), Offline: off})
	if _, err := Open(Config{Path: sockPath(t), Offline: off}); !errors.Is(err, ErrOfflineInUse) {
		t.Fatalf("second Open with the same offline ring: %v; want ErrOfflineInUse", err)
	}
	w1.Close()
	w2 := mustOpen(t, Config{Path: sockPath(t), Offline: off})
	w2.Close()
}

// TestLastErrorClearedOnConnect: "connection refused" used to stay in
// LastError after a successful reconnect.
func TestLastErrorClearedOnConnect(t *testing.T) {
	path := sockPath(t)
	w := mustOpen(t, Config{Path: path, ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond})
	defer w.Close()
	waitFor(t, "a dial error", 5*time.Second, func() bool { return w.LastError() != nil })
	startDaemon(t, path)
	w.Write([]byte("x"))
	waitFor(t, "the connection", 5*time.Second, func() bool { return w.Stats().Connected })
	if err := w.LastError(); err != nil {
		t.Fatalf("LastError = %v while connected", err)
	}
}

// TestSyncFlushes: zap calls Sync; it must deliver what was written.
func TestSyncFlushes(t *testing.T) {
	path := sockPath(t)
	d := startDaemon(t, path)
	w := mustOpen(t, Config{Path: path, Framing: Newline})
	for range 10 {
		w.Write([]byte("line"))
	}
	if err := w.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if st := w.Stats(); st.Written != 10 || st.Pending != 0 {
		t.Fatalf("after Sync: written %d, pending %d", st.Written, st.Pending)
	}
	w.Close()
	d.wait()
}

// TestFlushNothingQueuedIgnoresCancelledContext: the doc says a Flush with
// nothing to send returns at once; it used to report the cancelled context.
func TestFlushNothingQueuedIgnoresCancelledContext(t *testing.T) {
	w := mustOpen(t, Config{Path: sockPath(t)})
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("Flush with nothing queued = %v; want nil", err)
	}
}

func TestPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root bypasses socket permissions; run as a normal user")
	}
	path := sockPath(t)
	startDaemon(t, path)
	if err := os.Chmod(filepath.Dir(path), 0o000); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Dir(path), 0o700)
	w := mustOpen(t, Config{Path: path, ReconnectMin: time.Millisecond})
	defer w.Close()
	waitFor(t, "a dial error", 5*time.Second, func() bool { return w.LastError() != nil })
	if !strings.Contains(w.LastError().Error(), "permission denied") {
		t.Fatalf("LastError = %v; want permission denied", w.LastError())
	}
}

func TestRecordTooLargeAndZeroLength(t *testing.T) {
	path := sockPath(t)
	d := startDaemon(t, path)
	w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, RingBytes: 4096})
	if _, err := w.Write(make([]byte, w.MaxRecord()+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write(MaxRecord+1) = %v; want ErrTooLarge", err)
	}
	if _, err := w.Write(nil); err != nil {
		t.Fatalf("Write(zero-length) = %v", err)
	}
	if _, err := w.Write(make([]byte, w.MaxRecord())); err != nil {
		t.Fatalf("Write(MaxRecord) = %v", err)
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	d.wait()
	recs, torn := frames(bytes.Join(d.data(), nil))
	if len(recs) != 2 || len(recs[0]) != 0 || len(recs[1]) != w.MaxRecord() || torn != 0 {
		t.Fatalf("daemon got %d frames; want a zero-length and a max-size frame", len(recs))
	}
	st := w.Stats()
	if st.DroppedTooLarge != 1 || st.Written != 2 {
		t.Fatalf("Stats: too large %d, written %d", st.DroppedTooLarge, st.Written)
	}
}

func TestCloseDuringOutageReturnsWithinDeadline(t *testing.T) {
	path := sockPath(t)
	ring := offline.New[[]byte](16)
	w := mustOpen(t, Config{Path: path, Offline: ring, CloseTimeout: 100 * time.Millisecond})
	for i := range 5 {
		w.Write([]byte{byte('a' + i)})
	}
	t0 := time.Now()
	err := w.Close()
	if el := time.Since(t0); el > 2*time.Second {
		t.Fatalf("Close took %v with CloseTimeout 100ms", el)
	}
	if err != nil {
		t.Fatalf("Close = %v; want nil: the 5 records are kept in Config.Offline", err)
	}
	if st := w.Stats(); st.Buffered != 5 || st.Accepted != 5 {
		t.Fatalf("Buffered %d, Accepted %d after Close; want 5, 5", st.Buffered, st.Accepted)
	}
	if got := ring.Drain(nil); len(got) != 5 || string(bytes.Join(got, nil)) != "abcde" {
		t.Fatalf("offline ring holds %q; want the 5 records in order", got)
	}
	if w.Close() != err {
		t.Fatal("second Close returned a different result")
	}
	if _, err := w.Write([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close = %v; want ErrClosed", err)
	}
	if err := w.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close = %v; want ErrClosed", err)
	}
}

func TestFlushTimeoutLeavesTheRecordsQueued(t *testing.T) {
	w := mustOpen(t, Config{Path: sockPath(t), CloseTimeout: time.Millisecond})
	defer w.Close()
	for range 3 {
		w.Write([]byte("x"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := w.Flush(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush = %v; want it to wrap context.DeadlineExceeded", err)
	}
	if st := w.Stats(); st.Pending+st.Buffered != 3 {
		t.Fatalf("Pending %d + Buffered %d after Flush; want the 3 records still queued", st.Pending, st.Buffered)
	}
}

func TestFlushOnIdleWriterReturnsAtOnce(t *testing.T) {
	path := sockPath(t)
	startDaemon(t, path)
	w := mustOpen(t, Config{Path: path})
	defer w.Close()
	t0 := time.Now()
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el > 50*time.Millisecond {
		t.Fatalf("empty Flush took %v", el)
	}
}

// TestDropNoticeGoesFirst: during an outage a 4-record offline ring evicts 6
// of 10 records; on reconnect the daemon first gets the notice, then the 4
// newest records in order.
func TestDropNoticeGoesFirst(t *testing.T) {
	path := sockPath(t)
	notice := func(d Drops) []byte {
		return fmt.Appendf(nil, "DROPPED full=%d too_large=%d evicted=%d", d.Full, d.TooLarge, d.Evicted)
	}
	w := mustOpen(t, Config{Path: path, Framing: Newline, Offline: offline.New[[]byte](4), DropNotice: notice,
		ReconnectMin: time.Millisecond, ReconnectMax: 2 * time.Millisecond})
	for i := range 10 {
		w.Write(fmt.Appendf(nil, "r%d", i))
	}
	waitFor(t, "evictions", 5*time.Second, func() bool { return w.Stats().Evicted == 6 })
	d := startDaemon(t, path)
	var lost *LostError
	if err := w.Flush(context.Background()); !errors.As(err, &lost) || lost.Evicted != 6 {
		t.Fatalf("Flush = %v; want a *LostError counting the 6 evictions", err)
	}
	w.Close()
	d.wait()
	got := string(bytes.Join(d.data(), nil))
	want := "DROPPED full=0 too_large=0 evicted=6\nr6\nr7\nr8\nr9\n"
	if got != want {
		t.Fatalf("daemon got %q; want %q", got, want)
	}
	if st := w.Stats(); st.Notices != 1 {
		t.Fatalf("Notices = %d; want 1", st.Notices)
	}
}

// TestWriteRacesClose: producers (more than CPUs) write while the writer is
// closed under them. Each Write returns nil or ErrClosed; afterwards the
// counters add up, every Write that returned nil was sent (Close closes the
// ring before its final drain, so none is left behind), and the daemon got
// every written record once, in order.
func TestWriteRacesClose(t *testing.T) {
	for round := range 30 {
		path := sockPath(t)
		d := startDaemon(t, path)
		w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, RingBytes: 1 << 14, ErrorOnDrop: true})
		var wg sync.WaitGroup
		var accepted atomic.Uint64
		for p := range 8 {
			wg.Go(func() {
				buf := make([]byte, 32)
				for i := 0; ; i++ {
					_, err := w.Write(seqRec(buf, p, i, 16))
					if err == nil {
						accepted.Add(1)
					}
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil && !errors.Is(err, ErrFull) {
						t.Errorf("Write: %v", err)
						return
					}
					if i%16 == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		time.Sleep(time.Duration(round%10) * time.Millisecond)
		if err := w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		wg.Wait()
		d.wait()
		st := w.Stats()
		checkConservation(t, st)
		if st.Accepted != accepted.Load() || st.Written != st.Accepted || st.Pending != 0 {
			t.Fatalf("round %d: %d Writes returned nil; stats %+v", round, accepted.Load(), st)
		}
		recs, _ := frames(bytes.Join(d.data(), nil))
		if uint64(len(recs)) != st.Written {
			t.Fatalf("daemon got %d records; Written says %d", len(recs), st.Written)
		}
		last := map[int]int{}
		for _, r := range recs {
			p, i := parseSeq(t, r)
			if prev, ok := last[p]; ok && i <= prev {
				t.Fatalf("producer %d: %d after %d", p, i, prev)
			}
			last[p] = i
		}
	}
}

func TestWriteContextWaitsForRoom(t *testing.T) {
	path := sockPath(t)
	w := mustOpen(t, Config{Path: path, RingBytes: 64, ReconnectMin: time.Hour, DialTimeout: time.Millisecond})
	defer w.Close()
	// Disconnected: the consumer spills the ring into the offline ring, so
	// room comes back; fill the offline path's pace by writing many.
	rec := make([]byte, w.MaxRecord())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 50 {
		if _, err := w.WriteContext(ctx, rec); err != nil {
			t.Fatalf("WriteContext: %v", err)
		}
	}
	if st := w.Stats(); st.Accepted != 50 || st.DroppedFull != 0 {
		t.Fatalf("accepted %d, dropped %d; want 50, 0", st.Accepted, st.DroppedFull)
	}
	cancel()
	// With a cancelled context and a full ring, WriteContext returns ctx.Err.
	for {
		_, err := w.WriteContext(ctx, rec)
		if errors.Is(err, context.Canceled) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteAllocatesNothing(t *testing.T) {
	path := sockPath(t)
	startDaemon(t, path)
	w := mustOpen(t, Config{Path: path})
	defer w.Close()
	rec := make([]byte, 128)
	if a := testing.AllocsPerRun(10_000, func() { w.Write(rec) }); a != 0 {
		t.Fatalf("Write allocs = %v; want 0", a)
	}
}

// TestConsumerSteadyStateAllocatesNothing streams records through a live
// connection, and then through an outage with a full offline ring, and
// counts the process's allocations: the writer's consumer must make none
// once warmed up (the test's own reader uses a fixed buffer).
func TestConsumerSteadyStateAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, mode := range []string{"connected", "offline"} {
		t.Run(mode, func(t *testing.T) {
			path := sockPath(t)
			if mode == "connected" {
				startDaemon(t, path)
			}
			w := mustOpen(t, Config{Path: path, Offline: offline.New[[]byte](64), ReconnectMin: time.Hour})
			defer w.Close()
			rec := make([]byte, 100)
			stream := func(n int) {
				for range n {
					for {
						if _, err := w.WriteContext(context.Background(), rec); err == nil {
							break
						}
					}
				}
				waitFor(t, "the ring to empty", 10*time.Second, func() bool { return w.Stats().Pending == 0 })
			}
			stream(10_000) // warm up: connection, buffers, offline ring filled
			// Allocations are counted process-wide, so a background
			// goroutine of an earlier test (a process reaper, a timer) can
			// add a few; a consumer that allocates per batch would exceed
			// the bound in every attempt, so the best of three is judged.
			best, bestWaits := uint64(1<<63), uint64(0)
			for range 3 {
				var before, after runtime.MemStats
				chans := w.room.Chans()
				runtime.ReadMemStats(&before)
				stream(50_000)
				runtime.ReadMemStats(&after)
				// A WriteContext that waits allocates its wake-up channel
				// (park.Room), on the producer's side: not the consumer's.
				waits := w.room.Chans() - chans
				n := after.Mallocs - before.Mallocs
				if n -= min(waits, n); n < best {
					best, bestWaits = n, waits
				}
				if best <= 100 {
					break
				}
			}
			if best > 100 {
				t.Fatalf("%d allocations while streaming 50 000 records %s (besides %d wake-up channels), the best of three", best, mode, bestWaits)
			}
		})
	}
}

// TestOfflineBoundedInBytes: during an outage the offline ring holds at
// most OfflineBytes of payload; the oldest records are evicted (and
// counted) first, the newest kept in order.
func TestOfflineBoundedInBytes(t *testing.T) {
	ring := offline.New[[]byte](100) // room for 100 records, but only 1000 bytes
	w := mustOpen(t, Config{Path: sockPath(t), Offline: ring, OfflineBytes: 1000, CloseTimeout: time.Millisecond})
	for i := range 20 {
		if _, err := w.Write(bytes.Repeat([]byte{byte('a' + i)}, 100)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the outage to spill and trim", 5*time.Second, func() bool {
		st := w.Stats()
		return st.Pending == 0 && st.Buffered == 10
	})
	w.Close()
	st := w.Stats()
	checkConservation(t, st)
	if st.Evicted != 10 {
		t.Fatalf("Evicted = %d; want 10", st.Evicted)
	}
	got := ring.Drain(nil)
	for k, rec := range got {
		if want := byte('a' + 10 + k); len(rec) != 100 || rec[0] != want {
			t.Fatalf("offline record %d starts with %q; want the 10 newest in order", k, rec[0])
		}
	}
}

// TestTinyWriteTimeoutRefused: with a WriteTimeout of 1 ns no writev could
// finish; every send was a stall and nothing was ever written.
func TestTinyWriteTimeoutRefused(t *testing.T) {
	if _, err := Open(Config{Path: sockPath(t), WriteTimeout: time.Nanosecond}); err == nil {
		t.Fatal("Open accepted a 1 ns WriteTimeout")
	}
}
