package uds

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
)

// benchReader starts the embedded daemon, slow or fast.
func benchReader(b *testing.B, slow bool) (path string, received func() uint64, stop func()) {
	mode := baseline.Fast
	if slow {
		mode = baseline.Slow
	}
	r, err := baseline.StartReader(mode, nil)
	if err != nil {
		b.Fatal(err)
	}
	return r.Path, r.Bytes, r.Close
}

// BenchmarkWrite: per-Write latency of 128-byte records from 1, 4 and 16
// producers while the consumer drains into a live socket, next to a
// mutex-guarded direct socket write, with a fast and with a slow reader.
// ns/op is wall time per record over all producers; p99-ns etc. are per
// accepted call (refused calls, the drops, are timed apart:
// refused-p99.9-ns). delivered/op is the fraction of records the reader
// received, dropped/op the fraction the ring refused. uds.Writer drops
// when the ring is full; uds.Writer-wait waits for room (WriteContext), so
// it delivers everything, like the locked conn: compare those two at equal
// delivery.
func BenchmarkWrite(b *testing.B) {
	rec := make([]byte, 128)
	ctx := context.Background()
	for _, reader := range []string{"fast", "slow"} {
		for _, producers := range []int{1, 4, 16} {
			for _, impl := range []string{"uds.Writer", "uds.Writer-wait"} {
				b.Run(fmt.Sprintf("impl=%s/reader=%s/producers=%d", impl, reader, producers), func(b *testing.B) {
					b.ReportAllocs()
					if impl == "uds.Writer-wait" {
						b.SetBytes(int64(len(rec))) // MB/s is delivered only where everything is
					}
					path, received, stop := benchReader(b, reader == "slow")
					defer stop()
					w, err := Open(Config{Path: path, ErrorOnDrop: true, CloseTimeout: time.Second})
					if err != nil {
						b.Fatal(err)
					}
					waitConnected(b, w)
					w0 := w.Stats().Written // the empty records waitConnected sent
					before := received()
					write := func() bool { _, err := w.Write(rec); return err == nil }
					if impl == "uds.Writer-wait" {
						write = func() bool { _, err := w.WriteContext(ctx, rec); return err == nil }
					}
					baseline.TimedParallel(b, producers, write)
					fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					w.Flush(fctx)
					cancel()
					st := w.Stats()
					w.Close()
					reportDelivered(b, received, before, st.Written-w0, len(rec))
					b.ReportMetric(float64(st.DroppedFull)/float64(b.N), "dropped/op")
					// WriteTimeout waits that expired on a reader that did
					// not read: each holds every waiting call that long.
					b.ReportMetric(float64(st.Stalls), "stalls")
				})
			}
			b.Run(fmt.Sprintf("impl=locked-conn/reader=%s/producers=%d", reader, producers), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(rec)))
				path, received, stop := benchReader(b, reader == "slow")
				defer stop()
				c, err := net.Dial("unix", path)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				lw := baseline.NewLockedWriter(c)
				baseline.TimedParallel(b, producers, func() bool { _, err := lw.Write(rec); return err == nil })
				reportDelivered(b, received, 0, uint64(b.N), len(rec))
				b.ReportMetric(0, "dropped/op")
			})
		}
	}
}

// reportDelivered waits until the reader has the bytes of the written
// records, then reports the fraction of b.N it received. It fails the
// benchmark if they do not all arrive within 30 s: a partial figure would
// read as a loss.
func reportDelivered(b *testing.B, received func() uint64, before, written uint64, size int) {
	want := before + written*uint64(size)
	for deadline := time.Now().Add(30 * time.Second); received() < want; {
		if time.Now().After(deadline) {
			b.Fatalf("the reader got %d of %d bytes written", received()-before, want-before)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(received()-before)/float64(size)/float64(b.N), "delivered/op")
}

func waitConnected(b *testing.B, w *Writer) {
	deadline := time.Now().Add(5 * time.Second)
	for !w.Stats().Connected {
		if time.Now().After(deadline) {
			b.Fatal("writer did not connect")
		}
		w.Write(nil) // a zero-length record makes the consumer notice
		time.Sleep(time.Millisecond)
	}
	// The empty records are Written before the caller reads Stats: one
	// counted later would read as a record the reader never got.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEndToEnd: records/s from Write to the reader at saturation (a
// producer blocking with WriteContext, so nothing is dropped), against a
// raw single-goroutine writev loop sending the same records in batches of
// 64. records-per-writev is the consumer's batching at saturation.
func BenchmarkEndToEnd(b *testing.B) {
	const size = 128
	rec := make([]byte, size)
	b.Run("impl=uds.Writer", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		path, received, stop := benchReader(b, false)
		defer stop()
		w, err := Open(Config{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		waitConnected(b, w)
		base, baseWritevs := received(), w.Stats().Sends
		b.ResetTimer()
		for range b.N {
			if _, err := w.WriteContext(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		for received()-base < uint64(b.N*size) {
			time.Sleep(10 * time.Microsecond)
		}
		b.StopTimer()
		st := w.Stats()
		b.ReportMetric(float64(b.N)/float64(st.Sends-baseWritevs), "records/writev")
		w.Close()
	})
	b.Run("impl=raw-writev-64", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		path, received, stop := benchReader(b, false)
		defer stop()
		c, err := net.Dial("unix", path)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		bufs, scratch := make([][]byte, 64), make([][]byte, 64)
		for i := range bufs {
			bufs[i] = rec
		}
		b.ResetTimer()
		for sent := 0; sent < b.N; {
			n := min(64, b.N-sent)
			copy(scratch, bufs) // WriteTo consumes (nils) the slice it is given
			nb := net.Buffers(scratch[:n])
			if _, err := nb.WriteTo(c); err != nil {
				b.Fatal(err)
			}
			sent += n
		}
		for received() < uint64(b.N*size) {
			time.Sleep(10 * time.Microsecond)
		}
		b.StopTimer()
		b.ReportMetric(64, "records/writev")
	})
}
