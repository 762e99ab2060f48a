package format

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

var when = time.Date(2026, 11, 9, 7, 5, 3, 123456789, time.UTC)

// frame renders rec as the consumer sends it: header, body, trailer.
func frame(t testing.TB, f interface {
	AppendStamp([]byte, time.Time) []byte
	Frame(dst, rec, stamp []byte) (hdr, body, trailer []byte)
	MaxOverhead() int
}, rec string, now time.Time) string {
	t.Helper()
	r := []byte(rec)
	stamp := f.AppendStamp(nil, now)
	hdr, body, trailer := f.Frame(nil, r, stamp)
	if len(hdr)+len(trailer) > f.MaxOverhead() {
		t.Errorf("header %q and trailer %q exceed MaxOverhead %d", hdr, trailer, f.MaxOverhead())
	}
	if len(body) > 0 && !within(body, r) {
		t.Errorf("body %q is not a sub-slice of the record", body)
	}
	return string(hdr) + string(body) + string(trailer)
}

func within(sub, b []byte) bool {
	for i := range b {
		if &b[i] == &sub[0] {
			return i+len(sub) <= len(b)
		}
	}
	return false
}

func TestRFC3164(t *testing.T) {
	f, err := RFC3164(User|Info, Options{AppName: "api", ProcID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	local := time.Date(2026, 11, 9, 7, 5, 3, 0, time.Local)
	for _, c := range []struct{ rec, want string }{
		{"hello\n", "<14>Nov  9 07:05:03 api[42]: hello"},
		{"<3>disk full", "<11>Nov  9 07:05:03 api[42]: disk full"},    // severity only: the format's facility
		{"<165>local4", "<13>Nov  9 07:05:03 api[42]: local4"},        // severity only: not local4
		{"<192>too big", "<14>Nov  9 07:05:03 api[42]: <192>too big"}, // not a PRI: sent as text
		{"<03>zero", "<14>Nov  9 07:05:03 api[42]: <03>zero"},         // leading zero: not a PRI
		{"<>x", "<14>Nov  9 07:05:03 api[42]: <>x"},
		{"", "<14>Nov  9 07:05:03 api[42]: "},
		{"two\nlines\n\n", "<14>Nov  9 07:05:03 api[42]: two\nlines\n"}, // one trailing newline cut
	} {
		if got := frame(t, f, c.rec, local); got != c.want {
			t.Errorf("%q: got %q, want %q", c.rec, got, c.want)
		}
	}
	f, err = RFC3164(Local0|Notice, Options{AppName: "api", ProcID: "-", Hostname: "web1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := frame(t, f, "x", local.AddDate(0, 1, 20)), "<133>Dec 29 07:05:03 web1 api: x"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRFC5424(t *testing.T) {
	f, err := RFC5424(Daemon|Warning, Options{Hostname: "web1.example", AppName: "api", ProcID: "42", MsgID: "req"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := frame(t, f, "<2>halt\n", when), "<26>1 2026-11-09T07:05:03.123456Z web1.example api 42 req - halt"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// The stamp is UTC whatever the zone of now.
	east := when.In(time.FixedZone("UTC+3", 3*3600))
	if got, want := frame(t, f, "x", east), "<28>1 2026-11-09T07:05:03.123456Z web1.example api 42 req - x"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	d, err := RFC5424(User|Info, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := frame(t, d, "x", when); !strings.Contains(got, " - - x") {
		t.Errorf("default MsgID and structured data should be '-': %q", got)
	}
}

// TestJournald checks the native protocol byte for byte, with a reader
// written from the protocol description (systemd's "Native Journal
// Protocol"): fields "KEY=value\n", or "KEY\n" + le64 length + value + "\n".
func TestJournald(t *testing.T) {
	f, err := Journald(Local3|Info, Options{AppName: "api", ProcID: "42", Fields: []string{"UNIT_ROLE=edge", "NOTE=two\nlines"}})
	if err != nil {
		t.Fatal(err)
	}
	got := frame(t, f, "<4>a=b\nc\x00d\n", when)
	fields := parseJournal(t, []byte(got))
	want := []string{"PRIORITY=4", "SYSLOG_FACILITY=19", "SYSLOG_IDENTIFIER=api", "SYSLOG_PID=42", "UNIT_ROLE=edge", "NOTE=two\nlines", "MESSAGE=a=b\nc\x00d"}
	if strings.Join(fields, "|") != strings.Join(want, "|") {
		t.Errorf("fields\n got %q\nwant %q", fields, want)
	}
	if got := parseJournal(t, []byte(frame(t, f, "", when))); got[len(got)-1] != "MESSAGE=" {
		t.Errorf("empty record: %q", got)
	}
}

func parseJournal(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			t.Fatalf("field without newline: %q", b)
		}
		line := b[:nl]
		if k, v, ok := bytes.Cut(line, []byte("=")); ok {
			out = append(out, string(k)+"="+string(v))
			b = b[nl+1:]
			continue
		}
		rest := b[nl+1:]
		if len(rest) < 8 {
			t.Fatalf("binary field %q without length", line)
		}
		n := binary.LittleEndian.Uint64(rest)
		if uint64(len(rest)-8) < n+1 || rest[8+n] != '\n' {
			t.Fatalf("binary field %q: length %d does not match the bytes", line, n)
		}
		out = append(out, string(line)+"="+string(rest[8:8+n]))
		b = rest[8+n+1:]
	}
	return out
}

func TestOptionsRefused(t *testing.T) {
	for name, mk := range map[string]func() error{
		"3164 tag with colon":   func() error { _, err := RFC3164(User, Options{AppName: "a:b"}); return err },
		"5424 app too long":     func() error { _, err := RFC5424(User, Options{AppName: strings.Repeat("a", 49)}); return err },
		"5424 host with space":  func() error { _, err := RFC5424(User, Options{Hostname: "a b"}); return err },
		"5424 non-ASCII msgid":  func() error { _, err := RFC5424(User, Options{MsgID: "é"}); return err },
		"priority out of range": func() error { _, err := RFC5424(192, Options{}); return err },
		"negative priority":     func() error { _, err := Journald(-1, Options{}); return err },
		"field without =":       func() error { _, err := Journald(User, Options{Fields: []string{"X"}}); return err },
		"lower-case field":      func() error { _, err := Journald(User, Options{Fields: []string{"x=1"}}); return err },
		"trusted field":         func() error { _, err := Journald(User, Options{Fields: []string{"_PID=1"}}); return err },
		"field set by format":   func() error { _, err := Journald(User, Options{Fields: []string{"MESSAGE=1"}}); return err },
	} {
		if err := mk(); err == nil || !strings.HasPrefix(err.Error(), "format: ") {
			t.Errorf("%s: got %v, want a format error", name, err)
		}
	}
}

func TestLevelField(t *testing.T) {
	for _, c := range []struct {
		rec  string
		want Priority
		ok   bool
	}{
		{`time=2026-11-09T07:05:03Z level=WARN msg=x`, Warning, true},                      // slog text
		{`{"time":"2026-11-09T07:05:03Z","level":"ERROR+2","msg":"x"}`, Err, true},         // slog JSON
		{`{"time":"x","level":"ERROR+4","msg":"x"}`, Crit, true},                           // slog, far above Error
		{`{"time":"x","level":"INFO+2","msg":"x"}`, Notice, true},                          // between Info and Warn
		{`{"time":"x","level":"DEBUG-4","msg":"x"}`, Debug, true},                          // below Debug
		{`{"level":"info","ts":1.5,"msg":"x"}`, Info, true},                                // zap
		{`{"level":"dpanic","msg":"x"}`, Crit, true},                                       // zap
		{`{"level":"fatal","time":"x","message":"x"}`, Alert, true},                        // zerolog
		{`{"level":"trace","message":"x"}`, Debug, true},                                   // zerolog
		{`level=warning msg=x`, Warning, true},                                             // logfmt
		{`msg="no level here"`, 0, false},                                                  //
		{`sublevel=error`, 0, false},                                                       // not a key of its own
		{`{"level":"loud"}`, 0, false},                                                     //
		{`{"level":"INFO+x"}`, 0, false},                                                   //
		{strings.Repeat("x", levelScan) + ` level=ERROR`, 0, false},                        // beyond the scan
		{`<3>level=DEBUG`, 0, false},                                                       // not after a space
		{`{"level":"INFO"` + "\n", Info, true},                                             //
		{"level=INFO\n", Info, true},                                                       //
		{`{"msg":"quoted \"level\":\"error\" inside","level":"info"}`, Info, true},         // escaped quotes do not match
		{`{"msg":"x","level":"info","x":"\"level\":\"error\""}`, Info, true},               //
		{`{"msg":"x","nested":{"level":"error"},"level":"info"}`, Err, true},               // a limitation: the first match wins
		{`{"msg":"x","level":"error","time":"2026-11-09T07:05:03.123456789Z"}`, Err, true}, //
	} {
		got, ok := LevelField([]byte(c.rec))
		if ok != c.ok || got != c.want {
			t.Errorf("%.60q: got %d, %v; want %d, %v", c.rec, got, ok, c.want, c.ok)
		}
	}
	if SeverityOf(slog.LevelInfo) != Info || SeverityOf(slog.LevelWarn) != Warning || SeverityOf(slog.LevelError) != Err || SeverityOf(slog.LevelDebug) != Debug {
		t.Error("SeverityOf maps slog's four levels wrongly")
	}
}

// TestLevelSetsSeverity: Options.Level applies to records without a PRI,
// and keeps the format's facility.
func TestLevelSetsSeverity(t *testing.T) {
	f, err := RFC3164(Local1|Info, Options{AppName: "api", ProcID: "-", Level: LevelField})
	if err != nil {
		t.Fatal(err)
	}
	local := time.Date(2026, 1, 19, 17, 5, 3, 0, time.Local)
	if got, want := frame(t, f, "level=ERROR msg=x\n", local), "<139>Jan 19 17:05:03 api: level=ERROR msg=x"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := frame(t, f, "<7>level=ERROR", local), "<143>Jan 19 17:05:03 api: level=ERROR"; got != want {
		t.Errorf("a PRI wins over the level field: got %q, want %q", got, want)
	}
}

func TestFrameAllocatesNothing(t *testing.T) {
	s, _ := RFC5424(User|Info, Options{Level: LevelField})
	j, _ := Journald(User|Info, Options{})
	rec := []byte(`{"level":"warn","msg":"x"}` + "\n")
	dst := make([]byte, 0, 4096)
	stamp := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() {
		stamp = s.AppendStamp(stamp[:0], when)
		s.Frame(dst[:0], rec, stamp)
		j.Frame(dst[:0], rec, j.AppendStamp(stamp[:0], when))
	}); n != 0 {
		t.Errorf("%v allocations per record", n)
	}
}

// FuzzFrame: for any record, every format's frame is its header, a
// sub-slice of the record, and its trailer, within MaxOverhead; the body is
// the record less a valid PRI and one trailing newline, as a simple model
// computes it.
func FuzzFrame(f *testing.F) {
	for _, s := range []string{"", "<", "<1>", "<191>x\n", "<192>", "<00>", "<7", "a\n\n", `{"level":"ERROR-9"}`, "level=info+200"} {
		f.Add([]byte(s))
	}
	s1, _ := RFC3164(User|Info, Options{Level: LevelField})
	s2, _ := RFC5424(User|Info, Options{Level: LevelField})
	j, _ := Journald(User|Info, Options{Level: LevelField})
	f.Fuzz(func(t *testing.T, rec []byte) {
		want := string(rec)
		if i := strings.IndexByte(want, '>'); strings.HasPrefix(want, "<") && i > 1 && i <= 4 {
			d := want[1:i]
			if n, ok := atoi([]byte(d)); ok && n <= 191 && (len(d) == 1 || d[0] != '0') {
				want = want[i+1:]
			}
		}
		want = strings.TrimSuffix(want, "\n")
		for _, fm := range []interface {
			AppendStamp([]byte, time.Time) []byte
			Frame(dst, rec, stamp []byte) (hdr, body, trailer []byte)
			MaxOverhead() int
		}{s1, s2, j} {
			hdr, body, trailer := fm.Frame(nil, rec, fm.AppendStamp(nil, when))
			if string(body) != want {
				t.Fatalf("%T: body %q, want %q", fm, body, want)
			}
			if len(body) > 0 && !within(body, rec) {
				t.Fatalf("%T: body is a copy", fm)
			}
			if len(hdr)+len(trailer) > fm.MaxOverhead() {
				t.Fatalf("%T: %d bytes of header and trailer, MaxOverhead %d", fm, len(hdr)+len(trailer), fm.MaxOverhead())
			}
		}
	})
}

// TestLevelFieldBoundaries: level= must be a key of its own (after a space
// or tab, or first), any later occurrence counts, a JSON line's text is not
// read as key=value, and CR or tab end the value.
func TestLevelFieldBoundaries(t *testing.T) {
	for _, c := range []struct {
		rec  string
		want Priority
		ok   bool
	}{
		{"loglevel=3 level=ERROR msg=x", Err, true},
		{`{"msg":"x level=error now"}`, 0, false},
		{"level=ERROR\r\n", Err, true},
		{"time=x\tlevel=WARN\tmsg=y", Warning, true},
		{"a=b xlevel=INFO", 0, false},
	} {
		got, ok := LevelField([]byte(c.rec))
		if ok != c.ok || got != c.want {
			t.Errorf("%q: got %d, %v; want %d, %v", c.rec, got, ok, c.want, c.ok)
		}
	}
}

// TestDefaultAppNameIsValid: the program's name becomes a valid tag even
// when it is long, has spaces or non-ASCII bytes.
func TestDefaultAppNameIsValid(t *testing.T) {
	old := os.Args[0]
	defer func() { os.Args[0] = old }()
	for _, name := range []string{"/usr/bin/" + strings.Repeat("x", 80), "/opt/my app[1]:", "/bin/café"} {
		os.Args[0] = name
		for rfc, mk := range map[string]func() error{
			"3164": func() error { _, err := RFC3164(User|Info, Options{}); return err },
			"5424": func() error { _, err := RFC5424(User|Info, Options{}); return err },
		} {
			if err := mk(); err != nil {
				t.Errorf("%s with program %q: %v", rfc, name, err)
			}
		}
	}
}

// TestRecordPRISetsSeverityOnly: a record's leading <PRI> chooses its
// severity and never its facility, unless Options.RecordFacility says
// so: "<80>" would be authpriv.emerg; "<0>" is the format's facility at
// emerg (the severity is the record's). With the option, a
// record's facility Kern still takes the format's. Above <191> it is not
// a PRI at all.
func TestRecordPRISetsSeverityOnly(t *testing.T) {
	for _, c := range []struct {
		rec       string
		pri, prio Priority // syslog <PRI>; journald PRIORITY and SYSLOG_FACILITY
		anyFac    bool
		body      string
	}{
		{"<80>su: root", Local2 | Emerg, Emerg, false, "su: root"},
		{"<0>halt", Local2 | Emerg, Emerg, false, "halt"},
		{"<38>sshd", Local2 | Info, Info, false, "sshd"},
		{"<191>x", Local2 | Debug, Debug, false, "x"},
		{"<192>x", Local2 | Notice, Notice, false, "<192>x"},
		{"<80>su: root", Authpriv | Emerg, Emerg, true, "su: root"},
		{"<0>halt", Local2 | Emerg, Emerg, true, "halt"}, // kern: the format's facility
		{"<38>sshd", Auth | Info, Info, true, "sshd"},
		{"<192>x", Local2 | Notice, Notice, true, "<192>x"},
	} {
		o := Options{AppName: "api", ProcID: "42", RecordFacility: c.anyFac}
		f, err := RFC3164(Local2|Notice, o)
		if err != nil {
			t.Fatal(err)
		}
		local := time.Date(2026, 11, 9, 7, 5, 3, 0, time.Local)
		want := fmt.Sprintf("<%d>Nov  9 07:05:03 api[42]: %s", c.pri, c.body)
		if got := frame(t, f, c.rec, local); got != want {
			t.Errorf("RFC3164 RecordFacility=%v %q: got %q; want %q", c.anyFac, c.rec, got, want)
		}
		f5, err := RFC5424(Local2|Notice, o)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := frame(t, f5, c.rec, when), fmt.Sprintf("<%d>1 ", c.pri); !strings.HasPrefix(got, want) {
			t.Errorf("RFC5424 RecordFacility=%v %q: got %q; want it to start %q", c.anyFac, c.rec, got, want)
		}
		j, err := Journald(Local2|Notice, o)
		if err != nil {
			t.Fatal(err)
		}
		got := parseJournal(t, []byte(frame(t, j, c.rec, when)))
		wantJ := []string{fmt.Sprintf("PRIORITY=%d", c.prio), fmt.Sprintf("SYSLOG_FACILITY=%d", c.pri>>3)}
		if got[0] != wantJ[0] || got[1] != wantJ[1] || got[len(got)-1] != "MESSAGE="+c.body {
			t.Errorf("Journald RecordFacility=%v %q: got %q; want %q and MESSAGE=%s", c.anyFac, c.rec, got, wantJ, c.body)
		}
	}
}

// With Options.RecordFacility a record's <PRI> sets its facility as well
// as its severity, in journald's SYSLOG_FACILITY= too.
func TestJournaldRecordFacilitySetsSyslogFacility(t *testing.T) {
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

// The Kern constant's doc: "a record or default priority with facility
// Kern gets the format's facility instead, as glibc's syslog(3) does"
// (glibc: LogFacility, LOG_USER unless openlog set another). A default of
// plain Err (facility 0) is sent as a kernel message.
func TestDefaultPriorityOfFacilityKernGetsUser(t *testing.T) {
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

// With zero Options, RFC5424 works for a program whose name is longer than
// APP-NAME's 48 characters, or not ASCII: the default is truncated and
// sanitised.
func TestRFC5424DefaultAppNameFitsAnyProgram(t *testing.T) {
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

// RFC 3164 validates ProcID as it does AppName and Hostname: a ProcID with
// a newline, ']' or a space would break the header (with Newline framing,
// split the record in two), so it is refused.
func TestRFC3164RefusesAProcIDThatBreaksTheHeader(t *testing.T) {
	for _, p := range []string{"1\n2", "1] fake: ", "a b"} {
		if _, err := RFC3164(User|Info, Options{AppName: "api", ProcID: p}); err == nil {
			t.Errorf("ProcID %q accepted", p)
		}
	}
}
