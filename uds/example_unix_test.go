//go:build unix

package uds_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

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
