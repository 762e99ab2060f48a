package uds

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/ringsink/ringsink/offline"
)

// Buffers the caller preloaded into Config.Offline are the caller's
// memory (a file read once, sliced): the consumer must never write into
// them (consumer.recycle). With AtLeastOnce, a shutdown whose daemon died
// with records unread puts copies of them back at the head of the offline
// ring (unresend), ahead of the caller's records, but c.foreign still
// counts the head as the caller's: evicting our copies uses up that count,
// the caller's buffers are then recycled, and the final spill writes live
// records into the caller's memory.
func TestShutdownWithResendDoesNotWriteIntoPreloadedBuffers(t *testing.T) {
	if !outqKnown {
		t.Skip("AtLeastOnce needs Linux")
	}
	path := sockPath(t)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	accepted := acceptOne(ln) // held, never read
	const n, k = 2 << 10, 8
	file := bytes.Repeat([]byte("A"), k*n) // the caller's memory
	want := bytes.Clone(file)
	off := offline.New[[]byte](k)
	for i := range k {
		off.Push(file[i*n : (i+1)*n])
	}
	w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, Offline: off, AtLeastOnce: true,
		SendBuffer: 4096, WriteTimeout: 5 * time.Millisecond, CloseTimeout: 300 * time.Millisecond,
		ReconnectMin: time.Hour, ReconnectMax: time.Hour})
	waitFor(t, "a stall", 5*time.Second, func() bool { return w.Stats().Stalls > 0 })
	live := bytes.Repeat([]byte("L"), n)
	for range 2 * k {
		w.Write(live)
	}
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	time.Sleep(30 * time.Millisecond) // the shutdown is writing to the stalled daemon
	if c := <-accepted; c != nil {
		c.Close() // the daemon dies with records unread: they go to resend
	}
	ln.Close()
	err = <-closed
	st := w.Stats()
	t.Logf("Close = %v; Resent %d, Written %d, Evicted %d, Buffered %d", err, st.Resent, st.Written, st.Evicted, st.Buffered)
	if st.Resent == 0 {
		t.Fatalf("nothing was queued to be sent again (Resent 0): the test did not set up its case")
	}
	if !bytes.Equal(file, want) {
		i := bytes.IndexFunc(file, func(r rune) bool { return r != 'A' })
		t.Fatalf("the consumer wrote into the caller's preloaded buffer: first byte changed at %d (%q)", i, file[i:min(i+8, len(file))])
	}
	checkConservation(t, st)
}
