//go:build unix

package uds

import (
	"context"
	"fmt"
	"testing"
	"time"
)

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

func runWithTimeout(t *testing.T, f Format, network string) {
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

func TestReviewFormatNilHeaderStream(t *testing.T)  { runWithTimeout(t, trailerOnly{}, "unix") }
func TestReviewFormatNilHeaderDgram(t *testing.T)   { runWithTimeout(t, trailerOnly{}, "unixgram") }
func TestReviewFormatHeaderOnlyStream(t *testing.T) { runWithTimeout(t, headerOnly{}, "unix") }
func TestReviewFormatHeaderOnlyDgram(t *testing.T)  { runWithTimeout(t, headerOnly{}, "unixgram") }

func TestReviewFormatHeaderOnlyBytes(t *testing.T) {
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
func TestReviewFormatNilHeaderWriterCloseHangs(t *testing.T) {
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

func TestReviewFormatHeaderOnlyVarPanics(t *testing.T) {
	runWithTimeout(t, headerOnlyVar{}, "unixgram")
}
