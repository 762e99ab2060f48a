//go:build linux

package uds

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestUnreadRecordsCountedWhenDaemonCloses: a daemon accepts and reads
// nothing; the kernel takes 300 records (Written), then the daemon closes
// its end, and the kernel throws them away. The Writer counts all 300 as
// Unconfirmed, with no write to find out:
// it watches a connection with unconfirmed records while idle.
func TestUnreadRecordsCountedWhenDaemonCloses(t *testing.T) {
	path := sockPath(t)
	ln := listen(t, path)
	w := mustOpen(t, Config{Path: path, ReconnectMin: time.Hour})
	defer w.Close()
	peer, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	writeNumbered(t, w, 0, n)
	waitFor(t, "the kernel to take every record", 5*time.Second, func() bool { return w.Stats().Written == n })
	peer.Close()
	waitFor(t, "the unread records to be counted and the connection closed", 5*time.Second, func() bool {
		st := w.Stats()
		return st.Unconfirmed != 0 && !st.Connected
	})
	st := w.Stats()
	if st.Unconfirmed != n || st.Connected {
		t.Fatalf("unconfirmed %d, connected %v; want %d, false", st.Unconfirmed, st.Connected, n)
	}
	checkConservation(t, st)
}

// TestReadRecordsNotCountedWhenDaemonCloses: the same daemon reads every
// record before it closes: nothing is counted, because the kernel said the
// daemon consumed them before its socket died.
func TestReadRecordsNotCountedWhenDaemonCloses(t *testing.T) {
	path := sockPath(t)
	ln := listen(t, path)
	w := mustOpen(t, Config{Path: path})
	defer w.Close()
	peer, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	const n, recSize = 300, 32
	buf := make([]byte, recSize)
	for i := range n {
		w.Write(seqRec(buf, 0, i, recSize))
	}
	if _, err := io.ReadFull(peer, make([]byte, n*recSize)); err != nil {
		t.Fatal(err)
	}
	// The Writer re-checks an idle connection at 1 ms, then 2, 4...: give
	// it ample time to see the daemon's progress before the daemon dies.
	time.Sleep(300 * time.Millisecond)
	peer.Close()
	w.Write(seqRec(buf, 0, n, recSize)) // the write that finds the daemon gone
	waitFor(t, "the Writer to see the daemon gone", 5*time.Second, func() bool { return !w.Stats().Connected })
	if st := w.Stats(); st.Unconfirmed != 0 || st.Written != n {
		t.Fatalf("unconfirmed %d, written %d; want 0, %d", st.Unconfirmed, st.Written, n)
	}
}

// TestAtLeastOnceResendsUnreadRecords: with AtLeastOnce, the 300 records
// the first daemon connection never read are sent again, first and in
// order, on the next connection, and counted as Resent; nothing is
// counted Unconfirmed.
func TestAtLeastOnceResendsUnreadRecords(t *testing.T) {
	path := sockPath(t)
	ln := listen(t, path)
	w := mustOpen(t, Config{Path: path, Framing: Newline, AtLeastOnce: true, ReconnectMin: time.Millisecond})
	first, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	const n, recSize = 300, 32
	buf := make([]byte, recSize)
	for i := range n {
		w.Write(seqRec(buf, 0, i, recSize))
	}
	waitFor(t, "the kernel to take every record", 5*time.Second, func() bool { return w.Stats().Written == n })
	first.Close() // unread: the kernel throws the records away
	got := readOne(ln)
	waitFor(t, "the records to be queued again", 5*time.Second, func() bool { return w.Stats().Resent != 0 })
	for i := n; i < 2*n; i++ {
		w.Write(seqRec(buf, 0, i, recSize))
	}
	flushAndClose(t, w)
	out := <-got
	st := w.Stats()
	checkConservation(t, st)
	if st.Resent != n || st.Unconfirmed != 0 || st.Written != 3*n {
		t.Fatalf("resent %d, unconfirmed %d, written %d; want %d, 0, %d", st.Resent, st.Unconfirmed, st.Written, n, 3*n)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 2*n {
		t.Fatalf("the second connection got %d records; want %d", len(lines), 2*n)
	}
	for i, line := range lines {
		if _, j := parseSeq(t, []byte(line)); j != i {
			t.Fatalf("record %d where %d was due", j, i)
		}
	}
}

// TestAtLeastOnceKeepsNothingOnceRead: with AtLeastOnce, records the daemon
// read are let go: a connection that then dies sends nothing again.
func TestAtLeastOnceKeepsNothingOnceRead(t *testing.T) {
	path := sockPath(t)
	ln := listen(t, path)
	w := mustOpen(t, Config{Path: path, AtLeastOnce: true, ReconnectMin: time.Millisecond})
	defer w.Close()
	peer, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	const n, recSize = 300, 32
	buf := make([]byte, recSize)
	for i := range n {
		w.Write(seqRec(buf, 0, i, recSize))
	}
	if _, err := io.ReadFull(peer, make([]byte, n*recSize)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the idle re-checks see the daemon's progress
	peer.Close()
	w.Write(seqRec(buf, 0, n, recSize)) // the write that finds the daemon gone
	waitFor(t, "the Writer to see the daemon gone", 5*time.Second, func() bool { return w.Stats().WriteErrors != 0 })
	if st := w.Stats(); st.Resent != 0 || st.Unconfirmed != 0 {
		t.Fatalf("resent %d, unconfirmed %d; want 0, 0", st.Resent, st.Unconfirmed)
	}
}

// TestAtLeastOnceCloseLeavesUnreadInOffline: with AtLeastOnce, records the
// dead daemon never read and that could not be sent again before Close
// are left in the offline ring, oldest first, ahead of the later ones.
func TestAtLeastOnceCloseLeavesUnreadInOffline(t *testing.T) {
	path := sockPath(t)
	ln := listen(t, path)
	w := mustOpen(t, Config{Path: path, AtLeastOnce: true, ReconnectMin: time.Hour, CloseTimeout: 50 * time.Millisecond})
	peer, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	const n, recSize = 300, 32
	buf := make([]byte, recSize)
	for i := range n {
		w.Write(seqRec(buf, 0, i, recSize))
	}
	waitFor(t, "the kernel to take every record", 5*time.Second, func() bool { return w.Stats().Written == n })
	ln.Close()
	peer.Close()
	waitFor(t, "the records to be queued again", 5*time.Second, func() bool { return w.Stats().Resent != 0 })
	for i := n; i < n+10; i++ {
		w.Write(seqRec(buf, 0, i, recSize))
	}
	// The Writer's own offline ring: nothing keeps them after Close.
	if lost := asLost(t, w.Close()); lost.Unkept != n+10 || lost.Evicted+lost.Unfinished+lost.SpillLost != 0 {
		t.Fatalf("Close: %+v; want %d records left in the Writer's offline ring", *lost, n+10)
	}
	st := w.Stats()
	checkConservation(t, st)
	left := w.off.Drain(nil)
	if len(left) != n+10 {
		t.Fatalf("%d records left offline; want %d", len(left), n+10)
	}
	for i, rec := range left {
		if _, j := parseSeq(t, rec); j != i {
			t.Fatalf("offline record %d where %d was due", j, i)
		}
	}
}

// TestDatagramUnreadRecordsOnRestart: a datagram daemon that read nothing
// is replaced by a new one (a new socket at the path). Its 8 queued
// datagrams died with its socket: by default they are counted
// Unconfirmed; with AtLeastOnce they are sent again, first, to the new
// daemon.
func TestDatagramUnreadRecordsOnRestart(t *testing.T) {
	for _, atLeastOnce := range []bool{false, true} {
		t.Run(fmt.Sprint("atLeastOnce=", atLeastOnce), func(t *testing.T) {
			path := sockPath(t)
			addr := &net.UnixAddr{Name: path, Net: "unixgram"}
			old, err := net.ListenUnixgram("unixgram", addr)
			if err != nil {
				t.Fatal(err)
			}
			w := mustOpen(t, Config{Path: path, AtLeastOnce: atLeastOnce, ReconnectMin: time.Millisecond})
			const n, recSize = 8, 32 // within net.unix.max_dgram_qlen (10 by default)
			buf := make([]byte, recSize)
			for i := range n {
				w.Write(seqRec(buf, 0, i, recSize))
			}
			waitFor(t, "the kernel to take every record", 5*time.Second, func() bool { return w.Stats().Written == n })
			old.Close()
			os.Remove(path)
			fresh, err := net.ListenUnixgram("unixgram", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			w.Write(seqRec(buf, 0, n, recSize)) // the send that finds the old daemon gone
			flushAndClose(t, w)
			st := w.Stats()
			checkConservation(t, st)
			want := []int{n}
			if atLeastOnce {
				want = []int{0, 1, 2, 3, 4, 5, 6, 7, n}
				if st.Resent != n || st.Unconfirmed != 0 {
					t.Fatalf("resent %d, unconfirmed %d; want %d, 0", st.Resent, st.Unconfirmed, n)
				}
			} else if st.Unconfirmed != n || st.Resent != 0 {
				t.Fatalf("unconfirmed %d, resent %d; want %d, 0", st.Unconfirmed, st.Resent, n)
			}
			fresh.SetReadDeadline(time.Now().Add(5 * time.Second))
			b := make([]byte, 1024)
			for _, i := range want {
				m, err := fresh.Read(b)
				if err != nil {
					t.Fatal(err)
				}
				if _, j := parseSeq(t, b[:m]); j != i {
					t.Fatalf("record %d where %d was due", j, i)
				}
			}
		})
	}
}
