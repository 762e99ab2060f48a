package uds_test

import (
	"bufio"
	"context"
	"errors"
	"expvar"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ringsink/ringsink/offline"
	"github.com/ringsink/ringsink/uds"
)

// A log/slog JSON handler writing through the non-blocking Writer to a
// daemon listening on a Unix socket (here a stand-in reading lines).
func Example_slog() {
	dir, _ := os.MkdirTemp("", "uds-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log.sock")
	ln, _ := net.Listen("unix", path)
	defer ln.Close()
	lines := make(chan string)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(lines)
			return
		}
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	// slog's JSON handler ends every record with '\n', so Raw framing already
	// gives the daemon newline-delimited records.
	w, err := uds.Open(uds.Config{Path: path, Framing: uds.Raw})
	if err != nil {
		fmt.Println(err)
		return
	}
	logger := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable output for the example
			}
			return a
		},
	}))
	logger.Info("payment accepted", "order", 42)
	_ = w.Close() // drains what was written, then closes the socket

	for l := range lines {
		fmt.Println(l)
	}
	// Output: {"level":"INFO","msg":"payment accepted","order":42}
}

// Open never fails because the daemon is absent: records wait in the
// offline ring while the Writer keeps trying to connect, and LastError
// says why they are not going out.
func ExampleOpen() {
	w, err := uds.Open(uds.Config{Path: "/nonexistent/dir/log.sock", CloseTimeout: time.Millisecond})
	fmt.Println(err)
	w.Write([]byte("waiting for the daemon"))
	fmt.Println(w.Stats().Accepted)
	w.Close()
	// Output:
	// <nil>
	// 1
}

// Records Close could not send are kept in the caller's offline ring
// (Config.Offline), so Close returns nil; here they are saved in a file
// for the next run.
func ExampleConfig_offline() {
	dir, _ := os.MkdirTemp("", "uds-offline")
	defer os.RemoveAll(dir)
	keep := offline.New[[]byte](1024)
	w, _ := uds.Open(uds.Config{Path: filepath.Join(dir, "absent.sock"), Offline: keep, CloseTimeout: time.Millisecond})
	w.Write([]byte("first"))
	w.Write([]byte("second"))
	fmt.Println(w.Close()) // the daemon never came; nothing lost

	f, _ := os.Create(filepath.Join(dir, "leftovers.log"))
	for _, rec := range keep.Drain(nil) { // oldest first
		fmt.Fprintf(f, "%s\n", rec)
	}
	f.Close()
	b, _ := os.ReadFile(filepath.Join(dir, "leftovers.log"))
	fmt.Print(string(b))
	// Output:
	// <nil>
	// first
	// second
}

// Without Config.Offline (or Config.SpillDir) nothing outlives the Writer
// to keep what it could not send: Close reports those records as lost,
// with the counts and the cause.
func ExampleLostError() {
	dir, _ := os.MkdirTemp("", "uds-lost")
	defer os.RemoveAll(dir)
	w, _ := uds.Open(uds.Config{Path: filepath.Join(dir, "absent.sock"), CloseTimeout: time.Millisecond})
	w.Write([]byte("first"))
	w.Write([]byte("second"))
	err := w.Close()
	var lost *uds.LostError
	if errors.As(err, &lost) {
		fmt.Println(lost.Unkept, errors.Is(err, context.DeadlineExceeded))
	}
	// Output: 2 true
}

// Shutdown drains until its context ends: here until everything written
// has reached the daemon, with a minute's bound.
func ExampleWriter_Shutdown() {
	dir, _ := os.MkdirTemp("", "uds-shutdown")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log.sock")
	ln, _ := net.Listen("unix", path)
	defer ln.Close()
	got := make(chan int)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- 0
			return
		}
		b, _ := io.ReadAll(c)
		got <- len(b)
	}()

	w, _ := uds.Open(uds.Config{Path: path, Framing: uds.Newline})
	for range 100 {
		w.Write([]byte("record"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fmt.Println(w.Shutdown(ctx), <-got) // 100 lines of 7 bytes
	// Output: <nil> 700
}

// Stats is a plain struct: publish it with expvar (or any metrics library)
// through a func, so it is read only when scraped. The examples module has
// a Prometheus collector.
func ExampleWriter_Stats() {
	dir, _ := os.MkdirTemp("", "uds-stats")
	defer os.RemoveAll(dir)
	w, _ := uds.Open(uds.Config{Path: filepath.Join(dir, "absent.sock"), CloseTimeout: time.Millisecond})
	expvar.Publish("example_uds", expvar.Func(func() any { return w.Stats() }))
	w.Write([]byte("waiting for the daemon"))
	w.Close()
	st := w.Stats()
	fmt.Println(st.Accepted, st.Buffered, st.Connected)
	// Output: 1 1 false
}
