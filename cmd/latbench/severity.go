package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/uds"
	"github.com/ringsink/ringsink/uds/format"
)

// The severity scenario is the overflow that matters: producers offer ten
// times what a slow daemon reads, 1% of the lines at warning or above
// (every 100th line, err and warning in turn), the rest info, and the
// table says per severity how many lines were offered, delivered (read by
// the daemon, which counts them by their level field) and dropped.
// ringsink's row writes with WriteSeverity (severity-aware admission); the
// baseline is the same Writer's plain Write, which refuses the newest line
// whatever its level.

// sevLevels are the severities offered, indexed by baseline.SevOf's
// result: err, warning, info.
var sevLevels = []struct {
	sev   format.Priority
	name  string
	level string // the line's level field, as slog writes it
}{{format.Err, "err", "ERROR"}, {format.Warning, "warning", "WARN"}, {format.Info, "info", "INFO"}}

// sevCount is one severity's lines in one row.
type sevCount struct {
	Severity  string `json:"severity"`
	Offered   uint64 `json:"offered"`
	Delivered uint64 `json:"delivered"` // read by the daemon
	Dropped   uint64 `json:"dropped"`   // offered - delivered: refused, or lost later
	Refused   uint64 `json:"refused"`   // the write returned an error (part of dropped)
}

// sevReadRate is what the slow daemon reads, in length-prefixed records
// of size bytes per second.
func sevReadRate(size int) float64 {
	perSec := float64(baseline.SlowChunk) / baseline.SlowPace.Seconds()
	return perSec / float64(len(baseline.SevLine("INFO", size))+4)
}

// sevRate is the open-loop rate of the scenario: baseline.SevOverload times what
// the daemon reads.
func sevRate(size int) float64 { return baseline.SevOverload * sevReadRate(size) }

// severityImpl writes the scenario's lines to a slow daemon with
// WriteSeverity (aware) or Write.
func severityImpl(size int, aware bool) impl {
	name := "uds.Writer WriteSeverity"
	if !aware {
		name = "uds.Writer Write"
	}
	var offered, refused [3]atomic.Uint64
	var counts [3]sevCount
	var first atomic.Int64 // when the first line was offered (Unix ns)
	var offerSecs float64  // from the first line to the end of the last producer
	im := impl{name: name, baseline: !aware}
	im.annotate = func(r *result) {
		r.Severities = append([]sevCount(nil), counts[:]...)
		if offerSecs > 0 {
			r.OfferedPerSec = float64(r.Offered) / offerSecs
		}
	}
	im.start = func(int) started {
		for i := range offered {
			offered[i].Store(0)
			refused[i].Store(0)
		}
		first.Store(0)
		recs := make([][]byte, len(sevLevels))
		for i, l := range sevLevels {
			recs[i] = baseline.SevLine(l.level, size)
		}
		r := startDaemonProcArgs(baseline.Slow, "-sev")
		w := must(uds.Open(uds.Config{Path: r.Path, Framing: uds.LengthPrefix, ErrorOnDrop: true,
			ReconnectMin: time.Millisecond, ReconnectMax: 20 * time.Millisecond, CloseTimeout: time.Second}))
		waitConnected(w)
		newPush := func(int) pushFunc {
			var i uint64
			return func([]byte) bool {
				if i == 0 {
					first.CompareAndSwap(0, time.Now().UnixNano())
				}
				k := baseline.SevOf(i)
				i++
				offered[k].Add(1)
				var err error
				if aware {
					_, err = w.WriteSeverity(sevLevels[k].sev, recs[k])
				} else {
					_, err = w.Write(recs[k])
				}
				if err != nil {
					refused[k].Add(1)
					return false
				}
				return true
			}
		}
		return started{newPush: newPush, stop: func() uint64 {
			offerSecs = time.Duration(time.Now().UnixNano() - first.Load()).Seconds()
			// Every accepted line reaches the daemon: the drain waits for
			// it (a Close bounded at 1 s left some queued lines undelivered,
			// which the table would count as dropped).
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := w.Shutdown(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "latbench: severity:", err)
			}
			cancel()
			// And the daemon reads what the kernel holds for it before it
			// stops (it stops at once, unread bytes included).
			sent := w.Stats().WrittenBytes
			for deadline := time.Now().Add(10 * time.Second); r.bytes() < sent && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			rep := r.stop()
			var total uint64
			for k, l := range sevLevels {
				got := rep.Severity[l.name]
				counts[k] = sevCount{Severity: l.name, Offered: offered[k].Load(), Delivered: got,
					Dropped: offered[k].Load() - min(got, offered[k].Load()), Refused: refused[k].Load()}
				total += got
			}
			return total
		}}
	}
	return im
}

// runSeverity measures the severity scenario: open loop at baseline.SevOverload
// times the daemon's rate, interleaved rounds.
func runSeverity(c clock, s scenario, o options, progress io.Writer) []result {
	ld := load{dur: o.dur, size: o.size, rate: sevRate(o.size)}
	var rs []result
	for round := range o.rounds {
		for _, im := range s.impls(o) {
			fmt.Fprintf(progress, "\r\033[K%s: %s, round %d/%d", s.name, im.name, round+1, o.rounds)
			r := measure(c, s.name, im, baseline.SevProducers, ld)
			r.Round, r.RecordSize = round+1, o.size
			rs = append(rs, r)
		}
	}
	return rs
}

// printSeverity prints, per implementation, the lines of each severity
// offered, delivered and dropped, summed over the rounds.
func printSeverity(w io.Writer, rs []result) {
	var rows []result
	for _, r := range rs {
		if r.Severities != nil {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	read := sevReadRate(rows[0].RecordSize)
	var offeredPerSec []float64
	for _, r := range rows {
		offeredPerSec = append(offeredPerSec, r.OfferedPerSec)
	}
	fmt.Fprintf(w, "\nseverity: %d producers, 1%% of lines at warning or above, scheduled at %dx what a slow\n"+
		"  daemon reads (%s/s); offered %s/s (median), %.1fx what it reads\n",
		rows[0].Producers, baseline.SevOverload, si(read), si(median(offeredPerSec)), median(offeredPerSec)/read)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "impl\tseverity\toffered\tdelivered\tdropped\t(refused)\tdropped %\t")
	for _, g := range summarize(rows) {
		sum := make([]sevCount, len(sevLevels))
		for _, r := range g.rows {
			for k, c := range r.Severities {
				sum[k].Severity = c.Severity
				sum[k].Offered += c.Offered
				sum[k].Delivered += c.Delivered
				sum[k].Dropped += c.Dropped
				sum[k].Refused += c.Refused
			}
		}
		for k, c := range sum {
			impl := ""
			if k == 0 {
				impl = g.rows[0].Impl
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t\n", impl, c.Severity, c.Offered, c.Delivered, c.Dropped, c.Refused,
				pct(float64(c.Dropped)/float64(max(c.Offered, 1)), c.Offered))
		}
	}
	tw.Flush()
	fmt.Fprintf(w, `summed over %d rounds. delivered: read by the daemon (counted by the level field of
  each length-prefixed record). dropped: offered - delivered (refused by the write, or lost
  later); (refused): the write returned an error. WriteSeverity refuses lines below
  warning first when the ring runs short; Write refuses the newest line whatever its level.
`, len(rows)/max(len(summarize(rows)), 1))
}

// sevCollector counts length-prefixed records by the severity of their
// level field (format.LevelField; an optional leading "<PRI>" is skipped
// by it): the daemon side of the severity scenario.
type sevCollector struct {
	mu    sync.Mutex
	count map[string]uint64
	part  []byte
}

func (s *sevCollector) onData(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.part = append(s.part, b...)
	p := s.part
	for len(p) >= 4 {
		n := int(binary.BigEndian.Uint32(p))
		if len(p) < 4+n {
			break
		}
		s.count[sevName(p[4:4+n])]++
		p = p[4+n:]
	}
	s.part = append(s.part[:0], p...)
}

// sevName names a record's severity as sevLevels does, or "other" (a
// drop notice, say).
func sevName(rec []byte) string {
	if sev, ok := format.LevelField(rec); ok {
		for _, l := range sevLevels {
			if l.sev == sev {
				return l.name
			}
		}
	}
	return "other"
}
