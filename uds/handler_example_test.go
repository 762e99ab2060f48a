//go:build unix

package uds_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/ringsink/ringsink/uds"
	"github.com/ringsink/ringsink/uds/format"
)

// slog to the local syslog daemon: every record goes out as one RFC 3164
// message whose severity is the record's level (Warn is warning, <12> for
// facility user). Here a stand-in datagram socket plays /dev/log.
func ExampleNewHandler() {
	dir, _ := os.MkdirTemp("", "uds-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log") // "/dev/log" on a real host
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pc.Close()

	f, err := format.RFC3164(format.User|format.Info, format.Options{AppName: "api", ProcID: "42"})
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := uds.Open(uds.Config{Path: path, Format: f})
	if err != nil {
		fmt.Println(err)
		return
	}
	logger := slog.New(uds.NewHandler(w, &uds.HandlerOptions{
		Level: slog.LevelInfo,
		New: func(out io.Writer) slog.Handler { // optional: JSON is the default
			return slog.NewJSONHandler(out, &slog.HandlerOptions{ReplaceAttr: dropTime})
		},
	}))
	logger.Debug("not enabled")
	logger.Info("payment accepted", "order", 42)
	logger.Warn("disk almost full", "free", "2%")
	_ = w.Close() // sends what was logged, then closes the socket

	b := make([]byte, 4096)
	for range 2 {
		n, _ := pc.Read(b)
		pri, _, _ := strings.Cut(string(b[:n]), ">")
		_, msg, _ := strings.Cut(string(b[:n]), "api[42]: ") // after the timestamp
		// The format cut the record's trailing newline.
		fmt.Printf("%s> %s\n", pri, msg)
	}
	// Output:
	// <14> {"level":"INFO","msg":"payment accepted","order":42}
	// <12> {"level":"WARN","msg":"disk almost full","free":"2%"}
}

// dropTime leaves the time out, for a stable example.
func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
