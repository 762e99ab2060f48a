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
// call. drops/op is the fraction of Writes dropped because the ring was full.
func BenchmarkWrite(b *testing.B) {
	rec := make([]byte, 128)
	for _, reader := range []string{"fast", "slow"} {
		for _, producers := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("impl=uds.Writer/reader=%s/producers=%d", reader, producers), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(rec)))
				path, _, stop := benchReader(b, reader == "slow")
				defer stop()
				w, err := Open(Config{Path: path, CloseTimeout: 100 * time.Millisecond})
				if err != nil {
					b.Fatal(err)
				}
				waitConnected(b, w)
				baseline.TimedParallel(b, producers, func() { w.Write(rec) })
				st := w.Stats()
				b.ReportMetric(float64(st.DroppedFull)/float64(b.N), "drops/op")
				w.Close()
			})
			b.Run(fmt.Sprintf("impl=locked-conn/reader=%s/producers=%d", reader, producers), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(rec)))
				path, _, stop := benchReader(b, reader == "slow")
				defer stop()
				c, err := net.Dial("unix", path)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				lw := baseline.NewLockedWriter(c)
				baseline.TimedParallel(b, producers, func() { lw.Write(rec) })
				b.ReportMetric(0, "drops/op")
			})
		}
	}
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
		base, baseWritevs := received(), w.Stats().Writevs
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
		b.ReportMetric(float64(b.N)/float64(st.Writevs-baseWritevs), "records/writev")
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
