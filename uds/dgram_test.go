//go:build unix

package uds

import (
	"bytes"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ringsink/ringsink/offline"
)

// msgDaemon reads messages from a datagram or seqpacket socket and keeps
// them, one per record.
type msgDaemon struct {
	mu    sync.Mutex
	msgs  [][]byte
	pause chan struct{} // reading waits until closed
	done  chan struct{}
	close func()
}

func (d *msgDaemon) got() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([][]byte(nil), d.msgs...)
}

func (d *msgDaemon) read(c net.Conn) {
	defer close(d.done)
	<-d.pause
	b := make([]byte, 1<<20)
	for {
		n, err := c.Read(b)
		if err != nil {
			return
		}
		d.mu.Lock()
		d.msgs = append(d.msgs, bytes.Clone(b[:n]))
		d.mu.Unlock()
	}
}

// startMsgDaemon listens on path with network "unixgram" or "unixpacket".
// The reader starts paused when paused is set (close d.pause to resume).
func startMsgDaemon(t *testing.T, network, path string, paused bool) *msgDaemon {
	t.Helper()
	d := &msgDaemon{pause: make(chan struct{}), done: make(chan struct{})}
	if !paused {
		close(d.pause)
	}
	switch network {
	case "unixgram":
		pc, err := net.ListenUnixgram(network, &net.UnixAddr{Name: path, Net: network})
		if err != nil {
			t.Fatal(err)
		}
		go d.read(pc)
		d.close = sync.OnceFunc(func() { pc.Close(); os.Remove(path); <-d.done })
	default:
		ln, err := net.ListenUnix(network, &net.UnixAddr{Name: path, Net: network})
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				close(d.done)
				close(accepted)
				return
			}
			accepted <- c
			d.read(c)
		}()
		d.close = sync.OnceFunc(func() {
			ln.Close()
			if c, ok := <-accepted; ok {
				c.Close()
			}
			<-d.done
		})
	}
	t.Cleanup(func() {
		select {
		case <-d.pause:
		default:
			close(d.pause)
		}
		d.close()
	})
	return d
}

// finish flushes and closes w, waits for the numbered messages 0..n-1 on
// d (less the empty ones when skipEmpty), checks them and the Stats
// invariant, and returns w's Stats.
func (d *msgDaemon) finish(t *testing.T, w *Writer, n int, skipEmpty bool) Stats {
	t.Helper()
	flushAndClose(t, w)
	want := n
	if skipEmpty {
		want -= int(empties(n))
	}
	waitFor(t, "every message", 10*time.Second, func() bool { return len(d.got()) >= want })
	checkMessages(t, d.got(), n, skipEmpty)
	st := w.Stats()
	checkConservation(t, st)
	return st
}

// checkMessages compares got with numbered(0..n-1), without the empty
// records when skipEmpty (a seqpacket socket cannot carry them).
func checkMessages(t *testing.T, got [][]byte, n int, skipEmpty bool) {
	t.Helper()
	var want [][]byte
	for i := range n {
		if r := numbered(i); len(r) > 0 || !skipEmpty {
			want = append(want, r)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages; want %d", len(got), len(want))
	}
	for i, m := range got {
		if !bytes.Equal(m, want[i]) {
			t.Fatalf("message %d = %q; want %q", i, m, want[i])
		}
	}
}

func empties(n int) (k uint64) {
	for i := range n {
		if len(numbered(i)) == 0 {
			k++
		}
	}
	return k
}

// TestMessageSockets: a datagram socket (what /dev/log and journald are)
// and a seqpacket socket, found by Open without configuration: every record
// arrives as one message, byte for byte and in order, in batches (fewer
// system calls than records on Linux, where sendmmsg carries up to 1024).
// An empty record cannot go over seqpacket (a zero-length message reads as
// the end of the stream): it is skipped and counted as unsendable.
func TestMessageSockets(t *testing.T) {
	for _, network := range []string{"unixgram", "unixpacket"} {
		t.Run(network, func(t *testing.T) {
			path := sockPath(t)
			d := startMsgDaemon(t, network, path, false)
			w := mustOpen(t, Config{Path: path, Framing: Newline}) // framing does not apply to messages
			const n = 3000
			writeNumbered(t, w, 0, n)
			var skipped uint64
			if network == "unixpacket" {
				skipped = empties(n)
			}
			st := d.finish(t, w, n, skipped > 0)
			if st.Written != n-skipped || st.DroppedUnsendable != skipped || st.Connects != 1 {
				t.Fatalf("written %d, unsendable %d (want %d), connects %d", st.Written, st.DroppedUnsendable, skipped, st.Connects)
			}
			t.Logf("%d records in %d system calls", n, st.Sends)
		})
	}
}

// TestDatagramTooLarge: a message socket takes at most its send buffer in
// one message. Once connected, Write knows the limit and refuses larger
// records (ErrTooLarge, MaxRecord says it); a record accepted before the
// limit was known is refused by the kernel (EMSGSIZE), skipped and counted
// as DroppedUnsendable, and never blocks the records after it.
func TestDatagramTooLarge(t *testing.T) {
	path := sockPath(t)
	w := mustOpen(t, Config{Path: path, SendBuffer: 4096, ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond})
	big := bytes.Repeat([]byte{'b'}, 20000)
	w.Write(numbered(0))
	if _, err := w.Write(big); err != nil { // no limit known yet: accepted
		t.Fatal(err)
	}
	w.Write(numbered(1))
	d := startMsgDaemon(t, "unixgram", path, false)
	waitFor(t, "the backlog", 10*time.Second, func() bool { return len(d.got()) >= 2 })
	if max := w.MaxRecord(); max >= len(big) || max < 4096 {
		t.Fatalf("MaxRecord() = %d after connecting with SendBuffer 4096", max)
	}
	if _, err := w.Write(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write(20000 bytes) on a connected datagram socket = %v; want ErrTooLarge", err)
	}
	w.Write(numbered(2))
	st := d.finish(t, w, 3, false)
	if st.DroppedUnsendable != 1 || st.DroppedTooLarge != 1 || st.Written != 3 {
		t.Fatalf("unsendable %d, too large %d, written %d; want 1, 1, 3", st.DroppedUnsendable, st.DroppedTooLarge, st.Written)
	}
}

// TestDatagramReceiverFull: the daemon does not read for a while, so its
// receive queue fills (EAGAIN). The Writer waits in the poller (stalls
// counted, records moved to the offline ring without eviction), keeps its
// socket, and when the daemon reads again everything arrives once, in order.
func TestDatagramReceiverFull(t *testing.T) {
	path := sockPath(t)
	d := startMsgDaemon(t, "unixgram", path, true)
	w := mustOpen(t, Config{Path: path, WriteTimeout: 20 * time.Millisecond, Offline: offline.New[[]byte](10000)})
	const n = 5000
	writeNumbered(t, w, 0, n)
	waitFor(t, "a stall", 10*time.Second, func() bool { return w.Stats().Stalls > 0 })
	close(d.pause)
	st := d.finish(t, w, n, false)
	if st.Connects != 1 || st.Evicted != 0 {
		t.Fatalf("connects %d, evicted %d", st.Connects, st.Evicted)
	}
}

// TestDatagramDaemonRestarts: the daemon's socket goes away and a new one
// appears at the same path (a restarted daemon: a new inode). Sends to the
// old one fail (ECONNREFUSED); the Writer reconnects with its backoff, sends
// the offline backlog first, and nothing is lost or reordered.
func TestDatagramDaemonRestarts(t *testing.T) {
	path := sockPath(t)
	d1 := startMsgDaemon(t, "unixgram", path, false)
	w := mustOpen(t, Config{Path: path, ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond})
	writeNumbered(t, w, 0, 100)
	waitFor(t, "the first daemon", 10*time.Second, func() bool { return len(d1.got()) == 100 })
	d1.close()
	writeNumbered(t, w, 100, 300)
	waitFor(t, "the send failure", 10*time.Second, func() bool { return w.Stats().WriteErrors+w.Stats().DialErrors > 0 })
	d2 := startMsgDaemon(t, "unixgram", path, false)
	flushAndClose(t, w)
	waitFor(t, "every message", 10*time.Second, func() bool { return len(d2.got()) >= 200 })
	got := append(d1.got(), d2.got()...)
	checkMessages(t, got, 300, false)
	st := w.Stats()
	checkConservation(t, st)
	if st.Connects < 2 {
		t.Fatalf("connects %d; want a reconnection", st.Connects)
	}
}

// TestDatagramNoticeTooLarge: a drop notice the socket cannot carry used to
// be counted as an unsendable record (breaking the conservation sum), which
// was a new drop, which made another notice: the consumer spun on notices
// and delivered nothing. It is now let go, uncounted.
func TestDatagramNoticeTooLarge(t *testing.T) {
	path := sockPath(t)
	d := startMsgDaemon(t, "unixgram", path, false)
	notice := func(Drops) []byte { return make([]byte, 20000) } // above the 4 KiB socket's limit
	w := mustOpen(t, Config{Path: path, SendBuffer: 4096, DropNotice: notice, MaxRecord: 100})
	if _, err := w.Write(make([]byte, 101)); !errors.Is(err, ErrTooLarge) { // a drop: a notice is due
		t.Fatalf("Write(101 bytes) = %v", err)
	}
	writeNumbered(t, w, 0, 10)
	st := d.finish(t, w, 10, false)
	if st.Notices != 0 || st.DroppedUnsendable != 0 {
		t.Fatalf("notices %d, unsendable %d; want the oversized notice let go", st.Notices, st.DroppedUnsendable)
	}
}

// TestDatagramLimitKnownAtOpen: Open's probe connection tells Write the
// socket's limit at once; records above it used to be accepted until the
// consumer had attached the connection, and then dropped at send time.
func TestDatagramLimitKnownAtOpen(t *testing.T) {
	path := sockPath(t)
	startMsgDaemon(t, "unixgram", path, false)
	w := mustOpen(t, Config{Path: path, SendBuffer: 4096})
	defer w.Close()
	if _, err := w.Write(make([]byte, 20000)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write(20000 bytes) right after Open = %v; want ErrTooLarge", err)
	}
}

// TestLimitForgottenWhenTheSocketBecomesAStream: the daemon is replaced by
// one listening on a stream socket at the same path; the datagram limit
// used to stay and refuse records the stream takes.
func TestLimitForgottenWhenTheSocketBecomesAStream(t *testing.T) {
	path := sockPath(t)
	d := startMsgDaemon(t, "unixgram", path, false)
	w := mustOpen(t, Config{Path: path, SendBuffer: 4096, ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond})
	defer w.Close()
	if w.MaxRecord() >= 20000 {
		t.Fatalf("MaxRecord() = %d on a 4 KiB datagram socket", w.MaxRecord())
	}
	waitFor(t, "the first connection", 10*time.Second, func() bool { return w.Stats().Connects == 1 })
	d.close()
	before := w.Stats().Connects
	startDaemon(t, path)
	for w.Stats().Connects == before {
		w.Write([]byte("x")) // fails on the dead datagram socket, then reconnects
		time.Sleep(time.Millisecond)
	}
	if _, err := w.Write(make([]byte, 20000)); err != nil {
		t.Fatalf("Write(20000 bytes) on a stream socket = %v (MaxRecord %d)", err, w.MaxRecord())
	}
}
