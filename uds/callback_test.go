//go:build unix

package uds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

// TestDropNoticePanicIsContained: a DropNotice that panics used to end the
// process on the consumer goroutine. The panic is recovered and counted
// (Stats.Panics, LastError wraps ErrCallbackPanic), that notice is not
// sent, the drops stay counted, the next notice reports only later drops,
// and every record still goes out.
func TestDropNoticePanicIsContained(t *testing.T) {
	path := sockPath(t)
	d := startDaemon(t, path)
	var calls atomic.Int32
	notice := func(dr Drops) []byte {
		if calls.Add(1) == 1 {
			panic("notice bug")
		}
		return fmt.Appendf(nil, "DROPPED too-large=%d", dr.TooLarge)
	}
	w := mustOpen(t, Config{Path: path, MaxRecord: 8, Framing: Newline, DropNotice: notice})
	write := func(rec string) {
		t.Helper()
		if _, err := w.Write([]byte(rec)); err != nil {
			t.Fatalf("Write(%q): %v", rec, err)
		}
	}
	flush := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	w.Write([]byte("much too large")) // a drop: the notice panics
	write("a")
	flush()
	if st, err := w.Stats(), w.LastError(); st.Panics != 1 || !errors.Is(err, ErrCallbackPanic) || !strings.Contains(err.Error(), "notice bug") {
		t.Fatalf("Panics %d, LastError %v; want 1, an ErrCallbackPanic naming the panic", st.Panics, err)
	}
	w.Write([]byte("too large again")) // a second drop: this notice is sent
	w.Write([]byte("and again"))
	write("b")
	flushAndClose(t, w)
	d.wait()
	// The consumer may send the two later drops in one notice or in two
	// (it may run between the Writes): what they report must add up to 2,
	// never 3 (the drop whose notice panicked is not reported again).
	stream := string(bytes.Join(d.data(), nil))
	lines := strings.Split(strings.TrimSuffix(stream, "\n"), "\n")
	if len(lines) < 3 || lines[0] != "a" || lines[len(lines)-1] != "b" {
		t.Fatalf("stream %q; want a, the notices, b", stream)
	}
	reported := 0
	for _, l := range lines[1 : len(lines)-1] {
		var n int
		if _, err := fmt.Sscanf(l, "DROPPED too-large=%d", &n); err != nil {
			t.Fatalf("stream %q: line %q is not a notice", stream, l)
		}
		reported += n
	}
	if reported != 2 {
		t.Fatalf("stream %q: notices report %d drops; want 2 (the drop whose notice panicked is not reported again)", stream, reported)
	}
	st := w.Stats()
	checkConservation(t, st)
	if notices := uint64(len(lines) - 2); st.DroppedTooLarge != 3 || st.Notices != notices || st.Panics != 1 || st.Written != 2 {
		t.Fatalf("too large %d, notices %d, panics %d, written %d; want 3, %d, 1, 2", st.DroppedTooLarge, st.Notices, st.Panics, st.Written, notices)
	}
}

// TestBadDialIsAFailedDial: a Config.Dial that returns (nil, nil) used to
// hand a nil connection to the consumer; one that panics ended the
// process. Both are failed attempts now (Stats.DialErrors, LastError; the
// panic is counted in Stats.Panics), at Open's probe and on the consumer
// goroutine, and the Writer keeps trying: once Dial works, the records
// queued meanwhile arrive.
func TestBadDialIsAFailedDial(t *testing.T) {
	for _, bad := range []string{"nil", "panic"} {
		t.Run(bad, func(t *testing.T) {
			path := sockPath(t)
			d := startDaemon(t, path)
			var calls atomic.Int32
			dial := func(ctx context.Context, path string) (*net.UnixConn, error) {
				if calls.Add(1) <= 3 {
					if bad == "panic" {
						panic("dial bug")
					}
					return nil, nil
				}
				return dialNetwork("unix")(ctx, path)
			}
			w := mustOpen(t, Config{Path: path, Dial: dial, Framing: Newline,
				ReconnectMin: time.Millisecond, ReconnectMax: 2 * time.Millisecond})
			if _, err := w.Write([]byte("queued")); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a connection", 10*time.Second, func() bool { return w.Stats().Connects == 1 })
			flushAndClose(t, w)
			d.wait()
			if got := string(bytes.Join(d.data(), nil)); got != "queued\n" {
				t.Fatalf("stream %q; want %q", got, "queued\n")
			}
			// Call 1 is Open's probe; 2 and 3 are the consumer's.
			st := w.Stats()
			wantPanics := map[string]uint64{"nil": 0, "panic": 3}[bad]
			if calls.Load() != 4 || st.DialErrors != 2 || st.Panics != wantPanics {
				t.Fatalf("Dial called %d times, DialErrors %d, Panics %d; want 4, 2, %d", calls.Load(), st.DialErrors, st.Panics, wantPanics)
			}
		})
	}
}

// TestBadDialLastError: LastError says why Dial failed.
func TestBadDialLastError(t *testing.T) {
	for bad, want := range map[string]string{
		"nil":   "neither a connection nor an error",
		"panic": "dial bug",
	} {
		dial := func(context.Context, string) (*net.UnixConn, error) {
			if bad == "panic" {
				panic("dial bug")
			}
			return nil, nil
		}
		w := mustOpen(t, Config{Path: sockPath(t), Dial: dial, CloseTimeout: time.Millisecond})
		waitFor(t, "a failed dial", 10*time.Second, func() bool { return w.Stats().DialErrors > 0 })
		if err := w.LastError(); err == nil || !strings.Contains(err.Error(), want) || (bad == "panic") != errors.Is(err, ErrCallbackPanic) {
			t.Fatalf("%s: LastError %v; want it to say %q", bad, err, want)
		}
		w.Close()
	}
}

// panicky is a Format whose AppendStamp panics when told.
type panicky struct {
	format.Format
	stamp atomic.Bool
}

func (p *panicky) AppendStamp(dst []byte, now time.Time) []byte {
	if p.stamp.Load() {
		panic("stamp bug")
	}
	return p.Format.AppendStamp(dst, now)
}

// TestFormatPanicSkipsTheRecord: a Format is the caller's code (and
// format.Options.Level a callback inside one); a panic in it used to end
// the process. The record it panicked on is skipped and counted
// (DroppedUnsendable, Panics), on a stream and on a datagram socket, in
// the middle of a batch or at its start; the others go out formatted.
func TestFormatPanicSkipsTheRecord(t *testing.T) {
	level := func(rec []byte) (format.Priority, bool) {
		if bytes.Contains(rec, []byte("boom")) {
			panic("level bug")
		}
		return 0, false
	}
	for _, network := range []string{"unix", "unixgram"} {
		t.Run(network, func(t *testing.T) {
			path := sockPath(t)
			f, err := format.RFC3164(format.User|format.Info, format.Options{AppName: "a", ProcID: "-", Level: level})
			if err != nil {
				t.Fatal(err)
			}
			w := mustOpen(t, Config{Path: path, Framing: Newline, Format: f, Network: network,
				ReconnectMin: time.Millisecond, ReconnectMax: 2 * time.Millisecond})
			recs := []string{"boom 0", "one", "boom 2", "boom 3", "four", "boom 5"}
			for _, r := range recs {
				if _, err := w.Write([]byte(r)); err != nil {
					t.Fatal(err)
				}
			}
			// The daemon comes after the records: they go out in one batch.
			d := startMsgDaemon(t, network, path, false)
			flushAndClose(t, w)
			st := w.Stats()
			checkConservation(t, st)
			if st.Written != 2 || st.DroppedUnsendable != 4 || st.Panics != 4 {
				t.Fatalf("written %d, unsendable %d, panics %d; want 2, 4, 4", st.Written, st.DroppedUnsendable, st.Panics)
			}
			if err := w.LastError(); !errors.Is(err, ErrCallbackPanic) || !strings.Contains(err.Error(), "level bug") {
				t.Fatalf("LastError %v; want the Level panic", err)
			}
			waitFor(t, "the records", 10*time.Second, func() bool { return bytes.Contains(bytes.Join(d.got(), nil), []byte("four")) })
			var got []string
			for _, m := range d.got() {
				for _, line := range strings.Split(strings.TrimSuffix(string(m), "\n"), "\n") {
					got = append(got, line[strings.Index(line, " a: ")+4:])
				}
			}
			if strings.Join(got, "|") != "one|four" {
				t.Fatalf("the daemon got %q; want one, four", got)
			}
		})
	}
}

// TestFormatStampPanicIsCounted: an AppendStamp that panics leaves the
// batch's stamp empty; the records go out, and the panic is counted.
func TestFormatStampPanicIsCounted(t *testing.T) {
	path := sockPath(t)
	d := startMsgDaemon(t, "unixgram", path, false)
	p := &panicky{Format: formats(t)["rfc5424"]}
	p.stamp.Store(true)
	w := mustOpen(t, Config{Path: path, Format: p})
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	flushAndClose(t, w)
	waitFor(t, "the message", 5*time.Second, func() bool { return len(d.got()) == 1 })
	if st := w.Stats(); st.Written != 1 || st.Panics == 0 || !errors.Is(w.LastError(), ErrCallbackPanic) {
		t.Fatalf("written %d, panics %d, LastError %v; want 1, some, ErrCallbackPanic", st.Written, st.Panics, w.LastError())
	}
	if got, want := string(d.got()[0]), string(framed(p.Format, []byte("x"), nil)); got != want {
		t.Fatalf("got %q; want %q (no stamp)", got, want)
	}
}

// TestFormatMaxOverheadPanicFailsOpen: Open asks the Format for its
// MaxOverhead once; a panic, a negative answer or one above 64 KiB is a
// bad Config. (The consumer sizes its header arena from it at every
// connect: 1<<62 panicked in make on the consumer goroutine and ended the
// process; 1<<30 allocated a GiB per connection.)
func TestFormatMaxOverheadPanicFailsOpen(t *testing.T) {
	for name, f := range map[string]format.Format{"panic": overhead(-1), "negative": overhead(-2),
		"64 KiB + 1": overhead(64<<10 + 1), "1 GiB": overhead(1 << 30), "2^62": overhead(1 << 62)} {
		w, err := Open(Config{Path: sockPath(t), Format: f})
		if err == nil {
			w.Close()
		}
		if err == nil || (name == "panic") != errors.Is(err, ErrCallbackPanic) {
			t.Fatalf("%s: Open = %v; want an error", name, err)
		}
	}
	w, err := Open(Config{Path: sockPath(t), Format: overhead(64 << 10)})
	if err != nil {
		t.Fatalf("MaxOverhead 64 KiB: Open = %v; want nil", err)
	}
	w.Close()
}

// TestHugeMaxOverheadOnConnDoesNotPanic: conn.SetFormat, which cannot
// refuse, takes a MaxOverhead out of range as the nearer bound.
func TestHugeMaxOverheadOnConnDoesNotPanic(t *testing.T) {
	path := sockPath(t)
	d := startDaemon(t, path)
	c, err := dialConn(context.Background(), path, Raw, time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.SetFormat(overhead(1 << 62))
	if _, err := c.WriteRecords([][]byte{[]byte("x")}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	waitFor(t, "the record", 5*time.Second, func() bool { got := d.data(); return len(got) == 1 && string(got[0]) == "x" })
}

// overhead is a Format whose MaxOverhead panics (-1) or returns n.
type overhead int

func (overhead) AppendStamp(dst []byte, _ time.Time) []byte { return dst }
func (overhead) Frame(dst, rec, _ []byte) ([]byte, []byte, []byte) {
	return dst, rec, nil
}
func (o overhead) MaxOverhead() int {
	if o == -1 {
		panic("overhead bug")
	}
	return int(o)
}

// flaky is a Format whose Frame panics on every record once armed: a
// Format that breaks its contract (the same record and stamp must give the
// same bytes).
type flaky struct {
	format.Format
	armed atomic.Bool
}

func (f *flaky) Frame(dst, rec, stamp []byte) ([]byte, []byte, []byte) {
	if f.armed.Load() {
		panic("frame bug")
	}
	return f.Format.Frame(dst, rec, stamp)
}

// TestFormatPanicOnATornRecordClosesTheStream: a record whose frame is on
// the wire in part cannot be skipped (the next record would be spliced
// onto it). If the Format panics when the conn renders it again to go on,
// the write fails (ErrCallbackPanic), so the Writer closes the connection
// and sends the record whole on the next one; nothing more is written on
// this one, and nothing is counted as skipped.
func TestFormatPanicOnATornRecordClosesTheStream(t *testing.T) {
	inner, err := format.RFC5424(format.User|format.Info, format.Options{Hostname: "h", AppName: "app", ProcID: "7"})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([][]byte, 300)
	for i := range recs {
		recs[i] = fmt.Appendf(nil, "rec %04d %s", i, strings.Repeat("x", 900))
	}
	for try := 0; try < 30; try++ {
		path := sockPath(t)
		ln := listen(t, path)
		accepted := make(chan *netUnixConn, 1)
		go func() {
			c, _ := ln.AcceptUnix()
			accepted <- c
		}()
		c, err := dialConn(context.Background(), path, Newline, 20*time.Millisecond, 4096)
		if err != nil {
			t.Fatal(err)
		}
		f := &flaky{Format: inner}
		c.SetFormat(f)
		peer := <-accepted
		n, err := c.writeFrom(recs, 0) // the peer does not read: times out
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal(n, err)
		}
		if c.off == 0 { // the timeout fell between records: try again
			c.Close()
			peer.Close()
			continue
		}
		sends, bytesBefore := c.sends, c.bytes
		f.armed.Store(true)
		c.timeout = 10 * time.Second
		m, err := c.writeFrom(recs[n:], c.off)
		c.Close()
		peer.Close()
		if m != 0 || !errors.Is(err, ErrCallbackPanic) || !strings.Contains(err.Error(), "frame bug") {
			t.Fatalf("writeFrom = %d, %v; want 0 records and an ErrCallbackPanic", m, err)
		}
		if c.sends != sends || c.bytes != bytesBefore || c.Unsendable() != 0 {
			t.Fatalf("sends %d -> %d, bytes %d -> %d, unsendable %d: want nothing written or skipped",
				sends, c.sends, bytesBefore, c.bytes, c.Unsendable())
		}
		return
	}
	t.Skip("no write timed out inside a record")
}

// goexitFormat calls runtime.Goexit in Frame, as t.FailNow in a test's
// Format does.
type goexitFormat struct{}

func (goexitFormat) AppendStamp(dst []byte, _ time.Time) []byte { return dst }
func (goexitFormat) Frame(dst, rec, _ []byte) ([]byte, []byte, []byte) {
	runtime.Goexit()
	return dst, rec, nil
}
func (goexitFormat) MaxOverhead() int { return 16 }

// TestGoexitInCallbackClosesTheWriter: a callback that calls
// runtime.Goexit ends the consumer goroutine (no recover stops it). The
// Writer then closes itself: Write returns ErrClosed, Close returns an
// *LostError wrapping ErrCallbackPanic that counts what was not sent, and
// what was queued is left in the offline ring, counted. (Close returned nil,
// and Write kept accepting records nobody would send.)
func TestGoexitInCallbackClosesTheWriter(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		dirs func(w *Writer) // what makes the consumer call the callback
	}{
		{"Format", func(c *Config) { c.Format = goexitFormat{} }, func(w *Writer) { w.Write([]byte("a")) }},
		{"DropNotice", func(c *Config) {
			c.MaxRecord = 4
			c.DropNotice = func(Drops) []byte { runtime.Goexit(); return nil }
		}, func(w *Writer) { w.Write([]byte("too large")); w.Write([]byte("a")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := sockPath(t)
			startDaemon(t, path)
			cfg := Config{Path: path, CloseTimeout: 100 * time.Millisecond}
			tc.cfg(&cfg)
			w := mustOpen(t, cfg)
			tc.dirs(w)
			waitFor(t, "Write to return ErrClosed", 10*time.Second, func() bool {
				_, err := w.Write([]byte("b"))
				return errors.Is(err, ErrClosed)
			})
			if err := w.Flush(context.Background()); !errors.Is(err, ErrClosed) {
				t.Errorf("Flush = %v; want ErrClosed", err)
			}
			err := w.Close()
			st := w.Stats() // the "b"s written before the consumer died are accepted too
			checkConservation(t, st)
			if st.Accepted == 0 || st.Buffered != st.Accepted || st.Written != 0 || st.Pending != 0 || st.Panics != 1 {
				t.Errorf("Accepted %d, Buffered %d, Written %d, Pending %d, Panics %d; want every accepted record buffered, 1 panic",
					st.Accepted, st.Buffered, st.Written, st.Pending, st.Panics)
			}
			var lost *LostError
			if !errors.As(err, &lost) || lost.Unkept != int(st.Buffered) || lost.Evicted+lost.Unfinished+lost.SpillLost != 0 ||
				!errors.Is(err, ErrCallbackPanic) || !strings.Contains(err.Error(), "Goexit") {
				t.Errorf("Close = %v; want a *LostError of %d records left in the Writer's offline ring, wrapping ErrCallbackPanic and saying Goexit", err, st.Buffered)
			}
		})
	}
}
