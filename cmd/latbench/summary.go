package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// printSummary prints one row per scenario, producer count, load and
// implementation, medians over the rounds, in at most 100 columns. The
// headline ratio is against the baseline of the same group and round:
// closed loop, delivered records/s (higher is better); open loop, the
// baseline's p99.9 over ours, only when both delivered at least 99.9% of
// what was offered; request, the p99.9 of a request over the same request
// without logging. The brackets give the spread over the rounds.
func printSummary(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tprod\tload\timpl\tdeliv/s\tlost\tp50\tp99.9\tvs base\t")
	for _, g := range summarize(rs) {
		r := g.rows[0]
		mark := ""
		if g.far() {
			mark = " *"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s%s\t\n", r.Scenario, r.Producers, loadName(r), r.Impl,
			si(g.med(func(r result) float64 { return r.Delivered })),
			pct(g.med(func(r result) float64 { return r.Lost }), r.Offered),
			ns(uint64(g.med(func(r result) float64 { return float64(r.P50) }))),
			ns(uint64(g.med(func(r result) float64 { return float64(r.P999) }))),
			g.ratio(rs), mark)
	}
	tw.Flush()
	fmt.Fprint(w, `prod: producer goroutines. load: closed (as fast as they can) or open N (N records/s over
  all producers, each timed from its intended send time; "no-op (floor)" is the pacing
  harness alone). deliv/s: records delivered per second in the window (rings, sink: to the
  consumer; writer, request: read by the daemon, counted where it reads; e2e: read by the
  daemon, until the last one). writer-slow's daemon reads 4 KiB per 100 us by its own clock.
lost: offered records not delivered by the end, drain included (refused, dropped, evicted,
  or left queued); "-": offers none.
p50, p99.9: of accepted calls (refused ones: -full); e2e: Write to the daemon's read;
  request: the whole request, lines dropped or not. Medians over the rounds.
vs base: per round, then the median [min-max]: closed loop: delivered/s over the baseline's;
  open loop: baseline p99.9 over ours, only where both delivered >= 99.9% ("unequal"
  otherwise); request: p99.9 added by logging relative to "no logging" (+25x: 25 times),
  only where no line was lost.
drop mode (uds.Writer, Write): closed-loop producers never wait, so on a machine with few
  cores they take the CPU the consumer and the daemon need; deliv/s there measures that
  split of the cores, not the Writer's ceiling (the "wait" rows and -gomaxprocs show it).
`)
	printRTT(w, rs)
}

// farRTT is the core-to-core round trip from which a probe counts as far:
// on the VM of docs/benchmarks.md the probe reads about 60-200 ns or about
// 500 ns, by where the host placed the two vCPUs, and a ring whose consumer
// keeps up with its producer pays that trip per few values. From
// disturbedRTT on, the probe measured scheduling (one of its goroutines
// waited for a CPU), not placement, and counts as neither.
const (
	farRTT       = 300
	disturbedRTT = 1000
)

// far reports whether a probe around r read far.
func (r result) far() bool {
	return isFar(r.RTTBefore) || isFar(r.RTTAfter)
}

func isFar(ns float64) bool { return ns >= farRTT && ns < disturbedRTT }

// far reports whether a probe around any of g's rows read far.
func (g group) far() bool {
	return slices.ContainsFunc(g.rows, result.far)
}

// printRTT prints the footer line on the round-trip probes.
func printRTT(w io.Writer, rs []result) {
	var v []float64
	far := 0
	for _, r := range rs {
		v = append(v, r.RTTBefore, r.RTTAfter)
		if r.far() {
			far++
		}
	}
	if len(v) == 0 {
		return
	}
	fmt.Fprintf(w, `*: the cores were far apart around a round of the group: a cache line's round trip
  between them, probed before and after every row, read %d-%dns at least once (%s
  and up: a goroutine waited for a CPU, not counted). Whole run: median %s [%s-%s],
  %d of %d rows far. Rings slow down then, more than channels; -full shows each row's.
`, farRTT, disturbedRTT, ns(disturbedRTT), ns(uint64(median(v))), ns(uint64(slices.Min(v))), ns(uint64(slices.Max(v))), far, len(rs))
}

// group is one implementation's rows of one group, one per round.
type group struct{ rows []result }

func (g group) med(f func(result) float64) float64 {
	var v []float64
	for _, r := range g.rows {
		v = append(v, f(r))
	}
	return median(v)
}

// ratio renders the headline ratio against the baseline, per round:
// median [min-max].
func (g group) ratio(all []result) string {
	r0 := g.rows[0]
	switch {
	case r0.Baseline:
		return "base"
	case r0.Floor:
		return "floor"
	}
	var v []float64
	for _, r := range g.rows {
		b := baselineOf(all, r)
		if b == nil {
			return ""
		}
		switch {
		case r.Scenario == "request":
			if r.Lost > 0.001 {
				return "unequal"
			}
			v = append(v, float64(r.P999)/float64(max(b.P999, 1))-1)
		case r.Mode == "open":
			if r.Lost > 0.001 || b.Lost > 0.001 {
				return "unequal"
			}
			v = append(v, float64(b.P999)/float64(max(r.P999, 1)))
		default:
			v = append(v, r.Delivered/max(b.Delivered, 1))
		}
	}
	lo, hi := slices.Min(v), slices.Max(v)
	if r0.Scenario == "request" {
		return fmt.Sprintf("%s [%s,%s]", added(median(v)), added(lo), added(hi))
	}
	return fmt.Sprintf("%sx [%s-%s]", num(median(v)), num(lo), num(hi))
}

// summarize groups rows by scenario, producers, load and implementation,
// in the order they were measured.
func summarize(rs []result) []group {
	var out []group
	index := map[string]int{}
	for _, r := range rs {
		key := fmt.Sprintf("%s|%d|%s|%g|%s", r.Scenario, r.Producers, r.Mode, r.Rate, r.Impl)
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, group{})
		}
		out[i].rows = append(out[i].rows, r)
	}
	return out
}

// added prints a relative increase: +12%, or +25x from tenfold on.
func added(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("+%.0fx", v)
	}
	return fmt.Sprintf("%+.0f%%", 100*v)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// num prints a ratio with two significant digits (three above 100).
func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func loadName(r result) string {
	if r.Mode == "open" {
		return "open " + si(r.Rate)
	}
	return "closed"
}

func pct(f float64, offered uint64) string {
	switch {
	case offered == 0:
		return "-"
	case f == 0:
		return "0%"
	case f < 0.001:
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

// refNs prints a refused-call percentile, or "-" when none was refused.
func refNs(r result, v uint64) string {
	if r.Refused == 0 {
		return "-"
	}
	return ns(v)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
