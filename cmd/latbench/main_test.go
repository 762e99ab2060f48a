package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/hist"
)

// TestMain lets the test binary be latbench's embedded daemon: the writer
// scenarios re-execute their own binary with -daemon.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-daemon" {
		if err := runDaemon(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSummaryFitsATerminal: the default output starts with a summary no
// wider than 100 columns, with a ratio and a spread for the non-baseline
// rows, and its footer explains every column.
func TestSummaryFitsATerminal(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-scenarios", "mpsc,writer-fast,request", "-producers", "1,16", "-dur", "20ms", "-rounds", "2", "-open", "0.5"}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, l := range lines {
		if len([]rune(l)) > 100 {
			t.Errorf("line of %d columns: %q", len([]rune(l)), l)
		}
	}
	if !strings.HasPrefix(lines[0], "latbench go") || !strings.Contains(lines[0], "rounds=2") {
		t.Fatalf("settings line %q", lines[0])
	}
	if !strings.Contains(lines[1], "vs base") || !strings.Contains(lines[1], "lost") {
		t.Fatalf("header %q", lines[1])
	}
	rows := 0
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		if len(f) < 8 || (f[0] != "mpsc" && f[0] != "writer-fast" && f[0] != "request") {
			continue
		}
		rows++
		if strings.Contains(l, "base") || strings.Contains(l, "floor") {
			continue
		}
		if !strings.Contains(l, "[") && !strings.Contains(l, "unequal") {
			t.Errorf("row without a spread: %q", l)
		}
	}
	// mpsc: 2 impls x 2 producer counts; writer-fast: 2 x (2 closed + 2
	// open + the open loop's floor); request: 4 x 2.
	if rows != 4+10+8 {
		t.Errorf("%d summary rows; want 22:\n%s", rows, out.String())
	}
	for _, word := range []string{"prod:", "load:", "deliv/s", "lost", "p99.9", "vs base", "unequal", "no logging", "floor"} {
		if !strings.Contains(out.String(), word) {
			t.Errorf("the footer does not explain %q", word)
		}
	}
	if strings.Contains(errOut.String(), "\r") {
		t.Error("progress written to a stderr that is not a terminal")
	}
}

func TestFullTableAndJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-scenarios", "writer-fast", "-producers", "1", "-dur", "20ms", "-rounds", "2", "-open", "", "-full"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, word := range []string{"ref p99.9", "allocs/op", "refused:", "allocs/op:", "round", "rtt:"} {
		if !strings.Contains(out.String(), word) {
			t.Errorf("-full output lacks %q", word)
		}
	}
	out.Reset()
	if err := run([]string{"-scenarios", "mpsc", "-producers", "1", "-dur", "20ms", "-rounds", "2", "-json"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var rs []result
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) != 4 || rs[0].Round != 1 || rs[2].Round != 2 || rs[0].Offered == 0 || rs[0].Received == 0 {
		t.Fatalf("JSON rows: %+v", rs)
	}
	for _, r := range rs {
		if r.RTTBefore <= 0 || r.RTTAfter <= 0 {
			t.Errorf("%s round %d: round-trip probe %v/%v ns", r.Impl, r.Round, r.RTTBefore, r.RTTAfter)
		}
	}
}

// TestFarRoundsMarked: a group with a round whose round-trip probe read
// far (farRTT up to disturbedRTT), before or after, is marked in the
// summary, and only that group: a probe from disturbedRTT on measured
// scheduling, not placement. The footer counts the far rows and gives the
// probes' spread.
func TestFarRoundsMarked(t *testing.T) {
	row := func(impl string, base bool, round int, before, after float64) result {
		return result{Scenario: "spsc", Impl: impl, Baseline: base, Producers: 1, Mode: "closed", Round: round,
			Offered: 100, Received: 100, Delivered: 100, RTTBefore: before, RTTAfter: after, hist: hist.New()}
	}
	rs := []result{
		row("near", false, 1, 120, 130), row("chan", true, 1, 110, 150),
		row("near", false, 2, 140, farRTT-1), row("chan", true, 2, 120, 130),
		row("far", false, 1, 120, 130), row("far", false, 2, farRTT, 120),
		row("disturbed", false, 1, 150, disturbedRTT), row("disturbed", false, 2, 25000, 140),
	}
	var out bytes.Buffer
	printSummary(&out, rs)
	marked := map[string]bool{}
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[0] == "spsc" {
			marked[f[3]] = strings.HasSuffix(l, " *")
		}
	}
	if want := map[string]bool{"near": false, "chan": false, "far": true, "disturbed": false}; !maps.Equal(marked, want) {
		t.Errorf("marked groups %v; want %v:\n%s", marked, want, out.String())
	}
	if !strings.Contains(out.String(), "1 of 8 rows far") || !strings.Contains(out.String(), "[110ns-25.0us]") {
		t.Errorf("footer does not count the far row or give the spread:\n%s", out.String())
	}
}

func TestFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-h"}, &out, &errOut); err != nil {
		t.Errorf("-h: %v", err)
	}
	if err := run([]string{"-scenarios", "rings"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "unknown scenario") {
		t.Errorf("unknown scenario: %v", err)
	}
}

// TestClosedLoopSamples: with sample > 1 every push is counted, refused
// ones included, and exactly one in sample is timed.
func TestClosedLoopSamples(t *testing.T) {
	for _, sample := range []int{1, 16, 17, 100} {
		var stop atomic.Bool
		calls := 0
		push := func([]byte) bool {
			calls++
			if calls == 64*50 {
				stop.Store(true)
			}
			return calls%3 != 0 // every third refused
		}
		h, ref := hist.New(), hist.New()
		ops, refused := closedLoop(newClock(), push, make([]byte, 8), h, ref, &stop, false, sample)
		if ops != uint64(calls) || ops != 64*50 {
			t.Fatalf("sample %d: ops %d, calls %d; want %d", sample, ops, calls, 64*50)
		}
		if refused != uint64(calls/3) {
			t.Errorf("sample %d: refused %d; want %d", sample, refused, calls/3)
		}
		if timed := h.Count() + ref.Count(); timed != uint64(calls/sample) {
			t.Errorf("sample %d: %d pushes timed; want %d", sample, timed, calls/sample)
		}
	}
}

// TestOversizedRecordDoesNotHang: a ring scenario whose record can never
// fit reports it refused instead of retrying forever.
func TestOversizedRecordDoesNotHang(t *testing.T) {
	done := make(chan error, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- run([]string{"-scenarios", "bytering", "-producers", "1", "-size", "5000000", "-dur", "20ms", "-rounds", "1", "-json"}, &out, &errOut)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err, errOut.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("latbench -scenarios bytering -size 5000000 did not finish in a minute")
	}
	var rs []result
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Impl == "mpsc.ByteRing" && (r.Refused == 0 || r.Refused != r.Ops) {
			t.Errorf("ByteRing with a record above MaxRecord: refused %d of %d", r.Refused, r.Ops)
		}
	}
}

// BenchmarkClock is what timing one push costs the closed loop: two clock
// reads and a histogram update.
func BenchmarkClock(b *testing.B) {
	b.ReportAllocs()
	c := newClock()
	h := hist.New()
	b.Run("what=read", func(b *testing.B) {
		for b.Loop() {
			c.now()
		}
	})
	b.Run("what=timed-noop", func(b *testing.B) {
		for b.Loop() {
			t0 := c.now()
			h.Record(c.ns(c.now() - t0))
		}
	})
}

// TestSeverityScenarioCountsEverySeverity: the severity scenario offers
// 1% of its lines at warning or above, and accounts for every line of
// every severity as delivered or dropped, in its JSON and its table.
func TestSeverityScenarioCountsEverySeverity(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-scenarios", "severity", "-dur", "20ms", "-rounds", "1", "-json"}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	var rs []result
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Impl != "uds.Writer WriteSeverity" || !rs[1].Baseline {
		t.Fatalf("rows %+v; want WriteSeverity, then Write as the baseline", rs)
	}
	for _, r := range rs {
		if len(r.Severities) != 3 {
			t.Fatalf("%s: severities %+v; want err, warning, info", r.Impl, r.Severities)
		}
		var offered, delivered, high uint64
		for _, c := range r.Severities {
			if c.Offered != c.Delivered+c.Dropped || c.Refused > c.Dropped {
				t.Errorf("%s %s: offered %d, delivered %d, dropped %d, refused %d", r.Impl, c.Severity, c.Offered, c.Delivered, c.Dropped, c.Refused)
			}
			offered += c.Offered
			delivered += c.Delivered
			if c.Severity != "info" {
				high += c.Offered
			}
		}
		if offered != r.Offered || delivered != r.Received {
			t.Errorf("%s: by severity %d offered, %d delivered; the row says %d, %d", r.Impl, offered, delivered, r.Offered, r.Received)
		}
		if f := float64(high) / float64(offered); offered < 10000 || f < 0.009 || f > 0.011 {
			t.Errorf("%s: %d of %d lines at warning or above; want 1%%", r.Impl, high, offered)
		}
	}
	out.Reset()
	if err := run([]string{"-scenarios", "severity", "-dur", "20ms", "-rounds", "1"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, word := range []string{"severity: 4 producers", "WriteSeverity", "warning", "(refused)", "dropped: offered - delivered"} {
		if !strings.Contains(out.String(), word) {
			t.Errorf("the table lacks %q:\n%s", word, out.String())
		}
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if len([]rune(l)) > 100 {
			t.Errorf("line of %d columns: %q", len([]rune(l)), l)
		}
	}
}
