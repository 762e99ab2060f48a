//go:build unix

package uds

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

// Headers near the arena's per-record budget (128) and far above it: a
// batch stops early; bytes on the wire must still be exact.
func TestReviewBigHeadersArena(t *testing.T) {
	j, err := format.Journald(format.User|format.Info, format.Options{AppName: "app", ProcID: "7",
		Fields: []string{"BIG=" + strings.Repeat("v", 3000), "NL=a\nb"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := format.RFC5424(format.User|format.Info, format.Options{Hostname: strings.Repeat("h", 255), AppName: strings.Repeat("a", 48), ProcID: strings.Repeat("p", 128), MsgID: strings.Repeat("m", 32)})
	if err != nil {
		t.Fatal(err)
	}
	for name, inner := range map[string]Format{"journald": j, "5424": s} {
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
