package uds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringsink/ringsink/offline"
)

// encode frames recs the way the given framing puts them on the wire.
func encode(f Framing, recs [][]byte) []byte {
	var b bytes.Buffer
	for _, r := range recs {
		if f == LengthPrefix {
			b.Write([]byte{byte(len(r) >> 24), byte(len(r) >> 16), byte(len(r) >> 8), byte(len(r))})
		}
		b.Write(r)
		if f == Newline {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// TestFramingsByteExactWithBacklog: with the daemon away, a backlog of 3000
// records, every other one empty, builds up (well over the 1024 iovecs of
// one writev, so a single writev carries more records than iovec pairs).
// When the daemon appears, the stream must be byte for byte the records in
// order, in every framing. LengthPrefix used to reuse a prefix slot within
// one writev ("record 1: length prefix 3, want 1").
func TestFramingsByteExactWithBacklog(t *testing.T) {
	for _, f := range []Framing{Raw, Newline, LengthPrefix} {
		t.Run(f.String(), func(t *testing.T) {
			path := sockPath(t)
			w := mustOpen(t, Config{Path: path, Framing: f, Offline: offline.New[[]byte](4096),
				ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond})
			var recs [][]byte
			for i := range 3000 {
				var r []byte
				if i%2 == 1 {
					r = fmt.Appendf(nil, "r%d", i) // lengths 2..5, so prefixes differ
				}
				recs = append(recs, r)
				if err := writeAll(w, r); err != nil {
					t.Fatal(err)
				}
			}
			// Records live in the byte ring or the offline ring meanwhile;
			// both paths get a writev with more than 512 records.
			d := startDaemon(t, path)
			flushAndClose(t, w)
			d.wait()
			got := bytes.Join(d.data(), nil)
			want := encode(f, recs)
			if !bytes.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("stream differs at byte %d of %d (got %d bytes): got %q, want %q",
					i, len(want), len(got), got[i:min(len(got), i+16)], want[i:min(len(want), i+16)])
			}
			if st := w.Stats(); st.Written != uint64(len(recs)) {
				t.Fatalf("Written %d; want %d", st.Written, len(recs))
			}
		})
	}
}

// writeAll writes r, retrying (with WriteContext) if the ring is full.
func writeAll(w *Writer, r []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := w.WriteContext(ctx, r)
	return err
}

// TestNewlineFramingKeepsRecordsWhole: rsyslog turned "line1\nline2" into two
// messages. With Newline framing a record's own trailing newline ends it
// (slog's lines are not doubled), an inner newline is refused and counted,
// and AllowNewlines lets it through on purpose.
func TestNewlineFramingKeepsRecordsWhole(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("AllowNewlines=%v", allow), func(t *testing.T) {
			path := sockPath(t)
			d := startDaemon(t, path)
			w := mustOpen(t, Config{Path: path, Framing: Newline, AllowNewlines: allow})
			for _, rec := range []string{"a\n", "b", "c\nd", "\n", ""} {
				_, err := w.Write([]byte(rec))
				if inner := rec == "c\nd"; inner && !allow {
					if !errors.Is(err, ErrNewline) {
						t.Fatalf("Write(%q) = %v; want ErrNewline", rec, err)
					}
				} else if err != nil {
					t.Fatalf("Write(%q) = %v", rec, err)
				}
			}
			flushAndClose(t, w)
			d.wait()
			want := "a\nb\n\n\n"
			if allow {
				want = "a\nb\nc\nd\n\n\n"
			}
			if got := string(bytes.Join(d.data(), nil)); got != want {
				t.Fatalf("stream %q; want %q", got, want)
			}
			if st := w.Stats(); st.DroppedNewline != uint64(map[bool]int{false: 1, true: 0}[allow]) {
				t.Fatalf("DroppedNewline = %d", st.DroppedNewline)
			}
		})
	}
}

// TestConfigMaxRecord: a record the daemon would truncate is refused and
// counted instead.
func TestConfigMaxRecord(t *testing.T) {
	w := mustOpen(t, Config{Path: sockPath(t), MaxRecord: 10, CloseTimeout: 10 * time.Millisecond})
	defer w.Close()
	if w.MaxRecord() != 10 {
		t.Fatalf("MaxRecord() = %d; want 10", w.MaxRecord())
	}
	if _, err := w.Write(make([]byte, 11)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write(11 bytes) = %v; want ErrTooLarge", err)
	}
	if _, err := w.Write(make([]byte, 10)); err != nil {
		t.Fatalf("Write(10 bytes) = %v", err)
	}
	if st := w.Stats(); st.DroppedTooLarge != 1 || st.Accepted != 1 {
		t.Fatalf("too large %d, accepted %d", st.DroppedTooLarge, st.Accepted)
	}
	w2 := mustOpen(t, Config{Path: sockPath(t), RingBytes: 1024, MaxRecord: 1 << 20, CloseTimeout: 10 * time.Millisecond})
	defer w2.Close()
	if w2.MaxRecord() != 1024/2-8 {
		t.Fatalf("MaxRecord() = %d; want it capped at %d", w2.MaxRecord(), 1024/2-8)
	}
}

// TestNewlineFramingRefusesNUL: a NUL ends a message at syslog-ng's stream
// reader as '\n' does, so with Newline framing Write refuses a record with
// one anywhere (ErrNUL, which wraps ErrNewline), counts it with the
// newlines, and AllowNewlines lets it through on purpose. Other framings
// carry any byte.
func TestNewlineFramingRefusesNUL(t *testing.T) {
	recs := []string{"a", "\x00", "b\x00", "\x00c", "d\x00e\n", "f\n"}
	for _, tc := range []struct {
		framing Framing
		allow   bool
		want    string
		refused uint64
	}{
		{Newline, false, "a\nf\n", 4},
		{Newline, true, "a\n\x00\nb\x00\n\x00c\nd\x00e\nf\n", 0},
		{Raw, false, strings.Join(recs, ""), 0},
	} {
		t.Run(fmt.Sprintf("%v/AllowNewlines=%v", tc.framing, tc.allow), func(t *testing.T) {
			path := sockPath(t)
			d := startDaemon(t, path)
			w := mustOpen(t, Config{Path: path, Framing: tc.framing, AllowNewlines: tc.allow})
			for _, rec := range recs {
				_, err := w.Write([]byte(rec))
				refuse := tc.framing == Newline && !tc.allow && strings.IndexByte(rec, 0) >= 0
				if refuse && (!errors.Is(err, ErrNUL) || !errors.Is(err, ErrNewline)) {
					t.Fatalf("Write(%q) = %v; want ErrNUL, wrapping ErrNewline", rec, err)
				}
				if !refuse && err != nil {
					t.Fatalf("Write(%q) = %v; want nil", rec, err)
				}
			}
			flushAndClose(t, w)
			d.wait()
			if got := string(bytes.Join(d.data(), nil)); got != tc.want {
				t.Fatalf("stream %q; want %q", got, tc.want)
			}
			if st := w.Stats(); st.DroppedNewline != tc.refused {
				t.Fatalf("DroppedNewline = %d; want %d", st.DroppedNewline, tc.refused)
			}
		})
	}
}

// TestPreloadedRecordsAreCheckedForLineBreaks: records the caller puts in
// Config.Offline never pass Write, and used to go out with Newline framing
// whatever they held, so a '\n' or a NUL in them split a message. They
// are checked as Write checks records: the broken ones are dropped and
// counted (DroppedUnsendable), the others sent in order.
func TestPreloadedRecordsAreCheckedForLineBreaks(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("AllowNewlines=%v", allow), func(t *testing.T) {
			path := sockPath(t)
			d := startDaemon(t, path)
			off := offline.New[[]byte](8)
			for _, r := range []string{"ok1", "bad\nforged", "nul\x00forged", "ok2\n", "\x00"} {
				off.Push([]byte(r))
			}
			w := mustOpen(t, Config{Path: path, Framing: Newline, AllowNewlines: allow, Offline: off})
			flushAndClose(t, w)
			d.wait()
			want, dropped := "ok1\nok2\n", uint64(3)
			if allow {
				want, dropped = "ok1\nbad\nforged\nnul\x00forged\nok2\n\x00\n", 0
			}
			if got := string(bytes.Join(d.data(), nil)); got != want {
				t.Fatalf("stream %q; want %q", got, want)
			}
			st := w.Stats()
			checkConservation(t, st)
			if st.Preloaded != 5 || st.DroppedUnsendable != dropped || st.Written != 5-dropped {
				t.Fatalf("preloaded %d, unsendable %d, written %d; want 5, %d, %d", st.Preloaded, st.DroppedUnsendable, st.Written, dropped, 5-dropped)
			}
		})
	}
}
