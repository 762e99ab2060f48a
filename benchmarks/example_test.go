package benchmarks

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ringsink/ringsink/uds"
)

// lineDaemon stands in for the log daemon: it prints each line it receives.
func lineDaemon(path string) (done chan struct{}, stop func()) {
	ln, _ := net.Listen("unix", path)
	done = make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			fmt.Println(sc.Text())
		}
	}()
	return done, func() { ln.Close() }
}

// zap with uds.Writer as its WriteSyncer: logger.Sync() flushes the Writer
// (Writer.Sync), so `defer logger.Sync()` delivers what was logged.
func Example_zap() {
	dir, _ := os.MkdirTemp("", "zap-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log.sock")
	done, stop := lineDaemon(path)
	defer stop()

	w, _ := uds.Open(uds.Config{Path: path, Framing: uds.Newline}) // zap's lines end in '\n': not doubled
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "" // stable output for the example
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), w, zap.InfoLevel))
	logger.Info("payment accepted", zap.Int("order", 42))
	_ = logger.Sync()
	_ = w.Close()
	<-done
	// Output: {"level":"info","msg":"payment accepted","order":42}
}

// zerolog writing straight into uds.Writer: no diode needed, Write never
// blocks.
func Example_zerolog() {
	dir, _ := os.MkdirTemp("", "zerolog-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log.sock")
	done, stop := lineDaemon(path)
	defer stop()

	w, _ := uds.Open(uds.Config{Path: path, Framing: uds.Newline})
	logger := zerolog.New(w)
	logger.Info().Int("order", 42).Msg("payment accepted")
	_ = w.Close()
	<-done
	// Output: {"level":"info","order":42,"message":"payment accepted"}
}
