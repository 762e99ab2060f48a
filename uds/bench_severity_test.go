package uds

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loov/hrtime"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/internal/hist"
	"github.com/ringsink/ringsink/uds/format"
)

// BenchmarkSeverityParse: what finding a record's severity costs the
// producer: Write's bounded <PRI> check (always on), and format.LevelField
// (Config.Level, opt-in) on the lines slog's JSON and text handlers, zap
// and zerolog write, and on a line with no level field (its worst case:
// it scans 256 bytes).
func BenchmarkSeverityParse(b *testing.B) {
	lines := []struct{ name, line string }{
		{"slog-json", `{"time":"2026-12-06T10:00:00.000000000Z","level":"WARN","msg":"disk almost full","path":"/var","free":1234}` + "\n"},
		{"slog-text", `time=2026-12-06T10:00:00.000Z level=WARN msg="disk almost full" path=/var free=1234` + "\n"},
		{"zap-json", `{"level":"warn","ts":1765015200.000,"caller":"app/disk.go:42","msg":"disk almost full","path":"/var","free":1234}` + "\n"},
		{"zerolog", `{"level":"warn","path":"/var","free":1234,"time":"2026-12-06T10:00:00Z","message":"disk almost full"}` + "\n"},
		{"no-level", `{"time":"2026-12-06T10:00:00.000000000Z","msg":"disk almost full","path":"/var/lib/something/long/enough/to/fill/the/window","free":1234,"more":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}` + "\n"},
	}
	var sink format.Priority
	for _, l := range lines {
		rec := []byte(l.line)
		b.Run("parse=pri/line="+l.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, _ := leadingPRI(rec)
				sink += s
			}
		})
		b.Run("parse=levelfield/line="+l.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, _ := format.LevelField(rec)
				sink += s
			}
		})
	}
	_ = sink
}

// BenchmarkWriteInfo: per-call latency of Info records from 1 and 4
// producers into a live socket (fast and slow reader), with the default
// admission (a reserve of RingBytes/8): Write of a record without a
// severity (Info, as BenchmarkWrite's uds.Writer), Write with a "<14>"
// prefix, and WriteSeverity(Info), without and with a Format of package
// format (which then gets a "<6>" prefix).
func BenchmarkWriteInfo(b *testing.B) {
	rec := make([]byte, 128)
	pri := append([]byte("<14>"), make([]byte, 124)...)
	f, err := format.RFC3164(format.User|format.Info, format.Options{AppName: "bench", ProcID: "-"})
	if err != nil {
		b.Fatal(err)
	}
	for _, reader := range []string{"fast", "slow"} {
		for _, producers := range []int{1, 4} {
			for _, call := range []string{"Write", "Write-pri", "WriteSeverity", "WriteSeverity-rfc3164"} {
				b.Run(fmt.Sprintf("call=%s/reader=%s/producers=%d", call, reader, producers), func(b *testing.B) {
					b.ReportAllocs()
					path, received, stop := benchReader(b, reader == "slow")
					defer stop()
					cfg := Config{Path: path, ErrorOnDrop: true, CloseTimeout: time.Second}
					if call == "WriteSeverity-rfc3164" {
						cfg.Format = f
					}
					w, err := Open(cfg)
					if err != nil {
						b.Fatal(err)
					}
					waitConnected(b, w)
					w0 := w.Stats().Written
					before := received()
					var write func() bool
					switch call {
					case "Write":
						write = func() bool { _, err := w.Write(rec); return err == nil }
					case "Write-pri":
						write = func() bool { _, err := w.Write(pri); return err == nil }
					default:
						write = func() bool { _, err := w.WriteSeverity(format.Info, rec); return err == nil }
					}
					baseline.TimedParallel(b, producers, write)
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					w.Flush(ctx)
					cancel()
					st := w.Stats()
					w.Close()
					if cfg.Format == nil {
						reportDelivered(b, received, before, st.Written-w0, len(rec))
					}
					b.ReportMetric(float64(st.DroppedFull)/float64(b.N), "dropped/op")
				})
			}
		}
	}
}

// BenchmarkWarningUnderOverload: the latency of a Warning WriteSeverity
// while Info records overload the ring: two goroutines write Info records
// without pause against the slow reader (4 KiB every 100 µs, about 32 000
// of these records a second; most Info records are refused at the
// reserve), and the timed goroutine writes Info records too and, every
// 32 µs by the clock, one Warning: Warnings at about a tenth of what the
// reader takes, the 1% of a tenfold overload. Reported: the
// Warning calls' p50/p99/p99.9/max, which must stay within Config.KeepWait
// (10 ms by default) if they wait at all, warning-dropped/op (must be 0)
// and the fraction of Info records refused.
func BenchmarkWarningUnderOverload(b *testing.B) {
	b.ReportAllocs()
	path, _, stop := benchReader(b, true)
	defer stop()
	w, err := Open(Config{Path: path, CloseTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	waitConnected(b, w)
	info := make([]byte, 128)
	warn := make([]byte, 128)
	var done atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for !done.Load() {
				w.WriteSeverity(format.Info, info)
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // the ring reaches its reserve
	nsPerTick := float64(hrtime.Count(1<<20).ApproxDuration()) / (1 << 20)
	h := hist.New()
	before := w.Stats()
	b.ResetTimer()
	const every = 32 * time.Microsecond
	next := time.Now()
	for b.Loop() {
		for next = next.Add(every); time.Now().Before(next); {
			w.WriteSeverity(format.Info, info)
		}
		t0 := hrtime.TSC()
		w.WriteSeverity(format.Warning, warn)
		h.Record(uint64(float64(hrtime.TSC()-t0) * nsPerTick))
	}
	b.StopTimer()
	done.Store(true)
	wg.Wait()
	st := w.Stats()
	b.ReportMetric(float64(h.Quantile(.5)), "p50-ns")
	b.ReportMetric(float64(h.Quantile(.99)), "p99-ns")
	b.ReportMetric(float64(h.Quantile(.999)), "p99.9-ns")
	b.ReportMetric(float64(h.Max()), "max-ns")
	b.ReportMetric(float64(st.DroppedBySeverity[format.Warning]-before.DroppedBySeverity[format.Warning])/float64(b.N), "warning-dropped/op")
	infoOffered := st.Accepted - before.Accepted + st.DroppedFull - before.DroppedFull
	b.ReportMetric(float64(st.DroppedBySeverity[format.Info]-before.DroppedBySeverity[format.Info])/float64(max(infoOffered, 1)), "info-refused-fraction")
}
