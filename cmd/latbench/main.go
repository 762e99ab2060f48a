// Command latbench measures per-record latency histograms (p50 to p99.9 and
// max) and throughput of ringsink's rings, sink and Unix-socket writer, each
// next to the baseline a Go programmer would otherwise write (a buffered
// channel, a mutex-guarded socket write), in the same run, and what logging
// adds to a request.
//
// It needs no setup: the writer scenarios start an embedded reader process
// on a Unix socket in a temporary directory. With no flags it runs every
// scenario in about two minutes and prints a summary that fits 100
// columns: per scenario, producer count, load and implementation, the
// records delivered per second, the fraction lost (refused, dropped or
// evicted), the p50 and p99.9 of the accepted calls only, and the headline
// ratio against the baseline with its spread over interleaved rounds.
// Closed-loop rows compare delivered records/s under overload; open-loop
// rows compare latency at a rate both implementations sustain, and only
// when both delivered at least 99.9%; the request scenario gives the p99.9
// that logging two lines adds to a ~5 µs request. The ring scenarios (spsc,
// mpsc, bytering) retry a refused push after a yield, as the rings'
// documentation asks, against a blocking channel send, so neither side
// loses a value; they time one push in 17, since the clock reads cost more
// than a push.
// The severity scenario offers lines at ten times what a slow daemon
// reads, 1% at warning or above, through WriteSeverity and plain Write,
// and prints per severity the lines offered, delivered and dropped.
//
//	go run ./cmd/latbench
//	go run ./cmd/latbench -scenarios spsc,mpsc -producers 1,4 -dur 1s -rounds 5
//	go run ./cmd/latbench -full            # every round, percentile and refused call
//	go run ./cmd/latbench -json > out.json
//	go run ./cmd/latbench -svg docs/latency.svg
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
)

type options struct {
	producers []int
	size      int
	dur       time.Duration
	open      []float64 // open-loop rates as fractions of measured saturation
	rounds    int       // interleaved rounds of every group
	jsonOut   bool
	full      bool
	svg       string
}

// scenario is a named group of implementations measured side by side; the
// first implementation is ringsink's, the last the baseline.
type scenario struct {
	name  string
	impls func(o options) []impl
	// producers overrides -producers (spsc has exactly one producer).
	producers []int
	// open adds open-loop rows at the -open rates. The rings are closed loop
	// only: their saturation is far above what a paced producer can offer.
	open bool
	// request: each push is a request logging several lines; the headline
	// is the request's p99.9 against the baseline's (no logging).
	request bool
	// severity: the severity scenario (severity.go), open loop at a fixed
	// overload, with its own table.
	severity bool
}

func scenarios() []scenario {
	return []scenario{
		{name: "spsc", impls: func(options) []impl { return []impl{spscImpl(), chanImpl()} }, producers: []int{1}},
		{name: "mpsc", impls: func(options) []impl { return []impl{mpscImpl(), chanImpl()} }},
		{name: "bytering", impls: func(o options) []impl { return []impl{byteRingImpl(), chanCopyImpl(o.size)} }},
		{name: "sink", impls: func(options) []impl { return []impl{sinkImpl(), chanSinkImpl()} }, open: true},
		{name: "writer-fast", impls: func(o options) []impl {
			return []impl{writerImpl(baseline.Fast, o.size), lockedImpl(baseline.Fast, o.size)}
		}, open: true},
		{name: "writer-slow", impls: func(o options) []impl {
			return []impl{writerImpl(baseline.Slow, o.size), writerWaitImpl(baseline.Slow, o.size), lockedImpl(baseline.Slow, o.size)}
		}},
		{name: "writer-flaky", impls: func(o options) []impl {
			return []impl{writerImpl(baseline.Flaky, o.size), lockedImpl(baseline.Flaky, o.size)}
		}},
		{name: "e2e", impls: func(options) []impl { return []impl{e2eWriterImpl(), e2eWritevImpl()} }, open: true},
		{name: "request", request: true, impls: func(o options) []impl {
			return []impl{requestOf(writerImpl(baseline.Fast, o.size)), requestOf(writerWaitImpl(baseline.Fast, o.size)), requestOf(lockedImpl(baseline.Fast, o.size)), noLogging()}
		}},
		{name: "severity", severity: true, impls: func(o options) []impl {
			return []impl{severityImpl(o.size, true), severityImpl(o.size, false)}
		}},
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-daemon" {
		if err := runDaemon(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "latbench -daemon:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "latbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("latbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var names []string
	for _, s := range scenarios() {
		names = append(names, s.name)
	}
	scen := fs.String("scenarios", strings.Join(names, ","), "comma-separated scenarios to run")
	prod := fs.String("producers", "1,4,16", "comma-separated producer goroutine counts")
	size := fs.Int("size", 128, "record size in bytes")
	dur := fs.Duration("dur", 250*time.Millisecond, "measuring time per row")
	open := fs.String("open", "0.5", "open-loop rates as fractions of the closed-loop saturation of the slower implementation (empty: closed loop only)")
	rounds := fs.Int("rounds", 3, "interleaved rounds of each group (ours, baseline, ours, ...); the summary shows the median ratio and its spread")
	full := fs.Bool("full", false, "print every row (each round, every percentile, refused calls) after the summary")
	procs := fs.Int("gomaxprocs", 0, "GOMAXPROCS (0: leave as is)")
	jsonOut := fs.Bool("json", false, "print JSON instead of a table")
	svg := fs.String("svg", "", "write a latency percentile plot to this SVG file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage: not a failure
		}
		return err
	}
	o := options{size: *size, dur: *dur, rounds: max(*rounds, 1), jsonOut: *jsonOut, full: *full, svg: *svg}
	var err error
	if o.producers, err = parseList(*prod, strconv.Atoi); err != nil {
		return fmt.Errorf("-producers: %w", err)
	}
	if o.open, err = parseList(*open, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }); err != nil {
		return fmt.Errorf("-open: %w", err)
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	var chosen []scenario
	for _, name := range strings.Split(*scen, ",") {
		found := false
		for _, s := range scenarios() {
			if s.name == strings.TrimSpace(name) {
				chosen, found = append(chosen, s), true
			}
		}
		if !found {
			return fmt.Errorf("unknown scenario %q (have %s)", name, strings.Join(names, ", "))
		}
	}

	c := newClock()
	settings := fmt.Sprintf("latbench %s GOMAXPROCS=%d CPUs=%d timer=%s record=%dB row=%v rounds=%d open=%s",
		runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), c.name(), o.size, o.dur, o.rounds, *open)
	fmt.Fprintln(stderr, settings)
	var results []result
	for _, s := range chosen {
		progress := io.Discard // the \r progress line only on a terminal
		if f, ok := stderr.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				progress = stderr
			}
		}
		rs, err := runScenario(c, s, o, progress)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		results = append(results, rs...)
	}
	fmt.Fprintln(stderr)
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		if !sameFile(stdout, stderr) { // a terminal already shows it
			fmt.Fprintln(stdout, settings)
		}
		printSummary(stdout, results)
		printSeverity(stdout, results)
		if o.full {
			fmt.Fprintln(stdout)
			printTable(stdout, results)
		}
	}
	if o.svg != "" {
		if err := os.WriteFile(o.svg, plotSVG(results), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sameFile reports whether a and b write to the same file (both a
// terminal, say).
func sameFile(a, b io.Writer) bool {
	fa, ok1 := a.(*os.File)
	fb, ok2 := b.(*os.File)
	if !ok1 || !ok2 {
		return false
	}
	sa, err1 := fa.Stat()
	sb, err2 := fb.Stat()
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func runScenario(c clock, s scenario, o options, progress io.Writer) ([]result, error) {
	if s.severity {
		return runSeverity(c, s, o, progress), nil
	}
	producers := o.producers
	if s.producers != nil {
		producers = s.producers
	}
	impls := s.impls(o)
	var out []result
	// rounds measures every implementation rounds times, interleaved
	// (ours, baseline, ours, baseline, ...), so a slow spell of a shared
	// machine hits both.
	rounds := func(p int, ld load, what string, extra ...impl) []result {
		var rs []result
		for round := range o.rounds {
			for _, im := range append(impls, extra...) {
				fmt.Fprintf(progress, "\r\033[K%s: %s, %s, %s, round %d/%d", s.name, im.name, plural(p, "producer"), what, round+1, o.rounds)
				r := measure(c, s.name, im, p, ld)
				r.Round = round + 1
				rs = append(rs, r)
			}
		}
		return rs
	}
	for _, p := range producers {
		closed := rounds(p, load{dur: o.dur, size: o.size}, "closed loop")
		out = append(out, closed...)
		// The open-loop rates are fractions of the slower implementation's
		// saturation (median over rounds), so both can deliver it.
		saturation := math.Inf(1)
		for _, g := range summarize(closed) {
			saturation = min(saturation, g.med(func(r result) float64 { return r.Delivered }))
		}
		for _, f := range o.open {
			if !s.open {
				break
			}
			// One producer paces itself with a monotonic clock read per
			// record; above ~1M records/s per producer it measures its own
			// pacing, not the implementation, so the base rate is capped.
			rate := f * min(saturation, float64(p)*maxPacedRate)
			out = append(out, rounds(p, load{dur: o.dur, size: o.size, rate: rate}, fmt.Sprintf("open loop at %s/s", si(rate)), floorImpl())...)
		}
	}
	return out, nil
}

// floorImpl is a push that does nothing: in open loop, what the pacing
// harness alone adds to latency (its sleeps overshoot by up to a timer tick).
func floorImpl() impl {
	return impl{name: "no-op (floor)", floor: true, perOp: -1, start: func(int) started {
		return started{newPush: func(int) pushFunc { return func([]byte) bool { return true } }, stop: func() uint64 { return 0 }}
	}}
}

// maxPacedRate is the highest open-loop rate one producer goroutine offers.
const maxPacedRate = 1e6

func (c clock) name() string {
	if c.tsc {
		return "TSC"
	}
	return "monotonic"
}

func parseList[T any](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := parse(f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// printTable prints every row: each round, every percentile of the
// accepted calls, and the refused calls apart.
func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\timpl\tprod\tload\tround\tp50\tp90\tp99\tp99.9\tmax\taccepted/s\tdelivered/s\tlost\trefused\tref p50\tref p99.9\tallocs/op\trtt\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%.2f\t%s/%s\t\n", r.Scenario, r.Impl, r.Producers, loadName(r), r.Round,
			ns(r.P50), ns(r.P90), ns(r.P99), ns(r.P999), ns(r.Max), si(r.OpsPerSec), si(r.Delivered), pct(r.Lost, r.Offered), r.Refused, refNs(r, r.RefP50), refNs(r, r.RefP999), r.AllocsOp, ns(uint64(r.RTTBefore)), ns(uint64(r.RTTAfter)))
	}
	tw.Flush()
	fmt.Fprint(w, `p50 ... max: latency of the accepted calls (closed loop: from the call; open loop: from the
  intended send time; e2e: from Write to the daemon's read; request: the whole request).
accepted/s: calls that succeeded per second. delivered/s: records the consumer received
  (writer scenarios and e2e: read by the daemon).
lost: records offered and not delivered (refused, dropped or evicted), as a fraction of offered.
refused: calls that returned "full" (a drop); ref p50, ref p99.9: their latency, apart.
allocs/op: heap allocations per call, all goroutines included.
rtt: a cache line's round trip between two cores, probed before/after the row.
`)
}

func baselineOf(rs []result, r result) *result {
	for i := range rs {
		b := &rs[i]
		if b.Baseline && b.Scenario == r.Scenario && b.Producers == r.Producers && b.Mode == r.Mode && b.Rate == r.Rate && b.Round == r.Round {
			return b
		}
	}
	return nil
}

func ns(v uint64) string {
	d := time.Duration(v)
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", v)
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fus", float64(v)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(v)/1e6)
	}
	return fmt.Sprintf("%.2fs", float64(v)/1e9)
}

func si(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
