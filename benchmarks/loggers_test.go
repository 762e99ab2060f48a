package benchmarks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ringsink/ringsink/internal/baseline"
)

// BenchmarkLogger: slog, zap and zerolog logging one structured line per
// op from 4 goroutines, through ringsink's uds.Writer and through the writer
// each is usually given (slog: the socket itself, its handler holds a
// mutex; zap: BufferedWriteSyncer; zerolog: diode.Writer).
func BenchmarkLogger(b *testing.B) {
	const producers = 4
	writers := map[string]socketWriter{}
	for _, sw := range socketWriters() {
		writers[sw.name] = sw
	}
	type logger struct {
		name   string
		usual  string
		newLog func(w io.Writer) func()
	}
	loggers := []logger{
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
	for _, lg := range loggers {
		for _, wname := range []string{"ringsink-uds", lg.usual} {
			b.Run(fmt.Sprintf("logger=%s/writer=%s/producers=%d", lg.name, wname, producers), func(b *testing.B) {
				b.ReportAllocs()
				r, err := baseline.StartReader(baseline.Fast, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				w, closeFn, _ := writers[wname].open(b, r.Path)
				logOne := lg.newLog(w)
				baseline.TimedParallel(b, producers, logOne)
				closeFn()
			})
		}
	}
}
