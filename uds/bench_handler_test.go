package uds

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// lockedDiscard is a mutex-guarded io.Discard: the cheapest destination a
// slog handler can have, so the baseline is formatting alone.
type lockedDiscard struct{ mu sync.Mutex }

func (l *lockedDiscard) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(p), nil
}

// BenchmarkHandlerHandle: one Handle call of a record with three
// attributes, formatted as JSON. impl=uds.Handler is NewHandler on a
// Writer draining into the embedded reader (pooled buffer, the level as
// severity); impl=slog.JSONHandler-uds.Writer is slog's JSON handler
// writing straight to the same Writer (no severity); the baseline,
// impl=slog.JSONHandler-locked-discard, is slog's JSON handler writing to
// a mutex-guarded discard. producers=1 calls from one goroutine,
// producers=parallel from GOMAXPROCS goroutines (RunParallel).
func BenchmarkHandlerHandle(b *testing.B) {
	ctx := context.Background()
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request done", 0)
	r.AddAttrs(slog.String("path", "/api/v1/items"), slog.Int("status", 200), slog.Duration("dur", 1500*time.Microsecond))
	for _, producers := range []string{"1", "parallel"} {
		for _, impl := range []string{"uds.Handler", "slog.JSONHandler-uds.Writer", "slog.JSONHandler-locked-discard"} {
			b.Run(fmt.Sprintf("impl=%s/producers=%s", impl, producers), func(b *testing.B) {
				b.ReportAllocs()
				var h slog.Handler
				var w *Writer
				if impl == "slog.JSONHandler-locked-discard" {
					h = slog.NewJSONHandler(&lockedDiscard{}, nil)
				} else {
					path, _, stop := benchReader(b, false)
					defer stop()
					var err error
					if w, err = Open(Config{Path: path, CloseTimeout: time.Second}); err != nil {
						b.Fatal(err)
					}
					defer w.Close()
					waitConnected(b, w)
					h = NewHandler(w, nil)
					if impl == "slog.JSONHandler-uds.Writer" {
						h = slog.NewJSONHandler(io.Writer(w), nil)
					}
				}
				var before Stats
				if w != nil {
					before = w.Stats()
				}
				b.ResetTimer()
				if producers == "1" {
					for b.Loop() {
						h.Handle(ctx, r)
					}
				} else {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							h.Handle(ctx, r)
						}
					})
				}
				b.StopTimer()
				if w != nil {
					st := w.Stats()
					b.ReportMetric(float64(st.DroppedFull-before.DroppedFull)/float64(b.N), "dropped/op")
				}
			})
		}
	}
}
