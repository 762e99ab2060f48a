package format

import (
	"os"
	"strings"
	"testing"
)

// C: with Options.RecordFacility a record's <PRI> sets its facility as
// well as its severity, in journald's SYSLOG_FACILITY= too (it used to keep
// the default facility).
func TestReviewJournaldRecordFacility(t *testing.T) {
	f, err := Journald(User|Info, Options{AppName: "api", ProcID: "42", RecordFacility: true})
	if err != nil {
		t.Fatal(err)
	}
	got := parseJournal(t, []byte(frame(t, f, "<34>login failed", when))) // auth.crit
	want := []string{"PRIORITY=2", "SYSLOG_FACILITY=4", "SYSLOG_IDENTIFIER=api", "SYSLOG_PID=42", "MESSAGE=login failed"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("fields\n got %q\nwant %q", got, want)
	}
}

// D: the Kern constant's doc: "a record or default priority with facility
// Kern gets the format's facility instead, as glibc's syslog(3) does"
// (glibc: LogFacility, LOG_USER unless openlog set another). A default of
// plain Err (facility 0) is sent as a kernel message.
func TestReviewDefaultKernFacility(t *testing.T) {
	f, err := RFC3164(Err, Options{AppName: "api", ProcID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	if got := frame(t, f, "x", when); !strings.HasPrefix(got, "<11>") {
		t.Errorf("default priority Err (facility 0): %q; want facility user (<11>), not kern (<3>)", got)
	}
	j, err := Journald(Warning, Options{AppName: "api", ProcID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	if got := parseJournal(t, []byte(frame(t, j, "x", when))); got[1] != "SYSLOG_FACILITY=1" {
		t.Errorf("journald default Warning: %q; want SYSLOG_FACILITY=1", got[1])
	}
}

// E: with zero Options, RFC5424 fails for a program whose name is longer
// than APP-NAME's 48 characters (or non-ASCII): the default is not
// truncated/sanitised.
func TestReviewRFC5424DefaultAppName(t *testing.T) {
	old := os.Args[0]
	defer func() { os.Args[0] = old }()
	os.Args[0] = "/usr/bin/" + strings.Repeat("x", 49)
	if _, err := RFC5424(User|Info, Options{}); err != nil {
		t.Errorf("RFC5424 with default options: %v", err)
	}
	os.Args[0] = "/usr/bin/café"
	if _, err := RFC5424(User|Info, Options{}); err != nil {
		t.Errorf("RFC5424 with default options: %v", err)
	}
}

// F: RFC 3164 validates AppName and Hostname but not ProcID: a ProcID with a
// newline or ']' is accepted and breaks the header (with Newline framing the
// record is split in two).
func TestReviewRFC3164ProcIDUnchecked(t *testing.T) {
	for _, p := range []string{"1\n2", "1] fake: ", "a b"} {
		if _, err := RFC3164(User|Info, Options{AppName: "api", ProcID: p}); err == nil {
			t.Errorf("ProcID %q accepted", p)
		}
	}
}
