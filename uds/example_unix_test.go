//go:build unix

package uds_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ringsink/ringsink/uds"
	"github.com/ringsink/ringsink/uds/format"
)

// slog through the Writer to journald's native socket (here a stand-in
// datagram socket): the consumer adds the fields, and PRIORITY comes from
// the slog level.
func Example_journald() {
	dir, _ := os.MkdirTemp("", "uds-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "journal.socket") // /run/systemd/journal/socket
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pc.Close()

	j, err := format.Journald(format.User|format.Info, format.Options{
		AppName: "api", ProcID: "42", Level: format.LevelField,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := uds.Open(uds.Config{Path: path, Format: j})
	if err != nil {
		fmt.Println(err)
		return
	}
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable output for the example
			}
			return a
		},
	}))
	logger.Warn("disk almost full", "free", "2%")
	_ = w.Close()

	b := make([]byte, 4096)
	n, _ := pc.Read(b)
	for _, field := range bytes.SplitAfter(b[:n], []byte("MESSAGE\n")) {
		fmt.Printf("%q\n", field)
	}
	// Output:
	// "PRIORITY=4\nSYSLOG_FACILITY=1\nSYSLOG_IDENTIFIER=api\nSYSLOG_PID=42\nMESSAGE\n"
	// ")\x00\x00\x00\x00\x00\x00\x00level=WARN msg=\"disk almost full\" free=2%\n"
}

// A Writer with a spill directory: what it could not send (here the daemon
// never came) stays in the file, and the next Writer on the directory sends
// it first, as after a crash.
func ExampleConfig_spillDir() {
	dir, _ := os.MkdirTemp("", "uds-spill")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log.sock")
	cfg := uds.Config{Path: path, Network: "unixgram", SpillDir: filepath.Join(dir, "spill"), CloseTimeout: time.Millisecond}

	w, err := uds.Open(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	w.Write([]byte("written while the daemon was away"))
	w.Close() // the record stays in dir/spill/ring

	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pc.Close()
	w, err = uds.Open(cfg) // the next process, after a restart or a crash
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("recovered:", w.Stats().Recovered)
	w.Write([]byte("written after"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		fmt.Println(err)
	}
	w.Close()
	buf := make([]byte, 100)
	for range 2 {
		n, _ := pc.Read(buf)
		fmt.Printf("%s\n", buf[:n])
	}
	// Output:
	// recovered: 1
	// written while the daemon was away
	// written after
}

// WriteSeverity with a syslog format: the severity reaches the daemon in
// the header, and when the ring overflows, records below Warning are
// refused first (counted by severity) while Warning and above keep a
// reserve of the ring. The drop notice reports the drops by severity.
func ExampleWriter_WriteSeverity() {
	dir, _ := os.MkdirTemp("", "uds-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log.sock") // /dev/log
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pc.Close()

	f, err := format.RFC3164(format.Local0|format.Info, format.Options{AppName: "api", ProcID: "-"})
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := uds.Open(uds.Config{
		Path:   path,
		Format: f,
		DropNotice: func(d uds.Drops) []byte {
			return fmt.Appendf(nil, "<4>dropped: %d info, %d debug", d.BySeverity[format.Info], d.BySeverity[format.Debug])
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	w.WriteSeverity(format.Err, []byte("payment failed: card declined"))
	_ = w.Close()

	b := make([]byte, 4096)
	n, _ := pc.Read(b)
	pri, _, _ := bytes.Cut(b[:n], []byte(">"))
	_, msg, _ := bytes.Cut(b[:n], []byte("api: "))
	fmt.Printf("%s> %s\n", pri, msg)
	st := w.Stats()
	fmt.Println("dropped:", st.DroppedFull, st.DroppedBySeverity)
	// Output:
	// <131> payment failed: card declined
	// dropped: 0 [0 0 0 0 0 0 0 0]
}
