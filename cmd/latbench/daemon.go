package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/internal/hist"
)

// The embedded daemon runs in a child process (latbench re-executing itself
// with -daemon), as a real log daemon would: in the same Go process, a
// reader goroutine competes for the scheduler with the producers it is
// measuring, and when producers keep every core busy it waits a scheduler
// quantum per read, which measures the harness, not the writer.

// daemonReport is what the child prints on exit.
type daemonReport struct {
	Bytes   uint64          `json:"bytes"`
	Records uint64          `json:"records"`
	Latency *hist.Histogram `json:"latency,omitempty"`
	// Severity counts length-prefixed records by level (-sev).
	Severity map[string]uint64 `json:"severity,omitempty"`
}

// runDaemon is the child: it listens, prints "ready PATH", answers each
// "count" line on its stdin with the bytes it has read so far, and when
// its stdin closes prints a daemonReport as JSON.
func runDaemon(args []string) error {
	fs := flag.NewFlagSet("latbench -daemon", flag.ContinueOnError)
	mode := fs.String("mode", "fast", "fast, slow or flaky")
	e2e := fs.Bool("e2e", false, "parse length-prefixed records stamped with their send time and histogram the latency")
	sev := fs.Bool("sev", false, "parse length-prefixed records and count them by the severity of their level field")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m := baseline.Fast
	switch *mode {
	case "slow":
		m = baseline.Slow
	case "flaky":
		m = baseline.Flaky
	}
	col := &e2eCollector{h: hist.New()}
	sc := &sevCollector{count: map[string]uint64{}}
	var onData func([]byte)
	switch {
	case *e2e:
		onData = col.onData
	case *sev:
		onData = sc.onData
	}
	r, err := baseline.StartReader(m, onData)
	if err != nil {
		return err
	}
	fmt.Println("ready", r.Path)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "count" {
			fmt.Println(r.Bytes())
		}
	}
	r.Close()
	rep := daemonReport{Bytes: r.Bytes()}
	if *e2e {
		rep.Records, rep.Latency = col.n, col.h
	}
	if *sev {
		sc.mu.Lock()
		rep.Severity = sc.count
		sc.mu.Unlock()
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// daemonProc is the parent's handle on a child daemon.
type daemonProc struct {
	Path  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startDaemonProc(mode baseline.ReaderMode, e2e bool) *daemonProc {
	if e2e {
		return startDaemonProcArgs(mode, "-e2e")
	}
	return startDaemonProcArgs(mode)
}

// startDaemonProcArgs starts a child daemon with extra flags.
func startDaemonProcArgs(mode baseline.ReaderMode, extra ...string) *daemonProc {
	exe := must(os.Executable())
	args := append([]string{"-daemon", "-mode", mode.String()}, extra...)
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	d := &daemonProc{cmd: cmd, stdin: must(cmd.StdinPipe())}
	d.out = bufio.NewReader(must(cmd.StdoutPipe()))
	if err := cmd.Start(); err != nil {
		panic(fmt.Sprintf("latbench: start daemon: %v", err))
	}
	line := must(d.out.ReadString('\n'))
	path, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
	if !ok {
		panic(fmt.Sprintf("latbench: daemon said %q", line))
	}
	d.Path = path
	return d
}

// bytes asks the child how many bytes it has read so far: delivery counted
// where the daemon reads, not where the kernel takes.
func (d *daemonProc) bytes() uint64 {
	fmt.Fprintln(d.stdin, "count")
	line := must(d.out.ReadString('\n'))
	n, err := strconv.ParseUint(strings.TrimSpace(line), 10, 64)
	if err != nil {
		panic(fmt.Sprintf("latbench: daemon count %q", line))
	}
	return n
}

// stop ends the child and returns its report.
func (d *daemonProc) stop() daemonReport {
	d.stdin.Close()
	var rep daemonReport
	if err := json.NewDecoder(d.out).Decode(&rep); err != nil {
		panic(fmt.Sprintf("latbench: daemon report: %v", err))
	}
	d.cmd.Wait()
	return rep
}

// e2eCollector parses length-prefixed records whose first 8 bytes are the
// send time (Unix ns: both processes read the same clock) and records the
// latency from enqueue to read by the daemon.
type e2eCollector struct {
	mu   sync.Mutex
	h    *hist.Histogram
	n    uint64
	part []byte
}

func (e *e2eCollector) onData(b []byte) {
	now := uint64(time.Now().UnixNano())
	e.mu.Lock()
	defer e.mu.Unlock()
	e.part = append(e.part, b...)
	p := e.part
	for len(p) >= 4 {
		n := int(binary.BigEndian.Uint32(p))
		if len(p) < 4+n {
			break
		}
		if n >= 8 {
			sent := binary.LittleEndian.Uint64(p[4:])
			e.h.Record(now - min(sent, now))
			e.n++
		}
		p = p[4+n:]
	}
	e.part = append(e.part[:0], p...)
}

// stamp writes the send time into rec's first 8 bytes.
func stamp(rec []byte, t time.Time) { binary.LittleEndian.PutUint64(rec, uint64(t.UnixNano())) }
