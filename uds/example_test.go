package uds_test

import (
	"bufio"
	"context"
	"expvar"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

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
// offline ring and LastError says why they are not going out.
func ExampleOpen() {
	w, err := uds.Open(uds.Config{Path: "/nonexistent/dir/log.sock", CloseTimeout: 1})
	fmt.Println(err)
	w.Write([]byte("kept for later"))
	fmt.Println(w.Close() != nil, w.Stats().Buffered)
	// Output:
	// <nil>
	// true 1
}

// Conn is one connection: WriteRecords says how many records went out
// whole, so a caller can keep exactly the unsent suffix.
func ExampleConn() {
	dir, _ := os.MkdirTemp("", "uds-conn")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "d.sock")
	ln, _ := net.Listen("unix", path)
	defer ln.Close()
	got := make(chan string)
	go func() {
		c, _ := ln.Accept()
		b, _ := io.ReadAll(c)
		got <- string(b)
	}()

	c, err := uds.Dial(context.Background(), path, uds.LengthPrefix, time.Second, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := c.WriteRecords([][]byte{[]byte("one"), []byte("two")})
	c.Close()
	fmt.Println(n, err, len(<-got)) // two 4-byte prefixes + 6 payload bytes
	// Output: 2 <nil> 14
}

// What Close could not send stays in the offline ring; Offline hands it to
// the caller, here to be saved in a file for the next run.
func ExampleWriter_Offline() {
	dir, _ := os.MkdirTemp("", "uds-offline")
	defer os.RemoveAll(dir)
	w, _ := uds.Open(uds.Config{Path: filepath.Join(dir, "absent.sock"), CloseTimeout: time.Millisecond})
	w.Write([]byte("first"))
	w.Write([]byte("second"))
	fmt.Println(w.Close() != nil) // the daemon never came

	f, _ := os.Create(filepath.Join(dir, "leftovers.log"))
	for _, rec := range w.Offline().Drain(nil) { // oldest first
		fmt.Fprintf(f, "%s\n", rec)
	}
	f.Close()
	b, _ := os.ReadFile(filepath.Join(dir, "leftovers.log"))
	fmt.Print(string(b))
	// Output:
	// true
	// first
	// second
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
