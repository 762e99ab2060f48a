//go:build unix

package uds

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ringsink/ringsink/offline"
)

// TEST_0812: Write never blocks the caller. A real UnixListener stands in
// for the daemon; the writer has a 64-slot offline ring; Write("hello")
// returns in under 5 ms; the listener reads back "hello"; Close is clean.
func TestSeedWriteNeverBlocks(t *testing.T) {
	path := sockPath(t)
	got := readOne(listen(t, path))
	w := mustOpen(t, Config{Path: path, Offline: offline.New[[]byte](64)})
	t0 := time.Now()
	if _, err := w.Write([]byte("hello")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if el := time.Since(t0); el >= 5*time.Millisecond {
		t.Fatalf("Write took %v; want < 5ms", el)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if b := <-got; string(b) != "hello" {
		t.Fatalf("listener read %q; want %q", b, "hello")
	}
}

// TEST_0814, mid-drain failure: five 256 KiB records tagged '0'..'4' wait in
// a capacity-16 offline ring before the listener exists. The listener
// accepts, reads exactly one record, then shuts the connection down
// (SHUT_RDWR) and stops listening. After 500 ms the writer is closed and the
// ring drained: exactly '1'..'4' remain, in order. SO_SNDBUF is kept below
// one record so no second record can be taken whole by the kernel.
func TestSeedMidDrainFailureKeepsSuffix(t *testing.T) {
	const recSize = 256 << 10
	ring := offline.New[[]byte](16)
	for tag := byte('0'); tag <= '4'; tag++ {
		ring.Push(bytes.Repeat([]byte{tag}, recSize))
	}
	path := sockPath(t)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan []byte, 1)
	go func() {
		c, err := ln.AcceptUnix()
		ln.Close() // no second connection
		if err != nil {
			first <- nil
			return
		}
		b := make([]byte, recSize)
		_, err = io.ReadFull(c, b)
		if err != nil {
			b = nil
		}
		if rc, err := c.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { unix.Shutdown(int(fd), unix.SHUT_RDWR) })
		}
		c.Close()
		first <- b
	}()
	w := mustOpen(t, Config{Path: path, Offline: ring, SendBuffer: 64 << 10, CloseTimeout: 100 * time.Millisecond})
	time.Sleep(500 * time.Millisecond)
	closeErr := w.Close()
	if b := <-first; !bytes.Equal(b, bytes.Repeat([]byte{'0'}, recSize)) {
		t.Fatalf("listener did not read record '0' whole")
	}
	left := ring.Drain(nil)
	var tags []byte
	for _, r := range left {
		if len(r) != recSize || !bytes.Equal(r, bytes.Repeat(r[:1], recSize)) {
			t.Fatalf("re-buffered record of %d bytes is not intact", len(r))
		}
		tags = append(tags, r[0])
	}
	if string(tags) != "1234" {
		t.Fatalf("records left = %q; want \"1234\"", tags)
	}
	if closeErr != nil {
		t.Fatalf("Close = %v; want nil: the 4 records not sent are kept in Config.Offline", closeErr)
	}
	st := w.Stats()
	if st.Written != 1 || st.Preloaded != 5 || st.WriteErrors == 0 {
		t.Fatalf("Stats: written %d preloaded %d write errors %d; want 1, 5, >0", st.Written, st.Preloaded, st.WriteErrors)
	}
	checkConservation(t, st)
}
