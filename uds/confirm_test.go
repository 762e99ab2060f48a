//go:build linux

package uds

import (
	"io"
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
	waitFor(t, "the unread records to be counted", 5*time.Second, func() bool { return w.Stats().Unconfirmed != 0 })
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
