package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ringsink/ringsink/internal/baseline"
)

// lineReader starts the embedded daemon counting the lines it receives.
func lineReader(b *testing.B) (r *baseline.Reader, lines *atomic.Uint64) {
	lines = new(atomic.Uint64)
	r, err := baseline.StartReader(baseline.Fast, func(p []byte) { lines.Add(uint64(bytes.Count(p, []byte{'\n'}))) })
	if err != nil {
		b.Fatal(err)
	}
	return r, lines
}

// reportLines waits for every line the writer did not drop (its own drop
// count, when it has one), then reports delivered/op and dropped/op per
// line offered (want). It fails the benchmark if they do not arrive within
// 30 s, rather than report a partial figure as a loss.
func reportLines(b *testing.B, lines *atomic.Uint64, want uint64, dropped func() uint64) {
	var d uint64
	if dropped != nil {
		d = dropped()
	}
	for deadline := time.Now().Add(30 * time.Second); lines.Load()+d < want; {
		if time.Now().After(deadline) {
			b.Fatalf("the reader got %d lines, the writer dropped %d, of %d", lines.Load(), d, want)
		}
		time.Sleep(time.Millisecond)
	}
	got := lines.Load()
	b.ReportMetric(float64(got)/float64(want), "delivered/op")
	b.ReportMetric(float64(want-min(got, want))/float64(want), "dropped/op")
}

// logger builds one structured-logging call over w.
type logger struct {
	name   string
	usual  string // the writer this logger is usually given
	newLog func(w io.Writer) func()
}

var loggers = []logger{
	{"slog", "locked-conn", func(w io.Writer) func() {
		l := slog.New(slog.NewJSONHandler(w, nil))
		return func() {
			l.LogAttrs(context.Background(), slog.LevelInfo, "payment", slog.Int("order", 42), slog.String("user", "ann"))
		}
	}},
	{"zap", "zap-buffered", func(w io.Writer) func() {
		l := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(w), zap.InfoLevel))
		return func() { l.Info("payment", zap.Int("order", 42), zap.String("user", "ann")) }
	}},
	{"zerolog", "zerolog-diode", func(w io.Writer) func() {
		l := zerolog.New(w)
		return func() { l.Info().Int("order", 42).Str("user", "ann").Msg("payment") }
	}},
}

// BenchmarkLogger: slog, zap and zerolog logging one structured line per
// op from 4 goroutines, through ringsink's uds.Writer and through the writer
// each is usually given (slog: the socket itself, its handler holds a
// mutex; zap: BufferedWriteSyncer; zerolog: diode.Writer). delivered/op and
// dropped/op say what reached the daemon: ringsink-uds drops when its ring
// is full (and zerolog-diode overwrites), so compare their ns/op only with
// those beside them; ringsink-uds-wait waits for room instead and delivers
// every line, like zap-buffered and locked-conn: that is the comparison at
// equal delivery. A logger cannot tell its caller a line was dropped, so
// the latency of the dropping writers (ringsink-uds, zerolog-diode) is of
// every call, drops included: read it beside dropped/op.
func BenchmarkLogger(b *testing.B) {
	const producers = 4
	writers := map[string]socketWriter{}
	for _, sw := range socketWriters() {
		writers[sw.name] = sw
	}
	for _, lg := range loggers {
		for _, wname := range []string{"ringsink-uds", "ringsink-uds-wait", lg.usual} {
			b.Run(fmt.Sprintf("logger=%s/writer=%s/producers=%d", lg.name, wname, producers), func(b *testing.B) {
				b.ReportAllocs()
				r, lines := lineReader(b)
				defer r.Close()
				w, closeFn, dropped := writers[wname].open(b, r.Path)
				logOne := lg.newLog(w)
				baseline.TimedParallel(b, producers, func() bool { logOne(); return true })
				closeFn()
				reportLines(b, lines, uint64(b.N), dropped)
			})
		}
	}
}

// BenchmarkRequest: what logging costs a request. 1, 4 and 16 goroutines
// serve requests (about 5 µs of CPU work each) that log two zap lines,
// through each writer, and without logging. p50-ns to max-ns are per
// request, every request (a request whose line was dropped was still
// served); ns/op is wall time per request over all goroutines;
// delivered/op and dropped/op are per line.
func BenchmarkRequest(b *testing.B) {
	const linesPerRequest = 2
	writers := map[string]socketWriter{}
	for _, sw := range socketWriters() {
		writers[sw.name] = sw
	}
	for _, producers := range []int{1, 4, 16} {
		for _, wname := range []string{"none", "ringsink-uds", "ringsink-uds-wait", "locked-conn", "zap-buffered", "zerolog-diode"} {
			b.Run(fmt.Sprintf("writer=%s/producers=%d", wname, producers), func(b *testing.B) {
				b.ReportAllocs()
				var logLine func()
				var state atomic.Uint64
				var finish func()
				if wname != "none" {
					r, lines := lineReader(b)
					defer r.Close()
					w, closeFn, dropped := writers[wname].open(b, r.Path)
					logLine = loggers[1].newLog(w) // zap: its core takes no lock of its own
					finish = func() { closeFn(); reportLines(b, lines, linesPerRequest*uint64(b.N), dropped) }
				}
				baseline.TimedParallel(b, producers, func() bool {
					s := state.Load()
					for range linesPerRequest {
						s = baseline.RequestWork(s)
						if logLine != nil {
							logLine()
						}
					}
					state.Store(s)
					return true
				})
				if finish != nil {
					finish()
				} else {
					b.ReportMetric(0, "delivered/op")
					b.ReportMetric(0, "dropped/op")
				}
			})
		}
	}
}
