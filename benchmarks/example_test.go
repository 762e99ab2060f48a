package benchmarks

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ringsink/ringsink/uds"
	"github.com/ringsink/ringsink/uds/format"
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

// dgramDaemon stands in for /dev/log: it returns a function that reads n
// messages and prints each one's <PRI> and what follows the RFC 3164
// header ("TAG[PID]: ").
func dgramDaemon(path string) (read func(n int), stop func()) {
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		panic(err)
	}
	return func(n int) {
		b := make([]byte, 4096)
		for range n {
			k, _ := pc.Read(b)
			pri, _, _ := strings.Cut(string(b[:k]), ">")
			_, msg, _ := strings.Cut(string(b[:k]), "]: ")
			fmt.Printf("%s> %s\n", pri, msg)
		}
	}, func() { pc.Close() }
}

// zap's severity reaches the daemon through its level field: the RFC 3164
// format reads "level":"warn" with format.LevelField (warn is warning,
// <12> at facility user; error is err, <11>).
func Example_zapSeverity() {
	dir, _ := os.MkdirTemp("", "zap-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log") // "/dev/log" on a real host
	read, stop := dgramDaemon(path)
	defer stop()

	f, _ := format.RFC3164(format.User|format.Info, format.Options{AppName: "api", ProcID: "42", Level: format.LevelField})
	w, _ := uds.Open(uds.Config{Path: path, Format: f, Level: format.LevelField}) // admission by level too
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "" // stable output for the example
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), w, zap.InfoLevel))
	logger.Warn("disk almost full", zap.String("free", "2%"))
	logger.Error("disk full")
	_ = w.Close()
	read(2)
	// Output:
	// <12> {"level":"warn","msg":"disk almost full","free":"2%"}
	// <11> {"level":"error","msg":"disk full"}
}

// zerologSeverity is a zerolog.LevelWriter: zerolog hands it each line with
// its level, and it passes the level to WriteSeverity, so nothing parses
// the line (plain zerolog.New(w) works too, through format.LevelField).
type zerologSeverity struct{ w *uds.Writer }

func (z zerologSeverity) Write(p []byte) (int, error) { return z.w.Write(p) }

func (z zerologSeverity) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	sev := format.Info
	switch l {
	case zerolog.TraceLevel, zerolog.DebugLevel:
		sev = format.Debug
	case zerolog.WarnLevel:
		sev = format.Warning
	case zerolog.ErrorLevel:
		sev = format.Err
	case zerolog.PanicLevel:
		sev = format.Crit
	case zerolog.FatalLevel:
		sev = format.Alert
	}
	return z.w.WriteSeverity(sev, p)
}

// zerolog's level passed to the Writer with each line, through a
// zerolog.LevelWriter that calls WriteSeverity.
func Example_zerologSeverity() {
	dir, _ := os.MkdirTemp("", "zerolog-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log")
	read, stop := dgramDaemon(path)
	defer stop()

	f, _ := format.RFC3164(format.User|format.Info, format.Options{AppName: "api", ProcID: "42"})
	w, _ := uds.Open(uds.Config{Path: path, Format: f})
	logger := zerolog.New(zerologSeverity{w})
	logger.Warn().Str("free", "2%").Msg("disk almost full")
	logger.Error().Msg("disk full")
	_ = w.Close()
	read(2)
	// Output:
	// <12> {"level":"warn","free":"2%","message":"disk almost full"}
	// <11> {"level":"error","message":"disk full"}
}
