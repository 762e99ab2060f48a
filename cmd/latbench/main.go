// Command latbench measures per-record latency histograms (p50, p90, p99,
// p99.9, max) and throughput of ringsink's rings, sink and Unix-socket
// writer, each next to the baseline a Go programmer would otherwise write
// (a buffered channel, a mutex-guarded socket write), in the same run.
//
// It needs no setup: the writer scenarios start an embedded Unix-socket
// reader in a temporary directory. With no flags it runs every scenario in
// about a minute:
//
//	go run ./cmd/latbench
//	go run ./cmd/latbench -scenarios spsc,mpsc -producers 1,4 -dur 2s -json
//	go run ./cmd/latbench -svg docs/latency.svg
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
)

type options struct {
	scenarios []string
	producers []int
	size      int
	dur       time.Duration
	open      []float64 // open-loop rates as fractions of measured saturation
	jsonOut   bool
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
}

func scenarios() []scenario {
	return []scenario{
		{name: "spsc", impls: func(options) []impl { return []impl{spscImpl(), chanImpl()} }, producers: []int{1}},
		{name: "mpsc", impls: func(options) []impl { return []impl{mpscImpl(), chanImpl()} }},
		{name: "bytering", impls: func(o options) []impl { return []impl{byteRingImpl(), chanCopyImpl(o.size)} }},
		{name: "sink", impls: func(options) []impl { return []impl{sinkImpl(), chanSinkImpl()} }, open: true},
		{name: "writer-fast", impls: func(options) []impl { return []impl{writerImpl(baseline.Fast), lockedImpl(baseline.Fast)} }, open: true},
		{name: "writer-slow", impls: func(options) []impl { return []impl{writerImpl(baseline.Slow), lockedImpl(baseline.Slow)} }},
		{name: "writer-flaky", impls: func(options) []impl { return []impl{writerImpl(baseline.Flaky), lockedImpl(baseline.Flaky)} }},
		{name: "e2e", impls: func(options) []impl { return []impl{e2eWriterImpl(), e2eWritevImpl()} }, open: true},
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
	dur := fs.Duration("dur", 400*time.Millisecond, "measuring time per row")
	open := fs.String("open", "0.1,0.5,0.9", "open-loop rates as fractions of the closed-loop saturation of the first implementation (empty: closed loop only)")
	procs := fs.Int("gomaxprocs", 0, "GOMAXPROCS (0: leave as is)")
	jsonOut := fs.Bool("json", false, "print JSON instead of a table")
	svg := fs.String("svg", "", "write a latency percentile plot to this SVG file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage: not a failure
		}
		return err
	}
	o := options{size: *size, dur: *dur, jsonOut: *jsonOut, svg: *svg}
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
	fmt.Fprintf(stderr, "latbench: %s, GOMAXPROCS=%d, %d CPUs, timer=%s, record=%d B, %v per row\n",
		runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), c.name(), o.size, o.dur)
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
		printTable(stdout, results)
	}
	if o.svg != "" {
		if err := os.WriteFile(o.svg, plotSVG(results), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func runScenario(c clock, s scenario, o options, progress io.Writer) ([]result, error) {
	producers := o.producers
	if s.producers != nil {
		producers = s.producers
	}
	impls := s.impls(o)
	var out []result
	for _, p := range producers {
		var saturation float64
		for i, im := range impls {
			fmt.Fprintf(progress, "\r\033[K%s: %s, %d producers, closed loop", s.name, im.name, p)
			r := measure(c, s.name, im, p, load{dur: o.dur, size: o.size})
			if i == 0 {
				saturation = r.Delivered
			}
			out = append(out, r)
		}
		for _, f := range o.open {
			if !s.open {
				break
			}
			for _, im := range impls {
				// One producer paces itself with a monotonic clock read per
				// record; above ~1M records/s per producer it measures its own
				// pacing, not the implementation, so the base rate is capped.
				rate := f * min(saturation, float64(p)*maxPacedRate)
				fmt.Fprintf(progress, "\r\033[K%s: %s, %d producers, open loop at %.0f/s", s.name, im.name, p, rate)
				out = append(out, measure(c, s.name, im, p, load{dur: o.dur, size: o.size, rate: rate}))
			}
		}
	}
	return out, nil
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

// printTable prints one block per scenario, with each row's p99.9 and
// throughput also as a ratio against the baseline row of the same group.
func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\timpl\tprod\tload\tp50\tp90\tp99\tp99.9\tmax\taccepted/s\tdelivered/s\tvs base\tp99.9 vs base\trefused\tallocs/op\t")
	for _, r := range rs {
		b := baselineOf(rs, r)
		ratio, lat := "", ""
		if b != nil && !r.Baseline {
			ratio = fmt.Sprintf("%.2fx", r.Delivered/b.Delivered)
			lat = fmt.Sprintf("%.2fx", float64(b.P999)/float64(max(r.P999, 1)))
		}
		ld := "closed"
		if r.Mode == "open" {
			ld = fmt.Sprintf("open %s/s", si(r.Rate))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%.2f\t\n", r.Scenario, r.Impl, r.Producers, ld,
			ns(r.P50), ns(r.P90), ns(r.P99), ns(r.P999), ns(r.Max), si(r.OpsPerSec), si(r.Delivered), ratio, lat, r.Refused, r.AllocsOp)
	}
	tw.Flush()
	fmt.Fprintln(w, "accepted/s: pushes that succeeded; delivered/s: records the consumer (writer scenarios: the daemon) received.")
	fmt.Fprintln(w, "vs base: delivered/s over the baseline's in the same group; p99.9 vs base: baseline p99.9 / this p99.9 (higher is better).")
	fmt.Fprintln(w, "Latency is per push (closed loop: from the call; open loop: from the intended send time); e2e: from Write to the daemon's read.")
}

func baselineOf(rs []result, r result) *result {
	for i := range rs {
		b := &rs[i]
		if b.Baseline && b.Scenario == r.Scenario && b.Producers == r.Producers && b.Mode == r.Mode && b.Rate == r.Rate {
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
