//go:build unix

package uds

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

// forgedSSHD is a syslog line a record may carry to pass itself off as
// another program's message.
const forgedSSHD = "<38>Jan  1 00:00:00 h sshd[1]: Accepted password for root from 10.6.6.6"

// TestSyslogNGNULCannotForgeAMessage: syslog-ng's stream reader ends a
// message at a NUL as at '\n', so with Newline framing a record holding
// one used to arrive as two messages, the second a forged sshd line. Write
// refuses it (ErrNUL, counted), and the daemon sees only the records sent
// whole.
func TestSyslogNGNULCannotForgeAMessage(t *testing.T) {
	sng, dir := syslogNGInTempDir(t)
	w := mustOpen(t, Config{Path: filepath.Join(dir, "log.sock"), Framing: Newline})
	recs := []struct {
		rec  string
		want error
	}{
		{"before", nil},
		{"user=bob logged out\x00" + forgedSSHD, ErrNUL},
		{"user=bob logged out\x00" + forgedSSHD + "\n", ErrNUL},
		{"trailing NUL\x00", ErrNUL},
		{"\x00", ErrNUL},
		{"user=bob logged out\n" + forgedSSHD, ErrNewline},
		{"after\n", nil},
	}
	for _, r := range recs {
		if _, err := w.Write([]byte(r.rec)); !errors.Is(err, r.want) || (r.want == nil) != (err == nil) {
			t.Fatalf("Write(%q) = %v; want %v", r.rec, err, r.want)
		}
	}
	flushAndClose(t, w)
	if st := w.Stats(); st.DroppedNewline != 5 || st.Written != 2 {
		t.Fatalf("DroppedNewline %d, Written %d; want 5, 2", st.DroppedNewline, st.Written)
	}
	lines := syslogNGLines(t, sng, dir, "out.log", 2)
	if want := []string{"before", "after"}; strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("syslog-ng received %q; want %q", lines, want)
	}
}

// syslogNGLines waits until syslog-ng has written n lines to file in dir,
// stops it and returns the file's lines.
func syslogNGLines(t *testing.T, sng *syslogNG, dir, file string, n int) []string {
	t.Helper()
	path := filepath.Join(dir, file)
	waitFor(t, "syslog-ng to write its lines", 20*time.Second, func() bool {
		b, _ := os.ReadFile(path)
		return strings.Count(string(b), "\n") >= n
	})
	sng.stop(syscall.SIGTERM)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestSyslogNGRecordPRISetsSeverityOnly: syslog-ng parses what the RFC 3164
// format sends for records that start with a <PRI>. By default the prefix
// sets the severity only: "<80>" (authpriv.emerg) arrives in the format's
// facility, local2, as "<0>" does (as local2.emerg: the severity is the
// record's, and rsyslog's default *.emerg rule still broadcasts it); with
// format.Options.RecordFacility the
// record chooses (facility kern still takes the format's). "<192>" is no
// PRI: it stays in the message.
func TestSyslogNGRecordPRISetsSeverityOnly(t *testing.T) {
	recs := []string{"<80>su: root", "<0>halt", "<38>sshd", "<192>x"}
	for _, tc := range []struct {
		anyFac bool
		want   []string // PRI |MSG|
	}{
		{false, []string{"144 |su: root|", "144 |halt|", "150 |sshd|", "150 |<192>x|"}},
		{true, []string{"80 |su: root|", "144 |halt|", "38 |sshd|", "150 |<192>x|"}},
	} {
		t.Run(fmt.Sprintf("RecordFacility=%v", tc.anyFac), func(t *testing.T) {
			sng, dir := syslogNGInTempDir(t)
			f, err := format.RFC3164(format.Local2|format.Info, format.Options{AppName: "api", ProcID: "7", RecordFacility: tc.anyFac})
			if err != nil {
				t.Fatal(err)
			}
			w := mustOpen(t, Config{Path: filepath.Join(dir, "log.3164"), Format: f})
			for _, r := range recs {
				if _, err := w.Write([]byte(r)); err != nil {
					t.Fatalf("Write(%q): %v", r, err)
				}
			}
			flushAndClose(t, w)
			var got []string
			for _, line := range syslogNGLines(t, sng, dir, "parsed.log", len(recs)) {
				// "PRI PROGRAM PID MSGID UNIXTIME |MSG|"
				f := strings.SplitN(line, " ", 6)
				if len(f) != 6 || f[1] != "api" || f[2] != "7" {
					t.Fatalf("line %q: want program api, pid 7", line)
				}
				got = append(got, f[0]+" "+f[5])
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("syslog-ng parsed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
