package uds

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// A test that needs a child process runs this binary again with
	// RINGSINK_CHILD naming what the child does.
	if child := childModes[os.Getenv("RINGSINK_CHILD")]; child != nil {
		child()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// childModes are the child processes tests start (RINGSINK_CHILD).
var childModes = map[string]func(){}

// sockPath returns a short socket path in a fresh temp dir (sun_path is
// limited to 107 bytes, and t.TempDir paths can be longer).
func sockPath(t *testing.T) string { return sockPathB(t) }

// sockPathB is sockPath for tests and benchmarks.
func sockPathB(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "uds")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s.sock")
}

// daemon is a real net.UnixListener standing in for the log daemon: it
// accepts connections one at a time and keeps the bytes each one delivered.
type daemon struct {
	t    *testing.T
	ln   *net.UnixListener
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn []*bytes.Buffer // bytes received, per connection
	open map[*net.UnixConn]bool
	dead bool // stop has run: a connection accepted as it ran is closed at once
}

func startDaemon(t *testing.T, path string) *daemon {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, ln: ln, open: map[*net.UnixConn]bool{}}
	d.wg.Go(func() {
		for {
			c, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			buf := &bytes.Buffer{}
			d.mu.Lock()
			if d.dead {
				// Accepted while stop closed the others: it was never
				// in open, and nothing else would close it (its reader
				// would read forever, and stop wait for it).
				d.mu.Unlock()
				c.Close()
				continue
			}
			d.conn = append(d.conn, buf)
			d.open[c] = true
			d.mu.Unlock()
			d.wg.Go(func() {
				b := make([]byte, 64<<10)
				for {
					n, err := c.Read(b)
					d.mu.Lock()
					buf.Write(b[:n])
					d.mu.Unlock()
					if err != nil {
						break
					}
				}
				c.Close()
				d.mu.Lock()
				delete(d.open, c)
				d.mu.Unlock()
			})
		}
	})
	t.Cleanup(d.stop)
	return d
}

// stop closes the listener (removing the socket file) and every connection,
// abruptly: bytes still in kernel buffers are lost, as when a daemon dies.
func (d *daemon) stop() {
	d.ln.Close()
	d.mu.Lock()
	d.dead = true
	for c := range d.open {
		c.Close()
	}
	d.mu.Unlock()
	d.wg.Wait()
}

// wait accepts what is still in the listen backlog, then waits until every
// connection has reached EOF (the writer closed its side): a graceful stop
// that loses nothing. Call it after the writer is closed.
func (d *daemon) wait() {
	d.ln.SetDeadline(time.Now().Add(100 * time.Millisecond)) // ends the accept loop
	d.wg.Wait()
	d.ln.Close()
}

// data returns the bytes received on each connection so far.
func (d *daemon) data() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([][]byte, len(d.conn))
	for i, b := range d.conn {
		out[i] = bytes.Clone(b.Bytes())
	}
	return out
}

// frames splits a length-prefixed stream into its complete frames; a torn
// frame at the end (the connection died mid-record) is reported separately.
func frames(stream []byte) (recs [][]byte, torn int) {
	for len(stream) >= 4 {
		n := int(binary.BigEndian.Uint32(stream))
		if len(stream) < 4+n {
			break
		}
		recs = append(recs, stream[4:4+n])
		stream = stream[4+n:]
	}
	return recs, len(stream)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(time.Millisecond)
	}
}

func mustOpen(t *testing.T, cfg Config) *Writer {
	t.Helper()
	w, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return w
}

// checkConservation asserts the Stats invariant at a quiescent moment.
func checkConservation(t *testing.T, st Stats) {
	t.Helper()
	if st.Accepted+st.Preloaded+st.Recovered+st.Resent != st.Written+st.Evicted+st.DroppedUnsendable+st.DroppedDamaged+st.SpillLost+st.Buffered+st.Pending {
		t.Fatalf("accepted %d + preloaded %d + recovered %d + resent %d != written %d + evicted %d + unsendable %d + damaged %d + spill lost %d + buffered %d + pending %d",
			st.Accepted, st.Preloaded, st.Recovered, st.Resent, st.Written, st.Evicted, st.DroppedUnsendable, st.DroppedDamaged, st.SpillLost, st.Buffered, st.Pending)
	}
}

type (
	netUnixListener = net.UnixListener
	netUnixConn     = net.UnixConn
)

func netListenUnix(path string) (*net.UnixListener, error) {
	return net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
}

// flushAndClose flushes w (everything reaches the kernel or was evicted)
// and closes it. The callers have not flushed before: the Flush must
// return nil if nothing was evicted, else a *LostError counting every
// eviction (Stats.Evicted) and nothing else.
func flushAndClose(t *testing.T, w *Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := w.Flush(ctx)
	if ev := w.Stats().Evicted; ev == 0 && err != nil {
		t.Fatalf("Flush: %v", err)
	} else if ev > 0 {
		var lost *LostError
		if !errors.As(err, &lost) || uint64(lost.Evicted) != ev || lost.Unkept+lost.Unfinished+lost.SpillLost+lost.Held != 0 || lost.Err != nil {
			t.Fatalf("Flush = %v; want a *LostError counting the %d evictions only", err, ev)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// readOne accepts one connection on ln and delivers everything read from it
// until EOF (nil if the accept failed).
func readOne(ln *net.UnixListener) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	return got
}

// asLost returns err as a *LostError, or fails the test.
func asLost(t *testing.T, err error) *LostError {
	t.Helper()
	var lost *LostError
	if !errors.As(err, &lost) {
		t.Fatalf("err = %v; want a *LostError", err)
	}
	return lost
}

// acceptOne accepts one connection on ln and hands it over, or closes the
// channel if the accept fails; the caller holds the connection, and reads
// it or not.
func acceptOne(ln *net.UnixListener) <-chan *net.UnixConn {
	accepted := make(chan *net.UnixConn, 1)
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	return accepted
}

// writeNumbered writes the numbered records from..to-1, waiting for room.
func writeNumbered(t *testing.T, w *Writer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := writeAll(w, numbered(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func numbered(i int) []byte {
	if i%7 == 3 {
		return []byte{} // empty messages too
	}
	return fmt.Appendf(nil, "<14>rec %d %s", i, bytes.Repeat([]byte{'x'}, i%300))
}
