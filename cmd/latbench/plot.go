package main

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
)

// plotQuantiles are the points of each latency curve.
var plotQuantiles = []float64{0, .1, .25, .5, .75, .9, .95, .99, .995, .999, .9995, .9999, .99999, 1}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// plotSVG draws small multiples: one panel per (scenario, producers, load)
// group, four to a row, latency on a log scale against the percentile on a
// "nines" scale (x = -log10(1-q)), one line per implementation (its median
// round by p99.9), the baseline dashed. The legend above each panel gives
// each implementation's delivered records/s and the fraction lost.
func plotSVG(rs []result) []byte {
	type panel struct {
		title string
		rows  []result
	}
	var panels []*panel
	index := map[string]*panel{}
	for _, g := range summarize(rs) {
		r := medianRound(g)
		key := fmt.Sprintf("%s, %s, %s", r.Scenario, plural(r.Producers, "producer"), loadName(r))
		p := index[key]
		if p == nil {
			p = &panel{title: key}
			index[key] = p
			panels = append(panels, p)
		}
		p.rows = append(p.rows, r)
	}
	const (
		pw, ph   = 290, 185 // panel size
		ml, mt   = 46, 66   // margins inside a panel: axis labels, title and a legend of up to four lines
		cols     = 4
		maxNines = 5.0
	)
	rows := (len(panels) + cols - 1) / cols
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="9">`+"\n", cols*pw, rows*ph)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	for pi, p := range panels {
		ox, oy := float64(pi%cols*pw), float64(pi/cols*ph)
		w, h := float64(pw-ml-10), float64(ph-mt-16)
		lo, hi := math.Inf(1), 0.0
		for _, r := range p.rows {
			for _, pt := range r.Curve {
				lo, hi = math.Min(lo, math.Max(pt[1], 1)), math.Max(hi, pt[1])
			}
		}
		lo = math.Pow(10, math.Floor(math.Log10(lo)))
		hi = math.Pow(10, math.Ceil(math.Log10(math.Max(hi, lo*10))))
		x := func(q float64) float64 {
			n := maxNines
			if q < 1 {
				n = math.Min(-math.Log10(1-q), maxNines)
			}
			return ox + ml + w*n/maxNines
		}
		y := func(v float64) float64 {
			return oy + mt + h - h*(math.Log10(math.Max(v, lo))-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-weight="bold" font-size="10">%s</text>`+"\n", ox+8, oy+13, p.title)
		for i, r := range p.rows {
			col := palette[i%len(palette)]
			lx, ly := ox+8, oy+25+float64(i)*10
			fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="%s" stroke-width="2"%s/>`, lx, lx+12, ly-3, ly-3, col, dash(r))
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%s %s/s, lost %s</text>`+"\n", lx+15, ly, r.Impl, si(r.Delivered), pct(r.Lost, r.Offered))
		}
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", ox+ml, oy+mt, w, h)
		for d := lo; d <= hi*1.001; d *= 10 {
			fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n",
				ox+ml, ox+ml+w, y(d), y(d), ox+ml-3, y(d)+3, ns(uint64(d)))
		}
		for i, lbl := range []string{"p0", "p90", "p99", "p99.9", "p99.99", "max"} {
			xx := ox + ml + w*float64(i)/maxNines
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`+"\n", xx, oy+mt+h+11, lbl)
		}
		for i, r := range p.rows {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5"%s points="`, palette[i%len(palette)], dash(r))
			for _, pt := range r.Curve {
				fmt.Fprintf(&b, "%.1f,%.1f ", x(pt[0]), y(pt[1]))
			}
			b.WriteString("\"/>\n")
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func dash(r result) string {
	if r.Baseline {
		return ` stroke-dasharray="4,2"`
	}
	return ""
}

// medianRound is the round of g whose p99.9 is the median.
func medianRound(g group) result {
	rows := slices.Clone(g.rows)
	slices.SortFunc(rows, func(a, b result) int { return cmp.Compare(a.P999, b.P999) })
	return rows[len(rows)/2]
}
