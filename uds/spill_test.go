//go:build unix

package uds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/ring"
	"github.com/ringsink/ringsink/offline"
)

// spillConfig is a datagram Writer with a spill directory and a short Close.
// privateDir returns a new directory of the test's, mode 0700, as a spill
// directory must be (t.TempDir's are 0755 under the usual umask).
func privateDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func spillConfig(path, dir string) Config {
	return Config{Path: path, Network: "unixgram", SpillDir: dir, RingBytes: 64 << 10, CloseTimeout: 100 * time.Millisecond}
}

// TestSpillKeepsWhatCloseCouldNotSend: records written while the daemon is
// away stay in the spill file after Close and go out first, in order, from
// the next Writer, before its own.
func TestSpillKeepsWhatCloseCouldNotSend(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	writeNumbered(t, w, 0, 300)
	err := w.Close()
	if err != nil {
		t.Fatalf("Close = %v; want nil: the records not sent are kept in the file", err)
	}
	st := w.Stats()
	if st.Accepted != 300 || st.Pending != 300 || st.Evicted != 0 {
		t.Fatalf("stats after Close: %+v", st)
	}
	checkConservation(t, st)

	d := startMsgDaemon(t, "unixgram", path, false)
	w = mustOpen(t, spillConfig(path, dir))
	if rc := w.recovery; rc.Records != 300 || rc.Unfinished+rc.Damaged+rc.Unverified != 0 {
		t.Fatalf("Recovery = %+v", rc)
	}
	writeNumbered(t, w, 300, 500)
	st = d.finish(t, w, 500, false)
	if st.Recovered != 300 || st.Accepted != 200 || st.Written != 500 {
		t.Fatalf("stats: %+v", st)
	}

	// Everything was sent: the next Writer recovers nothing.
	w = mustOpen(t, spillConfig(path, dir))
	if rc := w.recovery; rc.Records != 0 {
		t.Fatalf("Recovery after a full send = %+v", rc)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSpillEvictsOldestWhileAway: with the daemon away the ring is the
// backlog; the consumer evicts the oldest records to keep room, counts
// them, and the newest reach the daemon later, in order.
func TestSpillEvictsOldestWhileAway(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	cfg := spillConfig(path, dir)
	cfg.RingBytes = 8 << 10
	w := mustOpen(t, cfg)
	const n = 2000 // about 170 bytes each on average: about 40 rings' worth
	writeNumbered(t, w, 0, n)
	w.Close()
	st := w.Stats()
	checkConservation(t, st)
	if st.Evicted == 0 || st.Pending == 0 || st.Accepted != n || st.DroppedFull != 0 {
		t.Fatalf("stats: %+v", st)
	}
	d := startMsgDaemon(t, "unixgram", path, false)
	w = mustOpen(t, cfg)
	if w.recovery.Records != int(st.Pending) {
		t.Fatalf("recovered %d, pending was %d", w.recovery.Records, st.Pending)
	}
	flushAndClose(t, w)
	waitFor(t, "the backlog", 10*time.Second, func() bool { return len(d.got()) == int(st.Pending) })
	for i, m := range d.got() {
		if want := numbered(int(st.Evicted) + i); !bytes.Equal(m, want) {
			t.Fatalf("message %d = %q, want %q (the newest, in order)", i, m, want)
		}
	}
}

func TestSpillDirBelongsToOneWriter(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	if _, err := Open(spillConfig(path, dir)); !errors.Is(err, ErrSpillInUse) {
		t.Fatalf("second Open = %v, want ErrSpillInUse", err)
	}
	w.Close()
	w = mustOpen(t, spillConfig(path, dir)) // free again after Close
	w.Close()
}

func TestSpillConfigErrors(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	for name, mut := range map[string]func(*Config){
		"offline":       func(c *Config) { c.Offline = offline.New[[]byte](4) },
		"sync without":  func(c *Config) { c.SpillDir, c.SpillSync = "", time.Second },
		"negative sync": func(c *Config) { c.SpillSync = -1 },
		"dir is a file": func(c *Config) { c.SpillDir = file },
		"under a file":  func(c *Config) { c.SpillDir = filepath.Join(file, "x") },
		"ring is a dir?": func(c *Config) {
			os.Mkdir(filepath.Join(dir, "d"), 0o700)
			os.Mkdir(filepath.Join(dir, "d", "ring"), 0o700)
			c.SpillDir = filepath.Join(dir, "d")
		},
	} {
		cfg := spillConfig(path, filepath.Join(dir, "spill"))
		mut(&cfg)
		if w, err := Open(cfg); err == nil {
			w.Close()
			t.Errorf("%s: Open succeeded", name)
		} else if !strings.HasPrefix(err.Error(), "uds: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSpillDamagedFile: a ring file that is not one, or was cut short, is
// refused with an error that says so (ErrSpillDamaged, the path), and left
// as it was.
func TestSpillDamagedFile(t *testing.T) {
	path := sockPath(t)
	for name, damage := range map[string]func(f string){
		"foreign":   func(f string) { os.WriteFile(f, bytes.Repeat([]byte("log line\n"), 1000), 0o600) },
		"truncated": func(f string) { os.Truncate(f, ring.DurableHeader+1000) },
		"header":    func(f string) { os.Truncate(f, 100) },
	} {
		dir := privateDir(t)
		w := mustOpen(t, spillConfig(path, dir))
		writeNumbered(t, w, 0, 10)
		w.Close()
		f := filepath.Join(dir, "ring")
		damage(f)
		before, _ := os.ReadFile(f)
		_, err := Open(spillConfig(path, dir))
		if !errors.Is(err, ErrSpillDamaged) || !strings.Contains(err.Error(), f) {
			t.Errorf("%s: Open = %v", name, err)
		}
		if after, _ := os.ReadFile(f); !bytes.Equal(before, after) {
			t.Errorf("%s: the refused file was changed", name)
		}
	}
}

// TestSpillFlippedBytes: bytes flipped in the file of a closed Writer cost
// the damaged records (counted), never a changed record on the wire.
func TestSpillFlippedBytes(t *testing.T) {
	path := sockPath(t)
	damaged := 0
	defer func() {
		if !t.Failed() && damaged == 0 {
			t.Fatal("no round counted damage: the flips never hit a record")
		}
	}()
	for round := range 20 {
		dir := privateDir(t)
		w := mustOpen(t, spillConfig(path, dir))
		writeNumbered(t, w, 0, 100)
		w.Close()
		f := filepath.Join(dir, "ring")
		b, _ := os.ReadFile(f)
		for k := range 3 {
			b[ring.DurableHeader+(round*997+k*1499)%3000] ^= 0x5a
		}
		os.WriteFile(f, b, 0o600)
		d := startMsgDaemon(t, "unixgram", path, false)
		w = mustOpen(t, spillConfig(path, dir))
		rc := w.recovery
		flushAndClose(t, w)
		waitFor(t, "the recovered records", 5*time.Second, func() bool { return len(d.got()) == rc.Records })
		got := d.got()
		j := 0
		for _, m := range got {
			for j < 100 && !bytes.Equal(m, numbered(j)) {
				j++
			}
			if j == 100 {
				t.Fatalf("round %d: %q on the wire is not a written record in order (%+v)", round, m, rc)
			}
			j++
		}
		// Uncounted, damage can only have cut records off the end.
		if rc.Damaged+rc.Unfinished == 0 {
			for i, m := range got {
				if !bytes.Equal(m, numbered(i)) {
					t.Fatalf("round %d: record %d lost without a count: %+v", round, i, rc)
				}
			}
		}
		damaged += min(rc.Damaged, 1)
		d.close()
	}
}

// TestSpillResizesOnlyAnEmptyFile: RingBytes applies to a new or emptied
// file; a file holding records keeps its size until they are sent.
func TestSpillResizesOnlyAnEmptyFile(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	size := func() int64 {
		fi, err := os.Stat(filepath.Join(dir, "ring"))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	cfg := spillConfig(path, dir)
	w := mustOpen(t, cfg)
	writeNumbered(t, w, 0, 5)
	w.Close()
	cfg.RingBytes = 128 << 10
	w = mustOpen(t, cfg)
	if got := size(); got != int64(ring.DurableSize(64<<10)) || w.recovery.Records != 5 {
		t.Fatalf("size %d, recovered %d: want the old size and 5 records", got, w.recovery.Records)
	}
	d := startMsgDaemon(t, "unixgram", path, false)
	d.finish(t, w, 5, false)
	w = mustOpen(t, cfg)
	w.Close()
	if got := size(); got != int64(ring.DurableSize(128<<10)) {
		t.Fatalf("emptied file is %d bytes, want %d", got, ring.DurableSize(128<<10))
	}
}

// TestSpillSync runs the msync path: records survive a reopen with the
// consumer syncing every millisecond while the daemon is away.
func TestSpillSync(t *testing.T) {
	var calls atomic.Int64
	real := msync
	msync = func(b []byte, flags int) error { calls.Add(1); return real(b, flags) }
	t.Cleanup(func() { msync = real })
	path, dir := sockPath(t), privateDir(t)
	cfg := spillConfig(path, dir)
	cfg.SpillSync = time.Millisecond
	w := mustOpen(t, cfg)
	writeNumbered(t, w, 0, 50)
	waitFor(t, "an msync of the first records", 5*time.Second, func() bool { return calls.Load() > 0 })
	before := calls.Load()
	writeNumbered(t, w, 50, 100)
	w.Close() // msyncs what changed since
	if err := w.LastError(); err != nil && strings.Contains(err.Error(), "msync") {
		t.Fatal(err)
	}
	if calls.Load() == before {
		t.Fatal("no msync after the last records")
	}
	d := startMsgDaemon(t, "unixgram", path, false)
	w = mustOpen(t, cfg)
	d.finish(t, w, 100, false)
}

// TestSpillStatsOnAReusedFile: the ring's counts go on from the file's last
// Writer; Stats must count from this Open.
func TestSpillStatsOnAReusedFile(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	d := startMsgDaemon(t, "unixgram", path, false)
	w := mustOpen(t, spillConfig(path, dir))
	writeNumbered(t, w, 0, 50)
	d.finish(t, w, 50, false)
	w = mustOpen(t, spillConfig(path, dir))
	if st := w.Stats(); st.Accepted != 0 || st.Pending != 0 || st.Recovered != 0 {
		t.Fatalf("a fresh Writer on a used file: %+v", st)
	}
	w.Close()
}

// TestSpillFlushWaitsWhileAway: records evicted while the daemon is away
// were not delivered, so Flush must not report them done.
func TestSpillFlushWaitsWhileAway(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	cfg := spillConfig(path, dir)
	cfg.RingBytes = 4 << 10
	w := mustOpen(t, cfg)
	defer w.Close()
	writeNumbered(t, w, 0, 400)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := w.Flush(ctx); err == nil {
		t.Fatalf("Flush = nil with the daemon away (%+v)", w.Stats())
	}
}

// TestSpillReleasesWhatTheKernelTookBeforeWaiting: with a spill directory
// the consumer returns after a send that made progress on a full receiver
// (conn.early), so what the kernel took is released from the file at once,
// not after the daemon drains the rest of the batch or WriteTimeout; a
// kill in that wait would otherwise have the next Open send it again. The
// records wait in the ring until a daemon that never reads appears, so the
// first batch is far larger than the socket takes; with a WriteTimeout of
// 10 s, Stats.Written must move within 2 s, on a stream and on a datagram
// socket.
func TestSpillReleasesWhatTheKernelTookBeforeWaiting(t *testing.T) {
	for _, network := range []string{"unix", "unixgram"} {
		t.Run(network, func(t *testing.T) {
			if network == "unix" && !writevEarly {
				t.Skip("the portable stream path (net.Buffers) does not return early")
			}
			path := sockPath(t)
			cfg := Config{Path: path, Network: network, SpillDir: privateDir(t), WriteTimeout: 10 * time.Second,
				SendBuffer: 8192, CloseTimeout: 10 * time.Millisecond, ReconnectMin: time.Millisecond, ReconnectMax: time.Millisecond}
			w := mustOpen(t, cfg)
			defer w.Close()
			for i := range 3000 {
				w.Write(fmt.Appendf(nil, "record %d %0100d", i, i))
			}
			if network == "unix" {
				ln, err := netListenUnix(path)
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				conns := make(chan *netUnixConn, 1)
				go func() {
					if c, err := ln.AcceptUnix(); err == nil {
						conns <- c // accepted, never read
					}
				}()
				defer func() {
					select {
					case c := <-conns:
						c.Close()
					default:
					}
				}()
			} else {
				startMsgDaemon(t, network, path, true) // paused: never reads until the end
			}
			deadline := time.Now().Add(2 * time.Second)
			for w.Stats().Written == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if st := w.Stats(); st.Written == 0 || st.Connects == 0 {
				t.Fatalf("nothing released 2 s into a send waiting on a full receiver: %+v", st)
			}
		})
	}
}

// TestSpillFlushReportsEvictions: with a spill directory the ring is the
// backlog, and evicts while the daemon is away; a Flush covering evicted
// records returns a *LostError counting them once the rest is sent.
func TestSpillFlushReportsEvictions(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	cfg := spillConfig(path, dir)
	cfg.RingBytes = 8 << 10
	cfg.ReconnectMin, cfg.ReconnectMax = time.Millisecond, 5*time.Millisecond
	w := mustOpen(t, cfg)
	defer w.Close()
	writeNumbered(t, w, 0, 500)
	waitFor(t, "evictions", 5*time.Second, func() bool { return w.Stats().Evicted > 0 })
	flushed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		flushed <- w.Flush(ctx)
	}()
	d := startMsgDaemon(t, "unixgram", path, false)
	err := <-flushed
	st := w.Stats()
	if lost := asLost(t, err); uint64(lost.Evicted) != st.Evicted || st.Evicted+st.Written != 500 {
		t.Fatalf("Flush's LostError = %+v; Stats Evicted %d, Written %d of 500", *lost, st.Evicted, st.Written)
	}
	waitFor(t, "the rest", 5*time.Second, func() bool { return len(d.got()) == int(st.Written) })
}
