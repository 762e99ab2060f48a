package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
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
	for _, word := range []string{"ref p99.9", "allocs/op", "refused:", "allocs/op:", "round"} {
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
