//go:build unix

package uds

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
)

// BenchmarkSpill: the cost of Config.SpillDir on the producer's path.
// 128-byte records from 1, 4 and 16 producers into a Writer whose ring is
// on the heap (memory) or in a memory-mapped spill file (spill), in the
// same run, both waiting for room (WriteContext) so that both deliver
// every record to the fast embedded reader (delivered/op). The file is in
// a temp dir (tmpfs or disk: the producer stores into the page cache
// either way, and SpillSync is off).
func BenchmarkSpill(b *testing.B) {
	rec := make([]byte, 128)
	ctx := context.Background()
	for _, producers := range []int{1, 4, 16} {
		for _, impl := range []string{"memory", "spill"} {
			b.Run(fmt.Sprintf("impl=%s/producers=%d", impl, producers), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(rec)))
				path, received, stop := benchReader(b, false)
				defer stop()
				cfg := Config{Path: path, CloseTimeout: time.Second}
				if impl == "spill" {
					cfg.SpillDir = privateDir(b)
				}
				w, err := Open(cfg)
				if err != nil {
					b.Fatal(err)
				}
				waitConnected(b, w)
				w0 := w.Stats().Written
				before := received()
				baseline.TimedParallel(b, producers, func() bool { _, err := w.WriteContext(ctx, rec); return err == nil })
				fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				w.Flush(fctx)
				cancel()
				st := w.Stats()
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				reportDelivered(b, received, before, st.Written-w0, len(rec))
				b.ReportMetric(float64(st.DroppedFull)/float64(b.N), "dropped/op")
			})
		}
	}
}

// BenchmarkSpillOpen: the whole Open of a spill file left three quarters
// full of sealed 128-byte records (the backlog the daemon's absence
// leaves): mapping, faulting in and storing to every page, the recovery
// walk. Close is not timed. recovered/op is the records it found.
func BenchmarkSpillOpen(b *testing.B) {
	for _, mib := range []int{1, 64} {
		b.Run(fmt.Sprintf("ring=%dMiB", mib), func(b *testing.B) {
			b.ReportAllocs()
			cfg := Config{Path: sockPathB(b), Network: "unixgram", SpillDir: privateDir(b), RingBytes: mib << 20, CloseTimeout: time.Millisecond}
			w, err := Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			rec := make([]byte, 128)
			for range (mib << 20) * 3 / 4 / 144 {
				w.Write(rec)
			}
			w.Close()
			want := w.Stats().Pending
			b.ResetTimer()
			for range b.N {
				w, err := Open(cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if got := w.Stats().Recovered; got != want {
					b.Fatalf("recovered %d, want %d", got, want)
				}
				w.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(want), "recovered/op")
		})
	}
}
