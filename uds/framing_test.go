package uds

import (
	"bytes"
	"context"
	"fmt"
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
