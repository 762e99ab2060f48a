//go:build unix

package uds

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

// A conn with a Format at its edges: a header or a trailer alone, headers
// larger than the arena budget, a Format that appends more than it says.

// conn.WriteRecords with more than 1024 records, some empty,
// Raw framing and no Format. Empty raw records take no iovec, so fill walks
// past index maxIov-1 of c.flen.
func TestWriteRecordsPastMaxIovWithEmptyRawRecords(t *testing.T) {
	path := sockPath(t)
	got := readOne(listen(t, path))
	c, err := dialConn(context.Background(), path, Raw, 5*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	recs := make([][]byte, 0, 1100)
	for i := 0; i < 1000; i++ {
		recs = append(recs, []byte("x"))
	}
	for i := 0; i < 100; i++ {
		recs = append(recs, nil) // empty records
	}
	recs = append(recs, []byte("y"))
	n, err := c.WriteRecords(recs)
	c.Close()
	if err != nil || n != len(recs) {
		t.Fatalf("WriteRecords = %d, %v; want %d, nil", n, err, len(recs))
	}
	if b := <-got; !bytes.Equal(b, append(bytes.Repeat([]byte("x"), 1000), 'y')) {
		t.Fatalf("got %d bytes", len(b))
	}
}

// trailerOnly is a Format with no header, only a trailer: it appends nothing
// to dst (0 <= MaxOverhead - len(trailer)) and returns a nil header.
type trailerOnly struct{}

func (trailerOnly) AppendStamp(dst []byte, _ time.Time) []byte { return dst }
func (trailerOnly) Frame(dst, rec, _ []byte) (hdr, body, trailer []byte) {
	return nil, rec, []byte("\n")
}
func (trailerOnly) MaxOverhead() int { return 1 }

// headerOnly returns only the header it appended (hdr = the new bytes), the
// reading of "appends rec's header to dst and returns it as hdr" that the
// name hdr suggests.
type headerOnly struct{}

func (headerOnly) AppendStamp(dst []byte, _ time.Time) []byte { return dst }
func (headerOnly) Frame(dst, rec, _ []byte) (hdr, body, trailer []byte) {
	start := len(dst)
	dst = append(dst, "H: "...)
	return dst[start:], rec, nil
}
func (headerOnly) MaxOverhead() int { return 3 }

func runWithTimeout(t *testing.T, f format.Format, network string) {
	path := sockPath(t)
	if network == "unix" {
		readOne(listen(t, path))
	} else {
		discardDatagrams(t, path)
	}
	c, err := dialConn(context.Background(), path, Raw, time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.SetFormat(f)
	done := make(chan string, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- "panic: " + toString(r)
			}
		}()
		recs := [][]byte{[]byte("aaaaaaaaaa"), []byte("b"), []byte("c"), []byte("d")}
		for i := 0; i < 3; i++ {
			if n, err := c.WriteRecords(recs); err != nil || n != len(recs) {
				done <- "short write"
				return
			}
		}
		done <- ""
	}()
	select {
	case s := <-done:
		if s != "" {
			t.Fatalf("%s: %s", network, s)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("%s: WriteRecords still running after 3s (write deadline 1s): spinning", network)
	}
	c.Close()
}

func toString(r any) string {
	if e, ok := r.(error); ok {
		return e.Error()
	}
	if s, ok := r.(string); ok {
		return s
	}
	return "?"
}

func TestFormatTrailerOnlyStream(t *testing.T) { runWithTimeout(t, trailerOnly{}, "unix") }
func TestFormatTrailerOnlyDgram(t *testing.T)  { runWithTimeout(t, trailerOnly{}, "unixgram") }
func TestFormatHeaderOnlyStream(t *testing.T)  { runWithTimeout(t, headerOnly{}, "unix") }
func TestFormatHeaderOnlyDgram(t *testing.T)   { runWithTimeout(t, headerOnly{}, "unixgram") }

func TestFormatHeaderOnlyBytesOnTheWire(t *testing.T) {
	path := sockPath(t)
	got := readOne(listen(t, path))
	c, err := dialConn(context.Background(), path, Newline, time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.SetFormat(headerOnly{})
	if n, err := c.WriteRecords([][]byte{[]byte("a"), []byte("b"), []byte("c")}); err != nil || n != 3 {
		t.Fatal(n, err)
	}
	c.Close()
	if b, want := string(<-got), "H: a\nH: b\nH: c\n"; b != want {
		t.Fatalf("got %q; want %q", b, want)
	}
}

// The Writer's Close never returns with such a Format: the consumer spins
// inside the RawConn callback, past CloseTimeout.
func TestCloseReturnsWithATrailerOnlyFormat(t *testing.T) {
	path := sockPath(t)
	discardDatagrams(t, path)
	w := mustOpen(t, Config{Path: path, Format: trailerOnly{}, CloseTimeout: 200 * time.Millisecond})
	for i := 0; i < 5; i++ {
		w.Write([]byte("rec"))
	}
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatalf("Close (CloseTimeout 200ms) has not returned after 3s; stats %+v", w.Stats())
	}
}

// headerOnlyVar: like headerOnly, with a header whose length varies.
type headerOnlyVar struct{}

func (headerOnlyVar) AppendStamp(dst []byte, _ time.Time) []byte { return dst }
func (headerOnlyVar) Frame(dst, rec, _ []byte) (hdr, body, trailer []byte) {
	start := len(dst)
	dst = fmt.Appendf(dst, "H%d: ", len(rec))
	return dst[start:], rec, nil
}
func (headerOnlyVar) MaxOverhead() int { return 8 }

func TestFormatVaryingHeaderOnlyDgram(t *testing.T) {
	runWithTimeout(t, headerOnlyVar{}, "unixgram")
}

// Headers near the arena's per-record budget (128) and far above it: a
// batch stops early; bytes on the wire must still be exact.
func TestHeadersBeyondTheArenaBudgetAreExact(t *testing.T) {
	j, err := format.Journald(format.User|format.Info, format.Options{AppName: "app", ProcID: "7",
		Fields: []string{"BIG=" + strings.Repeat("v", 3000), "NL=a\nb"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := format.RFC5424(format.User|format.Info, format.Options{Hostname: strings.Repeat("h", 255), AppName: strings.Repeat("a", 48), ProcID: strings.Repeat("p", 128), MsgID: strings.Repeat("m", 32)})
	if err != nil {
		t.Fatal(err)
	}
	for name, inner := range map[string]format.Format{"journald": j, "5424": s} {
		f := &fixedStamp{Format: inner}
		stamp := f.AppendStamp(nil, time.Time{})
		const n = 2500
		for _, network := range []string{"unix", "unixgram", "unixpacket"} {
			t.Run(name+"/"+network, func(t *testing.T) {
				path := sockPath(t)
				var stream <-chan []byte
				var d *msgDaemon
				if network == "unix" {
					stream = readOne(listen(t, path))
				} else {
					d = startMsgDaemon(t, network, path, false)
				}
				w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, Format: f})
				var want [][]byte
				for i := range n {
					r := numbered(i)
					if i%5 == 0 {
						r = nil
					}
					want = append(want, framed(f, r, stamp))
					if err := writeAll(w, r); err != nil {
						t.Fatal(err)
					}
				}
				flushAndClose(t, w)
				var got [][]byte
				if d != nil {
					waitFor(t, "all", 10*time.Second, func() bool { return len(d.got()) >= n })
					got = d.got()
				} else {
					b := <-stream
					for len(b) >= 4 {
						l := binary.BigEndian.Uint32(b)
						got = append(got, b[4:4+l])
						b = b[4+l:]
					}
				}
				if len(got) != n {
					t.Fatalf("got %d", len(got))
				}
				for i := range got {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("record %d differs", i)
					}
				}
				st := w.Stats()
				checkConservation(t, st)
				if st.Written != n || st.DroppedUnsendable != 0 {
					t.Fatalf("%+v", st)
				}
			})
		}
	}
}

// liar appends far more than MaxOverhead: the arena grows mid-batch while
// earlier iovecs point into the old array.
type liar struct{}

func (liar) AppendStamp(dst []byte, _ time.Time) []byte { return dst }
func (liar) Frame(dst, rec, _ []byte) (hdr, body, trailer []byte) {
	dst = append(dst, bytes.Repeat([]byte{'H'}, 500)...)
	dst = fmt.Appendf(dst, "%d:", len(rec))
	return dst, rec, nil
}
func (liar) MaxOverhead() int { return 1 }

func TestFormatAppendingPastMaxOverheadIsExact(t *testing.T) {
	path := sockPath(t)
	got := readOne(listen(t, path))
	c, err := dialConn(context.Background(), path, LengthPrefix, 5*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.SetFormat(liar{})
	var recs [][]byte
	var want []byte
	for i := 0; i < 3000; i++ {
		r := numbered(i)
		recs = append(recs, r)
		hdr, body, _ := liar{}.Frame(nil, r, nil)
		fr := append(hdr, body...)
		want = append(want, byte(len(fr)>>24), byte(len(fr)>>16), byte(len(fr)>>8), byte(len(fr)))
		want = append(want, fr...)
	}
	if n, err := c.WriteRecords(recs); err != nil || n != len(recs) {
		t.Fatal(n, err)
	}
	c.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatal("differs")
	}
}
