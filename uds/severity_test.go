//go:build unix

package uds

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ringsink/ringsink/uds/format"
	"github.com/ringsink/ringsink/wait"
)

// heldDaemon accepts one connection and reads nothing from it until
// release is called; then it reads everything until EOF.
type heldDaemon struct {
	ln      *net.UnixListener
	conn    chan *net.UnixConn
	release chan struct{}
	got     chan []byte
}

func startHeldDaemon(t *testing.T, path string) *heldDaemon {
	t.Helper()
	ln, err := netListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	d := &heldDaemon{ln: ln, conn: make(chan *net.UnixConn, 1), release: make(chan struct{}), got: make(chan []byte, 1)}
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			d.got <- nil
			return
		}
		c.SetReadBuffer(4096)
		d.conn <- c
		<-d.release
		b, _ := io.ReadAll(c)
		c.Close()
		d.got <- b
	}()
	t.Cleanup(func() { ln.Close() })
	return d
}

// stuckBefore opens a Writer, Newline framing, on a daemon that reads
// nothing, with a small socket send buffer and a WriteTimeout long enough
// that no stall moves records out of the ring during the test, and writes
// rec's records one at a time until the consumer is blocked in a write
// the daemon does not read, so that the ring's head stands still (the
// records written after that stay in the ring, not in the consumer's
// batch). Nothing is refused. It returns how many records it wrote.
func stuckBefore(t *testing.T, cfg Config, rec func(i int) []byte) (*Writer, *heldDaemon, int) {
	t.Helper()
	cfg.Path = sockPath(t)
	d := startHeldDaemon(t, cfg.Path)
	cfg.Framing = Newline
	cfg.ErrorOnDrop = true
	cfg.SendBuffer = 4096
	cfg.WriteTimeout = time.Minute
	cfg.Wait = wait.Park() // every write wakes the consumer: the first records go out one by one
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = 10 * time.Second
	}
	w := mustOpen(t, cfg)
	written := 0
	for blocked := 0; blocked < 3; written++ {
		if _, err := w.Write(rec(written)); err != nil {
			t.Fatalf("before the socket was full: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
		if w.Stats().Pending > 0 {
			blocked++
		} else {
			blocked = 0
		}
	}
	time.Sleep(20 * time.Millisecond)
	return w, d, written
}

// stuckWriter is stuckBefore, then fills the ring with rec's records until
// they are refused. It returns how many records were accepted.
func stuckWriter(t *testing.T, cfg Config, rec func(i int) []byte) (*Writer, *heldDaemon, int) {
	t.Helper()
	w, d, accepted := stuckBefore(t, cfg, rec)
	for round := 0; round < 3; round++ {
		for {
			_, err := w.Write(rec(accepted))
			if errors.Is(err, ErrFull) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			accepted++
		}
		time.Sleep(10 * time.Millisecond)
	}
	return w, d, accepted
}

// fillReserve writes Emerg records with WriteContext (which does not use
// KeepWait) until the ring is full, reserve included, and returns them.
func fillReserve(t *testing.T, w *Writer) (recs []string) {
	t.Helper()
	for i := 0; ; i++ {
		rec := fmt.Sprintf("<0>emerg %06d %s", i, strings.Repeat("e", 40))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := w.WriteContext(ctx, []byte(rec))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

func infoRec(i int) []byte { return fmt.Appendf(nil, "info %06d %s", i, strings.Repeat("i", 40)) }

// TestReserveShedsBelowThresholdKeepsAbove: with the ring filled by Info
// records up to its reserve (the daemon reads nothing), records of Notice,
// Info and Debug are refused and counted under their severity, from
// WriteSeverity and from Write's <PRI> alike, while Warning and more
// severe records still fit until the reserve is used; then they are
// refused too (KeepWait negative: no wait), counted as such. Once the
// daemon reads, every accepted record arrives and the counts are exact.
func TestReserveShedsBelowThresholdKeepsAbove(t *testing.T) {
	const ringBytes, reserve = 16 << 10, 4 << 10
	w, d, infos := stuckWriter(t, Config{RingBytes: ringBytes, Reserve: reserve, KeepWait: -1}, infoRec)
	base := w.Stats()
	if base.DroppedBySeverity[format.Info] == 0 || base.DroppedFull != base.DroppedBySeverity[format.Info] {
		t.Fatalf("after filling: dropped by severity %v, DroppedFull %d; want only Info drops", base.DroppedBySeverity, base.DroppedFull)
	}
	// Below the threshold: refused, counted by severity.
	shed := []struct {
		sev  format.Priority
		n    int
		viaW bool
	}{{format.Notice, 3, false}, {format.Info, 5, false}, {format.Debug, 7, false}, {format.Notice, 2, true}, {format.Debug, 1, true}}
	want := base.DroppedBySeverity
	for _, s := range shed {
		for i := range s.n {
			var err error
			if s.viaW {
				_, err = w.Write(fmt.Appendf(nil, "<%d>shed %d", 8+s.sev, i)) // facility user: only PRI&7 counts
			} else {
				_, err = w.WriteSeverity(s.sev, fmt.Appendf(nil, "shed %d", i))
			}
			if !errors.Is(err, ErrFull) {
				t.Fatalf("severity %d: err %v; want ErrFull", s.sev, err)
			}
			want[s.sev]++
		}
	}
	// At or above the threshold: they fit in the reserve.
	var kept []string
	for i := 0; ; i++ {
		sev := format.Warning - format.Priority(i%5) // Warning, Err, Crit, Alert, Emerg
		rec := fmt.Sprintf("kept %03d %s", i, strings.Repeat("k", 40))
		var err error
		if i%2 == 0 {
			_, err = w.WriteSeverity(sev, []byte(rec))
		} else {
			rec = fmt.Sprintf("<%d>%s", sev, rec)
			_, err = w.Write([]byte(rec))
		}
		if errors.Is(err, ErrFull) {
			want[sev]++
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, rec)
	}
	// Each record takes 64 bytes here; padding at the buffer's end may
	// cost up to one record's room.
	if minKept := reserve/64 - 2; len(kept) < minKept {
		t.Fatalf("%d records at or above Warning fit in the %d-byte reserve; want at least %d", len(kept), reserve, minKept)
	}
	st := w.Stats()
	if st.DroppedBySeverity != want {
		t.Fatalf("dropped by severity %v; want %v", st.DroppedBySeverity, want)
	}
	var sum uint64
	for _, n := range st.DroppedBySeverity {
		sum += n
	}
	if st.DroppedFull != sum {
		t.Fatalf("DroppedFull %d; want the sum by severity, %d", st.DroppedFull, sum)
	}
	close(d.release)
	flushAndClose(t, w)
	got := <-d.got
	st = w.Stats()
	checkConservation(t, st)
	if st.Accepted != uint64(infos+len(kept)) || st.Written != st.Accepted {
		t.Fatalf("accepted %d, written %d; want %d Info + %d kept, all written", st.Accepted, st.Written, infos, len(kept))
	}
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(lines) != infos+len(kept) {
		t.Fatalf("the daemon read %d lines; want %d", len(lines), infos+len(kept))
	}
	if tail := strings.Join(lines[infos:], "|"); tail != strings.Join(kept, "|") {
		t.Fatalf("the daemon's last lines are %q; want the kept records %q", lines[infos:], kept)
	}
}

// TestShedFromMovesTheThreshold: with ShedFrom Warning, Warning records
// are shed at the reserve too, and Err records still fit.
func TestShedFromMovesTheThreshold(t *testing.T) {
	w, d, _ := stuckWriter(t, Config{RingBytes: 16 << 10, Reserve: 4 << 10, ShedFrom: format.Warning, KeepWait: -1}, infoRec)
	if _, err := w.WriteSeverity(format.Warning, []byte("warning")); !errors.Is(err, ErrFull) {
		t.Fatalf("Warning at the reserve with ShedFrom Warning: %v; want ErrFull", err)
	}
	if _, err := w.WriteSeverity(format.Err, []byte("error")); err != nil {
		t.Fatalf("Err at the reserve with ShedFrom Warning: %v; want nil", err)
	}
	if st := w.Stats(); st.DroppedBySeverity[format.Warning] != 1 || st.DroppedBySeverity[format.Err] != 0 {
		t.Fatalf("dropped by severity %v; want one Warning, no Err", st.DroppedBySeverity)
	}
	close(d.release)
	flushAndClose(t, w)
	if got := <-d.got; !bytes.HasSuffix(got, []byte("\nerror\n")) {
		t.Fatalf("the daemon's last line is not the Err record: %q", got[max(0, len(got)-80):])
	}
}

// TestNoReserveAdmitsEveryRecordToTheLastByte: a negative Reserve turns
// the reserve off: an Info record is refused only when the ring is full,
// and at once; an Emerg record is refused then too, after KeepWait.
func TestNoReserveAdmitsEveryRecordToTheLastByte(t *testing.T) {
	const keep = 200 * time.Millisecond
	w, d, _ := stuckWriter(t, Config{RingBytes: 16 << 10, Reserve: -1, KeepWait: keep}, infoRec)
	if st := w.Stats(); st.Pending*64 < 16<<10-128 {
		t.Fatalf("%d records of 64 bytes pending in a 16 KiB ring: the Info records stopped short of its end", st.Pending)
	}
	start := time.Now()
	if _, err := w.WriteSeverity(format.Info, infoRec(0)); !errors.Is(err, ErrFull) || time.Since(start) >= keep {
		t.Fatalf("Info on a full ring without a reserve: %v after %v; want ErrFull, without waiting", err, time.Since(start))
	}
	start = time.Now()
	if _, err := w.WriteSeverity(format.Emerg, infoRec(0)); !errors.Is(err, ErrFull) || time.Since(start) < keep {
		t.Fatalf("Emerg on a full ring without a reserve: %v after %v; want ErrFull after KeepWait", err, time.Since(start))
	}
	close(d.release)
	flushAndClose(t, w)
	<-d.got
}

// TestKeepWaitIsBounded: with the ring full, reserve included, a Warning
// waits for room up to KeepWait, then is dropped and counted; one that
// waits while the daemon starts to read gets in; Close ends a wait with
// ErrClosed.
func TestKeepWaitIsBounded(t *testing.T) {
	const keep = 50 * time.Millisecond
	w, d, _ := stuckWriter(t, Config{RingBytes: 16 << 10, KeepWait: keep}, infoRec)
	if len(fillReserve(t, w)) == 0 {
		t.Fatal("no record fitted in the reserve")
	}
	before := w.Stats().DroppedBySeverity[format.Warning]
	start := time.Now()
	_, err := w.WriteSeverity(format.Warning, []byte("waits and is dropped"))
	took := time.Since(start)
	if !errors.Is(err, ErrFull) || took < keep || took > keep+2*time.Second {
		t.Fatalf("WriteSeverity on a full ring: %v after %v; want ErrFull after %v (and well before %v)", err, took, keep, keep+2*time.Second)
	}
	if n := w.Stats().DroppedBySeverity[format.Warning] - before; n != 1 {
		t.Fatalf("%d Warning drops counted; want 1", n)
	}
	// Info is refused at once, without waiting.
	start = time.Now()
	if _, err := w.Write([]byte("info")); !errors.Is(err, ErrFull) || time.Since(start) >= keep {
		t.Fatalf("Info on a full ring: %v after %v; want ErrFull without a wait", err, time.Since(start))
	}
	close(d.release)
	flushAndClose(t, w)
	<-d.got

	// A wait that the consumer's release ends.
	w, d, _ = stuckWriter(t, Config{RingBytes: 16 << 10, KeepWait: 20 * time.Second}, infoRec)
	fillReserve(t, w)
	res := make(chan error, 1)
	go func() { _, err := w.WriteSeverity(format.Err, []byte("gets in")); res <- err }()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-res:
		t.Fatalf("WriteSeverity returned %v on a full ring before the daemon read", err)
	default:
	}
	close(d.release)
	if err := <-res; err != nil {
		t.Fatalf("WriteSeverity once the daemon reads: %v; want nil", err)
	}
	flushAndClose(t, w)
	if got := <-d.got; !bytes.HasSuffix(got, []byte("\ngets in\n")) {
		t.Fatalf("the waiting record is not the last line: %q", got[max(0, len(got)-80):])
	}

	// Close ends a wait.
	// (Close itself waits for the consumer's write in progress, up to
	// CloseTimeout: the wait ends at once, not then.)
	w, d, _ = stuckWriter(t, Config{RingBytes: 16 << 10, KeepWait: 20 * time.Second, CloseTimeout: 5 * time.Second}, infoRec)
	fillReserve(t, w)
	go func() { _, err := w.WriteSeverity(format.Err, []byte("closed")); res <- err }()
	time.Sleep(50 * time.Millisecond)
	closed := make(chan struct{})
	start = time.Now()
	go func() { w.Close(); close(closed) }()
	if err := <-res; !errors.Is(err, ErrClosed) || time.Since(start) > time.Second {
		t.Fatalf("a wait that Close ended: %v after %v; want ErrClosed at once", err, time.Since(start))
	}
	close(d.release)
	<-closed
	<-d.got
}

// noticeText is a DropNotice for tests: the counts by severity.
func noticeText(d Drops) []byte {
	return fmt.Appendf(nil, "<4>ringsink-dropped %v", d.BySeverity)
}

// parseNotice reads a noticeText line's counts.
func parseNotice(t *testing.T, line string) (by [8]uint64) {
	t.Helper()
	i := strings.Index(line, "ringsink-dropped [")
	if i < 0 {
		t.Fatalf("not a notice: %q", line)
	}
	s := strings.TrimSuffix(line[i+len("ringsink-dropped ["):], "]")
	f := strings.Fields(s)
	if len(f) != 8 {
		t.Fatalf("notice %q: %d counts", line, len(f))
	}
	for k := range f {
		if _, err := fmt.Sscan(f[k], &by[k]); err != nil {
			t.Fatalf("notice %q: %v", line, err)
		}
	}
	return by
}

// TestNoticeOvertakesARingFullOfWarnings: the daemon reads nothing; the
// ring fills with Warning records (the last refused: no KeepWait), and
// Info records offered meanwhile are refused. When the daemon reads, the
// drop notice arrives before the Warning records that were waiting in the
// ring (the consumer makes it; it is not queued behind them), and the
// notices' counts add up to Stats.DroppedBySeverity exactly.
func TestNoticeOvertakesARingFullOfWarnings(t *testing.T) {
	warn := func(i int) []byte { return fmt.Appendf(nil, "<4>warning %06d %s", i, strings.Repeat("w", 40)) }
	w, d, warnings := stuckWriter(t, Config{RingBytes: 16 << 10, KeepWait: -1, DropNotice: noticeText}, warn)
	for i := range 100 {
		if _, err := w.WriteSeverity(format.Info, fmt.Appendf(nil, "info %d", i)); !errors.Is(err, ErrFull) {
			t.Fatalf("Info on a ring full of warnings: %v; want ErrFull", err)
		}
	}
	st := w.Stats()
	if st.DroppedBySeverity[format.Info] != 100 || st.DroppedBySeverity[format.Warning] == 0 {
		t.Fatalf("dropped by severity %v; want 100 Info and some Warning", st.DroppedBySeverity)
	}
	close(d.release)
	flushAndClose(t, w)
	got := <-d.got
	final := w.Stats()
	checkConservation(t, final)
	var sum [8]uint64
	first, lastWarning, notices := -1, -1, 0
	sc := bufio.NewScanner(bytes.NewReader(got))
	n := 0
	for ; sc.Scan(); n++ {
		line := sc.Text()
		if strings.Contains(line, "ringsink-dropped") {
			by := parseNotice(t, line)
			for k := range sum {
				sum[k] += by[k]
			}
			if first < 0 {
				first = n
			}
			notices++
			continue
		}
		lastWarning = n
	}
	if sum != final.DroppedBySeverity || uint64(notices) != final.Notices {
		t.Fatalf("notices (%d) report %v; Stats: %v (%d notices)", notices, sum, final.DroppedBySeverity, final.Notices)
	}
	if first < 0 || first > lastWarning {
		t.Fatalf("the first notice is line %d, the last warning line %d: the notice waited behind the ring", first, lastWarning)
	}
	if n-notices != warnings {
		t.Fatalf("the daemon read %d warnings; %d were accepted", n-notices, warnings)
	}
}

// TestSeverityPrefixOnlyWhereAFormatReadsIt: without a Format,
// WriteSeverity sends p's bytes as they are (no <N> in front); with a
// format.RFC3164 the severity is the header's, and the prefix is cut.
func TestSeverityPrefixOnlyWhereAFormatReadsIt(t *testing.T) {
	path := sockPath(t)
	ln, err := netListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := readOne(ln)
	w := mustOpen(t, Config{Path: path, Framing: Newline})
	w.WriteSeverity(format.Err, []byte("plain"))
	flushAndClose(t, w)
	if b := <-got; string(b) != "plain\n" {
		t.Fatalf("without a Format the daemon read %q; want %q", b, "plain\n")
	}

	f, err := format.RFC3164(format.Local0|format.Info, format.Options{AppName: "app", ProcID: "-"})
	if err != nil {
		t.Fatal(err)
	}
	got = readOne(ln)
	w = mustOpen(t, Config{Path: path, Framing: Newline, Format: f, Level: format.LevelField})
	w.WriteSeverity(format.Err, []byte("explicit"))
	w.WriteSeverity(format.User|format.Warning, []byte("<2>own prefix stays"))
	w.Write([]byte(`{"level":"WARN","msg":"level field"}`))
	w.Write([]byte("<1>pri"))
	w.Write([]byte("none"))
	flushAndClose(t, w)
	b := <-got
	want := []struct {
		pri  int
		body string
	}{{int(format.Local0 | format.Err), "explicit"}, {int(format.Local0 | format.Warning), "<2>own prefix stays"},
		{int(format.Local0 | format.Warning), `{"level":"WARN","msg":"level field"}`}, {int(format.Local0 | format.Alert), "pri"}, {int(format.Local0 | format.Info), "none"}}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("the daemon read %q", b)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, fmt.Sprintf("<%d>", want[i].pri)) || !strings.HasSuffix(l, "app: "+want[i].body) {
			t.Errorf("line %d: %q; want <%d>... app: %s", i, l, want[i].pri, want[i].body)
		}
	}
}

// TestLeadingPRIReadsAsTheFormatDoes: Write's bounded <PRI> check agrees
// with package format's parse on what is a <PRI> and its severity.
func TestLeadingPRIReadsAsTheFormatDoes(t *testing.T) {
	f, err := format.RFC3164(format.Local0|format.Debug, format.Options{AppName: "a", ProcID: "-"})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []string{"", "<", "<>", "<1", "<1>", "<0>x", "<7>", "<8>", "<13>x", "<191>x", "<192>x", "<01>x", "<00>x", "<1000>x", "<a>x", "<1a>", " <3>x", "<3 >x", "<99>", "<100>"} {
		sev, ok := leadingPRI([]byte(rec))
		hdr, body, _ := f.Frame(nil, []byte(rec), nil)
		var fpri int
		fmt.Sscanf(string(hdr), "<%d>", &fpri)
		fsev := format.Priority(fpri) & 7
		if cut := len(body) < len(rec); ok != cut || ok && sev != fsev {
			t.Errorf("%q: leadingPRI %d, %v; the format reads severity %d", rec, sev, ok, fsev)
		}
	}
}

// TestAdmissionConfigIsChecked: Open refuses a Reserve above half the
// ring and a ShedFrom that is not a severity.
func TestAdmissionConfigIsChecked(t *testing.T) {
	path := sockPath(t)
	for _, cfg := range []Config{
		{Path: path, RingBytes: 4096, Reserve: 2049},
		{Path: path, ShedFrom: 8},
		{Path: path, ShedFrom: -1},
	} {
		if w, err := Open(cfg); err == nil {
			w.Close()
			t.Errorf("Open(Reserve %d, ShedFrom %d) succeeded", cfg.Reserve, cfg.ShedFrom)
		}
	}
	w := mustOpen(t, Config{Path: path, RingBytes: 4096, Reserve: 2048, CloseTimeout: time.Millisecond})
	if _, err := w.WriteSeverity(format.Debug, make([]byte, w.MaxRecord())); err != nil {
		t.Fatalf("a MaxRecord Debug record with the largest reserve, in an empty ring: %v", err)
	}
	w.Close()
}

// TestWriteContextWaitsAtTheReserve: WriteContext keeps the reserve too:
// an Info record waits (here, until its ctx ends) while only the reserve
// is free, and a Warning one goes in.
func TestWriteContextWaitsAtTheReserve(t *testing.T) {
	w, d, _ := stuckWriter(t, Config{RingBytes: 16 << 10, Reserve: 4 << 10, KeepWait: -1}, infoRec)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := w.WriteContext(ctx, []byte("info")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WriteContext(Info) at the reserve: %v; want the ctx's deadline", err)
	}
	if _, err := w.WriteContext(context.Background(), []byte("<3>error")); err != nil {
		t.Fatalf("WriteContext(Err) at the reserve: %v", err)
	}
	close(d.release)
	flushAndClose(t, w)
	if got := <-d.got; !bytes.HasSuffix(got, []byte("\n<3>error\n")) {
		t.Fatalf("the daemon's last line is not the Err record: %q", got[max(0, len(got)-80):])
	}
}

// TestCloseSendsTheLastNotice: a drop that wakes nobody (a record too
// large, refused before the ring) is reported by Close, which sends the
// notice still due while connected; none is lost at shutdown.
func TestCloseSendsTheLastNotice(t *testing.T) {
	path := sockPath(t)
	d := startDaemon(t, path)
	w := mustOpen(t, Config{Path: path, Framing: Newline, MaxRecord: 16,
		DropNotice: func(d Drops) []byte { return fmt.Appendf(nil, "dropped %d too large", d.TooLarge) }})
	w.Write([]byte("first"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 17)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write of 17 bytes: %v; want ErrTooLarge", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d.wait()
	if got, want := string(bytes.Join(d.data(), nil)), "first\ndropped 1 too large\n"; got != want {
		t.Fatalf("the daemon read %q; want %q", got, want)
	}
}

// TestSeverityOutlivesACrashInTheSpillFile: with SpillDir and a format
// of package format, a WriteSeverity record is kept in the ring file with
// its <N> prefix (checksummed whole), and the next Writer sends it with
// its severity in the header and the prefix cut; an Info record from
// Write keeps the format's default. The conservation law holds on both
// sides of the restart.
func TestSeverityOutlivesACrashInTheSpillFile(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	f, err := format.RFC3164(format.Local0|format.Info, format.Options{AppName: "app", ProcID: "-"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Path: path, Network: "unixgram", SpillDir: dir, RingBytes: 64 << 10, CloseTimeout: 50 * time.Millisecond, Format: f}
	w := mustOpen(t, cfg)
	w.WriteSeverity(format.Crit, []byte("kept across the restart"))
	w.Write([]byte("plain"))
	if err := w.Close(); err != nil {
		t.Fatalf("Close with the daemon away and records kept in the file: %v; want nil (kept is not an error)", err)
	}
	if st := w.Stats(); st.Pending+st.Buffered != 2 {
		t.Fatalf("after Close: %d records pending and %d buffered; want the 2 kept in the file", st.Pending, st.Buffered)
	}
	checkConservation(t, w.Stats())

	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	w = mustOpen(t, cfg)
	if st := w.Stats(); st.Recovered != 2 {
		t.Fatalf("recovered %d records; want 2", st.Recovered)
	}
	flushAndClose(t, w)
	checkConservation(t, w.Stats())
	want := []string{fmt.Sprintf("<%d>", format.Local0|format.Crit), fmt.Sprintf("<%d>", format.Local0|format.Info)}
	bodies := []string{"app: kept across the restart", "app: plain"}
	buf := make([]byte, 512)
	for i := range want {
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); !strings.HasPrefix(got, want[i]) || !strings.HasSuffix(got, bodies[i]) {
			t.Fatalf("datagram %d: %q; want %s... %s", i, got, want[i], bodies[i])
		}
	}
}
