//go:build unix

package uds

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

// formatRecord is record i of the format end-to-end tests and the priority
// and message a daemon must parse from it: its severity comes from a <PRI>
// prefix, a slog level field, or the format's default, in turn.
func formatRecord(i int) (rec []byte, pri int, msg string) {
	const def = int(format.Local2 | format.Info)
	switch i % 3 {
	case 0:
		msg = fmt.Sprintf("rec %d err body", i)
		return []byte("<3>" + msg), def&^7 | 3, msg
	case 1:
		msg = fmt.Sprintf("level=WARN msg=\"rec %d\"", i)
		return []byte(msg + "\n"), def&^7 | 4, msg
	}
	msg = fmt.Sprintf("rec %d plain %s", i, strings.Repeat("x", i%200))
	return []byte(msg), def, msg
}

func formatFor(t *testing.T, rfc int) format.Format {
	t.Helper()
	o := format.Options{AppName: "ringsink-e2e", ProcID: "4242", MsgID: "m1", Level: format.LevelField}
	var f format.Format
	var err error
	if rfc == 3164 {
		f, err = format.RFC3164(format.Local2|format.Info, o)
	} else {
		f, err = format.RFC5424(format.Local2|format.Info, o)
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sendFormatted writes n formatRecords through a Writer with the RFC's
// format to path, flushes and closes it, and returns its Stats.
func sendFormatted(t *testing.T, path string, rfc, n int) Stats {
	t.Helper()
	w := mustOpen(t, Config{Path: path, Format: formatFor(t, rfc)})
	for i := range n {
		rec, _, _ := formatRecord(i)
		if err := writeAll(w, rec); err != nil {
			t.Fatal(err)
		}
	}
	flushAndClose(t, w)
	st := w.Stats()
	checkConservation(t, st)
	if st.Written != uint64(n) || st.Connects != 1 {
		t.Fatalf("written %d of %d, connects %d", st.Written, n, st.Connects)
	}
	return st
}

// checkParsed checks a daemon's lines "PRI PROGRAM PID MSGID UNIXTIME
// |MSG|": every record once, in order, with the priority, program, pid,
// msgid (RFC 5424; "-" or empty otherwise) and message the format sent,
// and the daemon's reading of our timestamp within a minute of now.
func checkParsed(t *testing.T, lines []string, n, rfc int) {
	now := time.Now()
	t.Helper()
	if len(lines) != n {
		t.Fatalf("%d lines; want %d", len(lines), n)
	}
	for i, line := range lines {
		_, pri, msg := formatRecord(i)
		f := strings.SplitN(line, " ", 6)
		if len(f) != 6 {
			t.Fatalf("line %d: %q", i, line)
		}
		got := strings.TrimPrefix(strings.TrimSuffix(f[5], "|"), "|")
		wantID := "m1"
		if rfc == 3164 {
			wantID = f[3] // no MSGID in RFC 3164: whatever the daemon prints for none
			if wantID != "-" && wantID != "" {
				t.Fatalf("line %d: MSGID %q from an RFC 3164 message", i, wantID)
			}
		}
		if f[0] != strconv.Itoa(pri) || f[1] != "ringsink-e2e" || f[2] != "4242" || f[3] != wantID || got != msg {
			t.Fatalf("line %d = %q; want priority %d, program ringsink-e2e, pid 4242, msgid %s, message %q", i, line, pri, wantID, msg)
		}
		sec, err := strconv.ParseInt(f[4], 10, 64)
		if err != nil {
			t.Fatalf("line %d: time %q: %v", i, f[4], err)
		}
		if d := time.Unix(sec, 0).Sub(now); d < -time.Minute || d > time.Minute {
			t.Fatalf("line %d: the daemon read our timestamp as %v, %v from now", i, time.Unix(sec, 0), d)
		}
	}
}

// TestSyslogNGParsesFormats: syslog-ng's unix-dgram source parses what the
// RFC 3164 format sends (as glibc's syslog(3) would), and its
// syslog-protocol flag what RFC 5424 sends: priority from <PRI> prefixes
// and slog level fields, program, pid, msgid, timestamp and message.
func TestSyslogNGParsesFormats(t *testing.T) {
	sng, dir := syslogNGInTempDir(t)
	lines := sendBothFormats(t, dir, "syslog-ng", func() { sng.stop(syscall.SIGTERM) })
	checkBothFormats(t, lines)
}

// formatLines is how many records each format sends in the e2e tests.
const formatLines = 3000

// sendBothFormats sends formatLines records with the RFC 3164 format to
// dir/log.3164, waits until the daemon has written them all to
// dir/parsed.log, then does the same for RFC 5424 on dir/log.5424 (a
// daemon may read its sockets apart: one format at a time keeps the file in
// send order). It then stops the daemon and returns the file's lines.
func sendBothFormats(t *testing.T, dir, daemon string, stop func()) []string {
	t.Helper()
	parsed := filepath.Join(dir, "parsed.log")
	for i, rfc := range []int{3164, 5424} {
		sendFormatted(t, filepath.Join(dir, fmt.Sprintf("log.%d", rfc)), rfc, formatLines)
		waitFor(t, daemon+" to write every line", 20*time.Second, func() bool {
			b, _ := os.ReadFile(parsed)
			return bytes.Count(b, []byte{'\n'}) >= formatLines*(i+1)
		})
	}
	stop()
	out, err := os.ReadFile(parsed)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 2*formatLines {
		t.Fatalf("%d lines; want %d", len(lines), 2*formatLines)
	}
	return lines
}

// checkBothFormats checks sendBothFormats' lines: the RFC 3164 ones, then
// the RFC 5424 ones.
func checkBothFormats(t *testing.T, lines []string) {
	t.Helper()
	checkParsed(t, lines[:formatLines], formatLines, 3164)
	checkParsed(t, lines[formatLines:], formatLines, 5424)
}

// rsyslogd finds rsyslogd and its module directory: on PATH (installed
// from Debian), or unpacked by .ci/run (dpkg -x: the rsyslog package
// conflicts with syslog-ng-core) under $RINGSINK_RSYSLOG_ROOT.
func rsyslogd(t *testing.T) (bin string, args []string) {
	t.Helper()
	if root := os.Getenv("RINGSINK_RSYSLOG_ROOT"); root != "" {
		mods, _ := filepath.Glob(filepath.Join(root, "usr/lib/*/rsyslog"))
		bin = filepath.Join(root, "usr/sbin/rsyslogd")
		if _, err := os.Stat(bin); err == nil && len(mods) == 1 {
			return bin, []string{"-M", mods[0]}
		}
		t.Fatalf("RINGSINK_RSYSLOG_ROOT=%s holds no usr/sbin/rsyslogd and usr/lib/*/rsyslog", root)
	}
	return needBinary(t, "rsyslogd", "rsyslog (or RINGSINK_RSYSLOG_ROOT, as .ci/run sets)"), nil
}

const rsyslogConf = `global(workDirectory="%[1]s" maxMessageSize="64k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="%[1]s/log.3164")
input(type="imuxsock" Socket="%[1]s/log.5424" UseSpecialParser="off" ParseHostname="on" IgnoreTimestamp="off")
template(name="t" type="string" string="%%pri%% %%programname%% %%procid%% %%msgid%% %%timereported:::date-unixtimestamp%% |%%msg%%|\n")
*.* action(type="omfile" file="%[1]s/parsed.log" template="t")
`

// TestRsyslogImuxsock: rsyslog's imuxsock, the /dev/log input of most
// distributions, on temp sockets: its default set-up for RFC 3164 (which
// stamps messages with its own receive time), and the one RFC 5424 needs
// (the message's own parsers, hostname and timestamp). Every record arrives
// once, in order, parsed as sent.
func TestRsyslogImuxsock(t *testing.T) {
	bin, args := rsyslogd(t)
	dir, err := os.MkdirTemp("", "rsl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "rs.conf"), fmt.Appendf(nil, rsyslogConf, dir), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(args, "-n", "-f", filepath.Join(dir, "rs.conf"), "-i", filepath.Join(dir, "pid"))...)
	logf, err := os.Create(filepath.Join(dir, "rsyslogd.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	output := func() string { b, _ := os.ReadFile(logf.Name()); return string(b) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func(sig syscall.Signal) {
		cmd.Process.Signal(sig)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(func() { stop(syscall.SIGKILL) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, e1 := os.Stat(filepath.Join(dir, "log.3164"))
		_, e2 := os.Stat(filepath.Join(dir, "log.5424"))
		if e1 == nil && e2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd made no sockets in 10 s:\n%s", output())
		}
		time.Sleep(5 * time.Millisecond)
	}
	lines := sendBothFormats(t, dir, "rsyslog", func() { stop(syscall.SIGTERM) })
	// rsyslog's %msg% keeps the space after an RFC 3164 tag's colon.
	for i := range formatLines {
		lines[i] = strings.Replace(lines[i], "| ", "|", 1)
	}
	checkBothFormats(t, lines)
}
