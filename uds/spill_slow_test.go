//go:build linux

package uds

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// slowStream accepts one connection at a time; each connection waits for
// start, then reads chunk bytes every every (chunk<=0: reads everything).
type slowStream struct {
	mu    sync.Mutex
	conns []*bytes.Buffer
	start chan struct{}
	ln    *net.UnixListener
	wg    sync.WaitGroup
	stop  chan struct{}
	cut   func(i int, n int) bool // close connection i after n bytes
}

func newSlowStream(t *testing.T, path string, chunk int, every time.Duration, paused bool) *slowStream {
	ln := listen(t, path)
	s := &slowStream{start: make(chan struct{}), ln: ln, stop: make(chan struct{})}
	if !paused {
		close(s.start)
	}
	s.wg.Go(func() {
		for i := 0; ; i++ {
			c, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			buf := &bytes.Buffer{}
			s.mu.Lock()
			s.conns = append(s.conns, buf)
			s.mu.Unlock()
			s.wg.Go(func() {
				defer c.Close()
				select {
				case <-s.start:
				case <-s.stop:
					return
				}
				b := make([]byte, 1<<16)
				for {
					n := len(b)
					if chunk > 0 {
						n = chunk
					}
					k, err := c.Read(b[:n])
					s.mu.Lock()
					buf.Write(b[:k])
					total := buf.Len()
					s.mu.Unlock()
					if err != nil {
						return
					}
					if s.cut != nil && s.cut(i, total) {
						return
					}
					if every > 0 {
						select {
						case <-time.After(every):
						case <-s.stop:
							return
						}
					}
				}
			})
		}
	})
	t.Cleanup(func() { close(s.stop); ln.Close(); s.wg.Wait() })
	return s
}

func (s *slowStream) data() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, b := range s.conns {
		out = append(out, bytes.Clone(b.Bytes()))
	}
	return out
}

func recN(i int) []byte { return fmt.Appendf(nil, "record %06d %s", i, bytes.Repeat([]byte{'x'}, 80)) }

// A slow or departing daemon, with and without a spill directory.

// A slow daemon: each write makes some progress within WriteTimeout, but a
// batch takes far longer. The batch's deadline expires with a spill dir too
// (its early returns keep the batch's deadline), and the wait is accounted:
// since issue 31 as a slow wait (Stats.Slow: the daemon took bytes), or as
// a stall where a loaded machine left the daemon unscheduled for a whole
// WriteTimeout (20 ms here). Every record arrives.
func TestSlowReaderGetsEveryRecord(t *testing.T) {
	for _, spill := range []bool{false, true} {
		t.Run(fmt.Sprint("spill=", spill), func(t *testing.T) {
			path := sockPath(t)
			s := newSlowStream(t, path, 2048, 2*time.Millisecond, false)
			cfg := Config{Path: path, Network: "unix", Framing: LengthPrefix, WriteTimeout: 20 * time.Millisecond,
				SendBuffer: 4096, RingBytes: 1 << 20, CloseTimeout: 30 * time.Second}
			if spill {
				cfg.SpillDir = privateDir(t)
				cfg.Offline = nil
			}
			w := mustOpen(t, cfg)
			const n = 3000
			for i := range n {
				if _, err := w.WriteContext(context.Background(), recN(i)); err != nil {
					t.Fatal(err)
				}
			}
			t0 := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			el := time.Since(t0)
			st := w.Stats()
			le := w.LastError()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "all bytes", 20*time.Second, func() bool {
				d := s.data()
				return len(d) == 1 && uint64(len(d[0])) == st.WrittenBytes
			})
			recs, torn := frames(s.data()[0])
			if len(recs) != n || torn != 0 {
				t.Fatalf("%d records, %d torn", len(recs), torn)
			}
			for i, r := range recs {
				if !bytes.Equal(r, recN(i)) {
					t.Fatalf("record %d = %q", i, r)
				}
			}
			t.Logf("spill=%v: flush %v, slow waits %d, stalls %d, sends %d, written %d, bytes %d, lastErr %v", spill, el.Round(time.Millisecond), st.Slow, st.Stalls, st.Sends, st.Written, st.WrittenBytes, le)
			if st.Slow+st.Stalls == 0 {
				t.Errorf("a batch took %v against a WriteTimeout of 20 ms, and no slow wait or stall was counted", el)
			}
		})
	}
}

// A Flush waiting when Close is called: shutdown sends everything, and
// the Flush gets nil with a spill dir too.
func TestFlushWaitingAtCloseGetsNil(t *testing.T) {
	for _, spill := range []bool{false, true} {
		t.Run(fmt.Sprint("spill=", spill), func(t *testing.T) {
			path := sockPath(t)
			s := newSlowStream(t, path, 0, 0, true)
			cfg := Config{Path: path, Network: "unix", Framing: LengthPrefix, SendBuffer: 4096, CloseTimeout: 5 * time.Second}
			if spill {
				cfg.SpillDir = privateDir(t)
			}
			w := mustOpen(t, cfg)
			for i := range 500 {
				w.WriteContext(context.Background(), recN(i))
			}
			got := make(chan error, 1)
			go func() { got <- w.Flush(context.Background()) }()
			time.Sleep(100 * time.Millisecond)
			closed := make(chan error, 1)
			go func() { closed <- w.Close() }()
			time.Sleep(50 * time.Millisecond)
			close(s.start)
			cerr := <-closed
			ferr := <-got
			st := w.Stats()
			t.Logf("Close = %v, Flush = %v, written %d pending %d", cerr, ferr, st.Written, st.Pending)
			if cerr == nil && st.Written == 500 && ferr != nil {
				t.Errorf("every record was handed to the kernel, Close = nil, yet Flush = %v", ferr)
			}
		})
	}
}

// The daemon closes mid-record after an early return; the record must be
// whole on the next connection, and a drop notice must not split it.
func TestSpillTornRecordGoesWholeOnTheNextConnection(t *testing.T) {
	path := sockPath(t)
	s := newSlowStream(t, path, 1000, time.Millisecond, false)
	s.cut = func(i, n int) bool { return i == 0 && n >= 20000 }
	cfg := Config{Path: path, Network: "unix", Framing: LengthPrefix, SendBuffer: 4096, SpillDir: privateDir(t),
		ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond,
		DropNotice: func(d Drops) []byte { return fmt.Appendf(nil, "NOTICE %+v", d) }}
	w := mustOpen(t, cfg)
	const n = 1000
	for i := range n {
		w.WriteContext(context.Background(), recN(i))
	}
	w.Write(make([]byte, 1<<20)) // too large: a drop, so a notice
	flushAndClose(t, w)
	st := w.Stats()
	waitFor(t, "the last record on the last connection", 10*time.Second, func() bool {
		d := s.data()
		recs, _ := frames(d[len(d)-1])
		return len(recs) > 0 && bytes.Equal(recs[len(recs)-1], recN(n-1))
	})
	d := s.data()
	next := 0
	for ci, b := range d {
		recs, torn := frames(b)
		t.Logf("conn %d: %d records, %d torn bytes", ci, len(recs), torn)
		first := true // a connection may begin past what the last one lost when it was cut
		for _, r := range recs {
			if bytes.HasPrefix(r, []byte("NOTICE")) {
				continue
			}
			var i int
			fmt.Sscanf(string(r), "record %d", &i)
			if !bytes.Equal(r, recN(i)) {
				t.Fatalf("bad record %q", r)
			}
			if i != next && !(first && i > next) {
				t.Fatalf("record %d after %d", i, next-1)
			}
			first = false
			next = i + 1
		}
	}
	if next != n {
		t.Fatalf("last record %d", next-1)
	}
	checkConservation(t, st)
	t.Logf("%+v", st)
}

// Writer-level: spill dir, slow reader, a stamp that changes every
// batch, every format, LengthPrefix and Newline: the continued records
// must be byte-exact.
func TestSpillEarlyReturnsContinueEveryFormatExactly(t *testing.T) {
	for fname, inner := range formats(t) {
		for _, fr := range []Framing{LengthPrefix, Newline, Raw} {
			t.Run(fname+"/"+fr.String(), func(t *testing.T) {
				path := sockPath(t)
				s := newSlowStream(t, path, 3000, 500*time.Microsecond, false)
				f := &fixedStamp{Format: inner.(*fixedStamp).Format, count: true}
				w := mustOpen(t, Config{Path: path, Network: "unix", Framing: fr, Format: f, SendBuffer: 4096,
					SpillDir: privateDir(t), CloseTimeout: 20 * time.Second})
				const n = 2000
				for i := range n {
					w.WriteContext(context.Background(), recN(i))
				}
				flushAndClose(t, w)
				st := w.Stats()
				waitFor(t, "bytes", 10*time.Second, func() bool { return uint64(len(s.data()[0])) == st.WrittenBytes })
				b := s.data()[0]
				// Reconstruct: each record with some stamp T%04d.
				pos := 0
				for i := range n {
					var ok bool
					for k := 1; k <= f.n; k++ {
						fb := framed(f, recN(i), fmt.Appendf(nil, "T%04d", k))
						var want []byte
						switch fr {
						case LengthPrefix:
							want = append(binary4(len(fb)), fb...)
						case Newline:
							want = fb
							if fb[len(fb)-1] != '\n' {
								want = append(want, '\n')
							}
						default:
							want = fb
						}
						if bytes.HasPrefix(b[pos:], want) {
							pos += len(want)
							ok = true
							break
						}
					}
					if !ok {
						t.Fatalf("record %d at %d: %q", i, pos, b[pos:min(len(b), pos+200)])
					}
				}
				if pos != len(b) {
					t.Fatalf("%d trailing bytes", len(b)-pos)
				}
				t.Logf("%d batches(stamps), sends %d, stalls %d", f.n, st.Sends, st.Stalls)
			})
		}
	}
}

func binary4(n int) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }

// A kill while Open writes a new ring file out (1 MiB at a time) leaves a
// shorter, all-zero file: the next Open writes it out again.
func TestSpillOpenAfterAKillMidWriteOut(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	if err := os.WriteFile(filepath.Join(dir, "ring"), make([]byte, 1<<20), 0o600); err != nil { // the first chunk of 1 MiB + 4 KiB
		t.Fatal(err)
	}
	w, err := Open(Config{Path: path, Network: "unixgram", SpillDir: dir}) // RingBytes default 1 MiB
	if err != nil {
		t.Fatalf("Open after a kill mid write-out: %v", err)
	}
	w.Close()
}

// Close honours CloseTimeout with a daemon that reads, slowly: 2 KiB every
// 10 ms against about 800 KB queued (4 s of reading).
func TestSpillCloseHonoursItsDeadlineWithASlowReader(t *testing.T) {
	path := sockPath(t)
	newSlowStream(t, path, 2048, 10*time.Millisecond, false)
	w := mustOpen(t, Config{Path: path, Network: "unix", Framing: LengthPrefix, SendBuffer: 4096, SpillDir: privateDir(t),
		CloseTimeout: 200 * time.Millisecond, WriteTimeout: time.Second})
	for i := range 8000 {
		w.Write(recN(i))
	}
	t0 := time.Now()
	err := w.Close()
	el := time.Since(t0)
	t.Logf("Close %v: %v; %+v", el, err, w.Stats())
	if el > 200*time.Millisecond+time.Second { // a margin for a loaded machine, far below the 4 s
		t.Errorf("Close took %v", el)
	}
}
