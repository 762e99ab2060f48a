//go:build unix

package uds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/syslog"
	"testing"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

// fixedStamp wraps a Format so that every batch carries the same stamp (or,
// with count, a new one per batch: "T0001", "T0002", ...), which lets a
// test compute the bytes on the wire.
type fixedStamp struct {
	format.Format
	count bool
	n     int
}

var stampTime = time.Date(2026, 11, 9, 7, 5, 3, 123456000, time.UTC)

func (f *fixedStamp) AppendStamp(dst []byte, _ time.Time) []byte {
	if f.count {
		f.n++
		return fmt.Appendf(dst, "T%04d", f.n)
	}
	return f.Format.AppendStamp(dst, stampTime)
}

// framed renders rec as f sends it, with stamp.
func framed(f format.Format, rec, stamp []byte) []byte {
	hdr, body, trailer := f.Frame(nil, rec, stamp)
	return append(append(hdr, body...), trailer...)
}

func formats(t *testing.T) map[string]format.Format {
	t.Helper()
	s, err := format.RFC5424(format.User|format.Info, format.Options{Hostname: "h", AppName: "app", ProcID: "7", Level: format.LevelField})
	if err != nil {
		t.Fatal(err)
	}
	j, err := format.Journald(format.Local0|format.Notice, format.Options{AppName: "app", ProcID: "7", Fields: []string{"ROLE=test"}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]format.Format{"rfc5424": &fixedStamp{Format: s}, "journald": &fixedStamp{Format: j}}
}

// TestFormatOnEverySocket: the consumer frames every record with the
// Format, on every socket type and stream framing, over batches larger than
// one system call takes: each record arrives as the format renders it, in
// order, byte for byte (empty records included: a header makes them
// sendable on seqpacket), and Stats count the bytes on the wire.
func TestFormatOnEverySocket(t *testing.T) {
	const n = 3000
	for fname, f := range formats(t) {
		stamp := f.AppendStamp(nil, time.Time{})
		var want [][]byte
		wireBytes := 0
		for i := range n {
			want = append(want, framed(f, numbered(i), stamp))
		}
		for _, tc := range []struct {
			network string
			framing Framing
		}{{"unixgram", Raw}, {"unixpacket", Raw}, {"unix", Raw}, {"unix", Newline}, {"unix", LengthPrefix}} {
			t.Run(fname+"/"+tc.network+"/"+tc.framing.String(), func(t *testing.T) {
				path := sockPath(t)
				var got [][]byte
				var d *msgDaemon
				var stream <-chan []byte
				if tc.network == "unix" {
					stream = readOne(listen(t, path))
				} else {
					d = startMsgDaemon(t, tc.network, path, false)
				}
				w := mustOpen(t, Config{Path: path, Framing: tc.framing, Format: f})
				for i := range n {
					if err := writeAll(w, numbered(i)); err != nil {
						t.Fatal(err)
					}
				}
				flushAndClose(t, w)
				wireBytes = 0
				switch {
				case d != nil:
					waitFor(t, "every message", 10*time.Second, func() bool { return len(d.got()) >= n })
					got = d.got()
					for _, m := range got {
						wireBytes += len(m)
					}
				default:
					b := <-stream
					wireBytes = len(b)
					switch tc.framing {
					case Raw:
						if !bytes.Equal(b, bytes.Join(want, nil)) {
							t.Fatal("raw stream differs from the formatted records")
						}
						got = want
					case Newline:
						got = bytes.SplitAfter(b, []byte{'\n'})
						if tail := got[len(got)-1]; len(tail) == 0 {
							got = got[:len(got)-1]
						}
						for i := range got {
							got[i] = bytes.TrimSuffix(got[i], []byte{'\n'})
						}
						if fname == "journald" {
							// Binary MESSAGE fields hold newlines, and every
							// frame ends with one: no newline is added.
							got = want
							if !bytes.Equal(b, bytes.Join(want, nil)) {
								t.Fatal("newline stream differs from the formatted records")
							}
						}
					case LengthPrefix:
						var torn int
						got, torn = frames(b)
						if torn != 0 {
							t.Fatalf("%d bytes of a torn frame", torn)
						}
					}
				}
				if len(got) != n {
					t.Fatalf("got %d records; want %d", len(got), n)
				}
				for i := range got {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("record %d = %q; want %q", i, got[i], want[i])
					}
				}
				st := w.Stats()
				checkConservation(t, st)
				if st.Written != n || st.WrittenBytes != uint64(wireBytes) {
					t.Fatalf("written %d (want %d), bytes %d (want %d)", st.Written, n, st.WrittenBytes, wireBytes)
				}
			})
		}
	}
}

// A record torn by a timed-out write and continued later must keep the
// stamp its start carried, or the daemon reads the front of one header
// spliced to the back of another:
// TestTornRecordContinuedExactlyEveryFramingAndFormat (torn_test.go) checks
// it for every framing and format, with a stamp that changes at every
// batch.

// TestFormatShrinksTheDatagramLimit: on a message socket Write refuses a
// record that would not fit once the largest header is added, and the
// largest record it accepts is sent whole.
func TestFormatShrinksTheDatagramLimit(t *testing.T) {
	path := sockPath(t)
	d := startMsgDaemon(t, "unixgram", path, false)
	f := formats(t)["rfc5424"]
	plain := mustOpen(t, Config{Path: path, SendBuffer: 8192})
	limit := plain.MaxRecord()
	flushAndClose(t, plain)
	w := mustOpen(t, Config{Path: path, SendBuffer: 8192, Format: f})
	if got, want := w.MaxRecord(), limit-f.MaxOverhead(); got != want || want <= 0 {
		t.Fatalf("MaxRecord = %d; want %d (the plain limit %d less the format's %d)", got, want, limit, f.MaxOverhead())
	}
	if _, err := w.Write(make([]byte, w.MaxRecord()+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a record one byte over the limit: %v; want ErrTooLarge", err)
	}
	big := bytes.Repeat([]byte{'y'}, w.MaxRecord())
	if err := writeAll(w, big); err != nil {
		t.Fatal(err)
	}
	flushAndClose(t, w)
	waitFor(t, "the message", 5*time.Second, func() bool { return len(d.got()) == 1 })
	if st := w.Stats(); st.Written != 1 || st.DroppedUnsendable != 0 || !bytes.Equal(d.got()[0], framed(f, big, f.AppendStamp(nil, time.Time{}))) {
		t.Fatalf("the largest record was not sent whole: %+v", st)
	}
}

// TestFormatAllocatesNothing: the consumer's formatted sends allocate
// nothing once the connection is set up, on a stream and a datagram socket.
func TestFormatAllocatesNothing(t *testing.T) {
	f := formats(t)["rfc5424"]
	recs := make([][]byte, 2000)
	for i := range recs {
		recs[i] = numbered(i)
	}
	for _, network := range []string{"unixgram", "unix"} {
		path := sockPath(t)
		if network == "unix" {
			readOne(listen(t, path))
		} else {
			discardDatagrams(t, path) // a reader that allocates nothing: AllocsPerRun counts every goroutine
		}
		c, err := dialConn(context.Background(), path, LengthPrefix, 5*time.Second, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		c.SetFormat(f)
		if n, err := c.WriteRecords(recs); err != nil || n != len(recs) { // warm-up: sendmmsg headers
			t.Fatal(n, err)
		}
		if a := testing.AllocsPerRun(20, func() {
			if n, err := c.WriteRecords(recs[:100]); err != nil || n != 100 {
				t.Fatal(n, err)
			}
		}); a != 0 && (network != "unix" || writevAllocFree) {
			t.Errorf("%s: %v allocations per WriteRecords", network, a)
		}
		c.Close()
	}
}

// discardDatagrams reads and discards datagrams at path until the test ends.
func discardDatagrams(t *testing.T, path string) {
	_, stop := dgramReader(t, path)
	t.Cleanup(stop)
}

// TestRFC3164MatchesLogSyslog: the RFC 3164 format sends what the standard
// library's log/syslog sends to a local socket, byte for byte but for the
// timestamp's value and the trailing newline log/syslog adds (daemons cut
// it).
func TestRFC3164MatchesLogSyslog(t *testing.T) {
	path := sockPath(t)
	d := startMsgDaemon(t, "unixgram", path, false)
	lw, err := syslog.Dial("unixgram", path, syslog.LOG_LOCAL3|syslog.LOG_WARNING, "app")
	if err != nil {
		t.Fatal(err)
	}
	f, err := format.RFC3164(format.Local3|format.Warning, format.Options{AppName: "app"})
	if err != nil {
		t.Fatal(err)
	}
	w := mustOpen(t, Config{Path: path, Format: f})
	recs := []string{"plain", "ends with newline\n", "inner\nnewline", ""}
	for _, r := range recs {
		if _, err := lw.Write([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	lw.Close()
	for _, r := range recs {
		if err := writeAll(w, []byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	flushAndClose(t, w)
	waitFor(t, "every message", 5*time.Second, func() bool { return len(d.got()) == 2*len(recs) })
	got := d.got()
	stamp := func(m []byte) []byte { // "<28>Nov 29 19:01:06 app[..." -> "<28>STAMP app[..."
		i := bytes.IndexByte(m, '>')
		return append(append(bytes.Clone(m[:i+1]), "STAMP"...), m[i+1+len(time.Stamp):]...)
	}
	for i := range recs {
		std, ours := stamp(got[i]), stamp(got[len(recs)+i])
		if !bytes.Equal(bytes.TrimSuffix(std, []byte{'\n'}), ours) {
			t.Errorf("record %q:\nlog/syslog %q\nformat     %q", recs[i], std, ours)
		}
	}
}
