package benchmarks

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog/diode"
	"go.uber.org/zap/zapcore"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/uds"
	"github.com/ringsink/ringsink/uds/format"
)

// The severity overload (latbench's severity scenario, here against zap
// and zerolog): 4 producers offer JSON lines, paced at ten times what the
// slow reader takes (4 KiB per 100 µs), 1% of them at warning or above
// (every 100th line, error and warning in turn), the rest info. The reader
// counts the lines by their level field; per severity, what was offered,
// delivered (read) and dropped (offered - delivered).

const sevLineSize = 128

// sevLevels are indexed by baseline.SevOf's result: err, warning, info.
var sevLevels = []struct {
	sev   format.Priority
	name  string
	level string
}{{format.Err, "err", "error"}, {format.Warning, "warning", "warn"}, {format.Info, "info", "info"}}

// sevLine is a JSON line at level, sevLineSize bytes with its '\n'.
func sevLine(level string) []byte {
	return append(baseline.SevLine(level, sevLineSize-1), '\n')
}

// sevReadRate is what the slow reader takes, in lines per second.
func sevReadRate() float64 {
	return float64(baseline.SlowChunk) / baseline.SlowPace.Seconds() / sevLineSize
}

// sevWriter is one writer under the overload: write offers a line of a
// severity and reports whether it was accepted (false: refused).
type sevWriter struct {
	name string
	open func(tb testing.TB, path string) (write func(sev format.Priority, line []byte) bool, closeFn func())
}

func sevWriters() []sevWriter {
	return []sevWriter{
		{"ringsink-uds-severity", func(tb testing.TB, path string) (func(format.Priority, []byte) bool, func()) {
			w := openUDS(tb, path)
			return func(sev format.Priority, line []byte) bool { _, err := w.WriteSeverity(sev, line); return err == nil }, func() { w.Close() }
		}},
		{"ringsink-uds", func(tb testing.TB, path string) (func(format.Priority, []byte) bool, func()) {
			w := openUDS(tb, path)
			return func(_ format.Priority, line []byte) bool { _, err := w.Write(line); return err == nil }, func() { w.Close() }
		}},
		{"zap-buffered", func(tb testing.TB, path string) (func(format.Priority, []byte) bool, func()) {
			c := dial(tb, path)
			ws := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(c), Size: 256 << 10, FlushInterval: time.Second}
			return func(_ format.Priority, line []byte) bool { _, err := ws.Write(line); return err == nil }, func() { ws.Stop(); c.Close() }
		}},
		{"zerolog-diode", func(tb testing.TB, path string) (func(format.Priority, []byte) bool, func()) {
			c := dial(tb, path)
			w := diode.NewWriter(c, 1<<14, 0, func(int) {})
			return func(_ format.Priority, line []byte) bool { _, err := w.Write(line); return err == nil }, func() { w.Close(); c.Close() }
		}},
	}
}

func openUDS(tb testing.TB, path string) *uds.Writer {
	w, err := uds.Open(uds.Config{Path: path, Framing: uds.Newline, ErrorOnDrop: true})
	if err != nil {
		tb.Fatal(err)
	}
	waitConnected(tb, w)
	return w
}

// sevCounter counts the lines a reader receives by severity.
type sevCounter struct {
	mu    sync.Mutex
	part  []byte
	count [4]uint64 // sevLevels' order, then other
	total atomic.Uint64
}

func (s *sevCounter) onData(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.part = append(s.part, b...)
	p := s.part
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		k := len(sevLevels)
		if sev, ok := format.LevelField(p[:i]); ok {
			for j, l := range sevLevels {
				if l.sev == sev {
					k = j
				}
			}
		}
		s.count[k]++
		s.total.Add(1)
		p = p[i+1:]
	}
	s.part = append(s.part[:0], p...)
}

// sevResult is one run's lines by severity, and how fast they were
// offered.
type sevResult struct {
	offered, delivered, refused [3]uint64
	other                       uint64  // lines without a known level
	offerRate                   float64 // lines offered per second
}

// runOverload offers n lines from baseline.SevProducers goroutines, paced at
// baseline.SevOverload times the reader's rate (a producer behind schedule offers
// at once: a writer that blocks slows the offer down), closes the writer
// and waits until the reader has had every line it will get.
func runOverload(tb testing.TB, sw sevWriter, n int) sevResult {
	counter := &sevCounter{}
	r, err := baseline.StartReader(baseline.Slow, counter.onData)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	write, closeFn := sw.open(tb, r.Path)
	lines := make([][]byte, len(sevLevels))
	for i, l := range sevLevels {
		lines[i] = sevLine(l.level)
	}
	var res sevResult
	var offered, refused [3]atomic.Uint64
	period := time.Duration(float64(time.Second) * baseline.SevProducers / (baseline.SevOverload * sevReadRate()))
	var wg sync.WaitGroup
	start := time.Now()
	for p := range baseline.SevProducers {
		wg.Go(func() {
			for i := range uint64(n / baseline.SevProducers) {
				if wait := time.Until(start.Add(time.Duration(i) * period)); wait > 100*time.Microsecond {
					time.Sleep(wait - 100*time.Microsecond)
				}
				k := baseline.SevOf(i + uint64(p)*50) // the producers' err and warning lines interleave
				offered[k].Add(1)
				if !write(sevLevels[k].sev, lines[k]) {
					refused[k].Add(1)
				}
			}
		})
	}
	wg.Wait()
	res.offerRate = float64(n/baseline.SevProducers*baseline.SevProducers) / time.Since(start).Seconds()
	closeFn()
	// The reader has every line it will get once its count stops moving.
	last, still := counter.total.Load(), time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Since(still) < 100*time.Millisecond && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		if now := counter.total.Load(); now != last {
			last, still = now, time.Now()
		}
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	for k := range sevLevels {
		res.offered[k], res.refused[k], res.delivered[k] = offered[k].Load(), refused[k].Load(), counter.count[k]
	}
	res.other = counter.count[len(sevLevels)]
	return res
}

// BenchmarkSeverityOverload runs the overload with b.N lines per writer
// and reports, per severity, the fraction of the offered lines delivered
// (err-delivered/offered, ...) and dropped (err-dropped/offered, ...; a
// writer that cannot refuse, zap's, blocks its producers instead), and
// offered-x-read: the rate the lines were offered at over the reader's
// (10 when the writer keeps the producers on schedule, about 1 when it
// makes them wait for the reader). ringsink-uds-severity writes with
// WriteSeverity, ringsink-uds with Write.
func BenchmarkSeverityOverload(b *testing.B) {
	for _, sw := range sevWriters() {
		b.Run("writer="+sw.name+fmt.Sprintf("/producers=%d", baseline.SevProducers), func(b *testing.B) {
			b.ReportAllocs()
			n := max(b.N, 200*baseline.SevProducers)
			res := runOverload(b, sw, n)
			for k, l := range sevLevels {
				off := float64(max(res.offered[k], 1))
				b.ReportMetric(float64(res.delivered[k])/off, l.name+"-delivered/offered")
				b.ReportMetric(float64(res.offered[k]-min(res.delivered[k], res.offered[k]))/off, l.name+"-dropped/offered")
			}
			b.ReportMetric(res.offerRate/sevReadRate(), "offered-x-read")
		})
	}
}

// TestSeverityOverloadAccountsEveryLine: a short overload through every
// writer; each line offered is delivered or dropped, the reader reads only
// lines offered, 1% of them at warning or above, and zap's writer, which
// cannot refuse, delivers every line.
func TestSeverityOverloadAccountsEveryLine(t *testing.T) {
	const n = 20_000
	for _, sw := range sevWriters() {
		t.Run(sw.name, func(t *testing.T) {
			res := runOverload(t, sw, n)
			var offered, high uint64
			for k, l := range sevLevels {
				if res.delivered[k] > res.offered[k] || res.refused[k] > res.offered[k]-res.delivered[k] {
					t.Errorf("%s: offered %d, delivered %d, refused %d", l.name, res.offered[k], res.delivered[k], res.refused[k])
				}
				offered += res.offered[k]
				if k < 2 {
					high += res.offered[k]
				}
			}
			if offered != n || high != n/100 {
				t.Errorf("offered %d lines, %d at warning or above; want %d, %d", offered, high, n, n/100)
			}
			if res.other != 0 {
				t.Errorf("the reader got %d lines without a known level", res.other)
			}
			if sw.name == "zap-buffered" && res.delivered != res.offered {
				t.Errorf("zap delivered %v of %v", res.delivered, res.offered)
			}
			t.Logf("offered at %.1fx the reader's rate; offered %v, delivered %v, refused %v (err, warning, info)",
				res.offerRate/sevReadRate(), res.offered, res.delivered, res.refused)
		})
	}
}
