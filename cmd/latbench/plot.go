package main

import (
	"bytes"
	"fmt"
	"math"
)

// plotQuantiles are the points of each latency curve.
var plotQuantiles = []float64{0, .1, .25, .5, .75, .9, .95, .99, .995, .999, .9995, .9999, .99999, 1}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// plotSVG draws one panel per (scenario, producers, load) group: latency on
// a log scale against the percentile on a "nines" scale
// (x = -log10(1-q)), one line per implementation, baseline dashed.
func plotSVG(rs []result) []byte {
	type group struct {
		title string
		rows  []result
	}
	var groups []*group
	index := map[string]*group{}
	for _, r := range rs {
		key := fmt.Sprintf("%s, %d producers, %s", r.Scenario, r.Producers, r.Mode)
		if r.Mode == "open" {
			key += fmt.Sprintf(" %s/s", si(r.Rate))
		}
		g := index[key]
		if g == nil {
			g = &group{title: key}
			index[key] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, r)
	}
	const (
		pw, ph   = 460, 240 // panel size
		ml, mt   = 60, 30   // margins inside a panel
		cols     = 2
		maxNines = 5.0
	)
	rows := (len(groups) + cols - 1) / cols
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", cols*pw, rows*ph)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	for gi, g := range groups {
		ox, oy := float64(gi%cols*pw), float64(gi/cols*ph)
		w, h := float64(pw-ml-20), float64(ph-mt-40)
		lo, hi := math.Inf(1), 0.0
		for _, r := range g.rows {
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
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-weight="bold">%s</text>`+"\n", ox+ml, oy+18, g.title)
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", ox+ml, oy+mt, w, h)
		for d := lo; d <= hi*1.001; d *= 10 {
			fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n",
				ox+ml, ox+ml+w, y(d), y(d), ox+ml-4, y(d)+4, ns(uint64(d)))
		}
		for i, lbl := range []string{"p0", "p90", "p99", "p99.9", "p99.99", "max"} {
			xx := ox + ml + w*float64(i)/maxNines
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`+"\n", xx, oy+mt+h+14, lbl)
		}
		for i, r := range g.rows {
			col := palette[i%len(palette)]
			dash := ""
			if r.Baseline {
				dash = ` stroke-dasharray="5,3"`
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8"%s points="`, col, dash)
			for _, pt := range r.Curve {
				fmt.Fprintf(&b, "%.1f,%.1f ", x(pt[0]), y(pt[1]))
			}
			b.WriteString("\"/>\n")
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="%s">%s</text>`+"\n", ox+ml+6, oy+mt+14+float64(i)*13, col, r.Impl)
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}
