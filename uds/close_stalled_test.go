package uds

import (
	"errors"
	"net"
	"testing"
	"time"
)

// Close on a daemon that accepted and never reads, with a write blocked
// part way through a record: every record is sent, kept or counted, the
// LostError's counts are what Stats holds in the Writer's own offline
// ring (Unkept == Buffered) and in the byte ring (Unfinished == Pending),
// and conservation holds, with and without AtLeastOnce.
func TestCloseOnAStalledDaemonCountsEveryRecordOnce(t *testing.T) {
	for _, alo := range []bool{false, true} {
		if alo && !outqKnown {
			continue
		}
		path := sockPath(t)
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		accepted := acceptOne(ln) // held, never read
		w := mustOpen(t, Config{Path: path, SendBuffer: 4096, RingBytes: 1 << 16, WriteTimeout: 5 * time.Millisecond,
			CloseTimeout: 100 * time.Millisecond, Framing: LengthPrefix, AtLeastOnce: alo})
		rec := make([]byte, 300)
		for range 2000 {
			w.Write(rec)
		}
		waitFor(t, "a stall", 5*time.Second, func() bool { return w.Stats().Stalls > 0 })
		c := <-accepted
		err = w.Close()
		st := w.Stats()
		checkConservation(t, st)
		var lost *LostError
		if errors.As(err, &lost) {
			if uint64(lost.Unkept) != st.Buffered || uint64(lost.Unfinished) != st.Pending {
				t.Errorf("AtLeastOnce %v: LostError %+v; Stats Buffered %d, Pending %d", alo, *lost, st.Buffered, st.Pending)
			}
		} else if st.Buffered+st.Pending > 0 {
			t.Errorf("AtLeastOnce %v: Close = %v with %d records left in the Writer's own rings", alo, err, st.Buffered+st.Pending)
		}
		if c != nil {
			c.Close()
		}
		ln.Close()
	}
}
