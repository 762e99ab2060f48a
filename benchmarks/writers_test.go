package benchmarks

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog/diode"
	"go.uber.org/zap/zapcore"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/uds"
)

func init() {
	// go-diodes logs "set collision" through the log package when several
	// producers race; the loss it means is reported as lost/op instead.
	log.SetOutput(io.Discard)
}

// socketWriter is one way to write records to the daemon's socket.
type socketWriter struct {
	name string
	// open returns the writer, a function that flushes and closes it, and
	// how many records it admits it dropped (nil when it cannot drop).
	open func(tb testing.TB, path string) (w io.Writer, closeFn func(), dropped func() uint64)
}

func dial(tb testing.TB, path string) net.Conn {
	c, err := net.Dial("unix", path)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func socketWriters() []socketWriter {
	return []socketWriter{
		{"ringsink-uds", func(tb testing.TB, path string) (io.Writer, func(), func() uint64) {
			w, err := uds.Open(uds.Config{Path: path})
			if err != nil {
				tb.Fatal(err)
			}
			waitConnected(tb, w)
			return w, func() { w.Shutdown(context.Background()) }, func() uint64 { return w.Stats().DroppedFull }
		}},
		{"ringsink-uds-wait", func(tb testing.TB, path string) (io.Writer, func(), func() uint64) {
			w, err := uds.Open(uds.Config{Path: path})
			if err != nil {
				tb.Fatal(err)
			}
			waitConnected(tb, w)
			return waitWriter{w}, func() { w.Shutdown(context.Background()) }, func() uint64 { return w.Stats().DroppedFull }
		}},
		{"zap-buffered", func(tb testing.TB, path string) (io.Writer, func(), func() uint64) {
			c := dial(tb, path)
			ws := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(c), Size: 256 << 10, FlushInterval: time.Second}
			return ws, func() { ws.Stop(); c.Close() }, nil
		}},
		{"zerolog-diode", func(tb testing.TB, path string) (io.Writer, func(), func() uint64) {
			c := dial(tb, path)
			var missed uint64
			w := diode.NewWriter(c, 1<<14, 0, func(n int) { missed += uint64(n) }) // alerter runs on the diode's reader goroutine
			return w, func() { w.Close() }, func() uint64 { return missed }
		}},
		{"locked-conn", func(tb testing.TB, path string) (io.Writer, func(), func() uint64) {
			c := dial(tb, path)
			return baseline.NewLockedWriter(c), func() { c.Close() }, nil
		}},
	}
}

// waitConnected waits up to 5 s for w's first connection.
func waitConnected(tb testing.TB, w *uds.Writer) {
	for deadline := time.Now().Add(5 * time.Second); !w.Stats().Connected; {
		if time.Now().After(deadline) {
			tb.Fatalf("the writer did not connect: %v", w.LastError())
		}
		time.Sleep(time.Millisecond)
	}
}

// waitWriter writes through uds.Writer.WriteContext: it waits for room
// instead of dropping, so it delivers every record.
type waitWriter struct{ w *uds.Writer }

func (ww waitWriter) Write(p []byte) (int, error) { return ww.w.WriteContext(context.Background(), p) }

// BenchmarkSocketWriter: 128-byte records from 1, 4 and 16 producers into
// each writer, all writing to the same kind of embedded reader. ns/op is
// wall time per record; p99-ns etc. are per Write call.
func BenchmarkSocketWriter(b *testing.B) {
	rec := make([]byte, 128)
	rec[127] = '\n'
	for _, producers := range []int{1, 4, 16} {
		for _, sw := range socketWriters() {
			b.Run(fmt.Sprintf("impl=%s/producers=%d", sw.name, producers), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(rec)))
				r, lines := lineReader(b)
				defer r.Close()
				w, closeFn, dropped := sw.open(b, r.Path)
				baseline.TimedParallel(b, producers, func() bool { _, err := w.Write(rec); return err == nil })
				closeFn()
				reportLines(b, lines, uint64(b.N), dropped)
			})
		}
	}
}
