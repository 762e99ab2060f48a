//go:build unix

package uds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

// handlerPipe opens a Writer with format f (nil: none) to a datagram
// daemon, so every record arrives as one message.
func handlerPipe(t *testing.T, f format.Format) (*Writer, *msgDaemon) {
	t.Helper()
	path := sockPath(t)
	d := startMsgDaemon(t, "unixgram", path, false)
	w := mustOpen(t, Config{Path: path, Network: "unixgram", Format: f, CloseTimeout: time.Second})
	t.Cleanup(func() { w.Close() })
	return w, d
}

// message waits for the daemon's i-th message (from 0) and returns it.
func message(t *testing.T, d *msgDaemon, i int) []byte {
	t.Helper()
	waitFor(t, fmt.Sprintf("message %d", i), 10*time.Second, func() bool { return len(d.got()) > i })
	return d.got()[i]
}

// jsonOf decodes the JSON object that starts at the message's first '{'
// (after a syslog header or <PRI> prefix, if any).
func jsonOf(t *testing.T, msg []byte) map[string]any {
	t.Helper()
	i := bytes.IndexByte(msg, '{')
	if i < 0 {
		t.Fatalf("no JSON object in %q", msg)
	}
	var m map[string]any
	if err := json.Unmarshal(msg[i:], &m); err != nil {
		t.Fatalf("message %q: %v", msg, err)
	}
	return m
}

// leadingPri parses a message's leading "<N>" and returns N and the rest,
// or -1 and the whole message.
func leadingPri(msg []byte) (int, []byte) {
	if len(msg) < 3 || msg[0] != '<' {
		return -1, msg
	}
	end := bytes.IndexByte(msg, '>')
	if end < 2 {
		return -1, msg
	}
	n, err := strconv.Atoi(string(msg[1:end]))
	if err != nil {
		return -1, msg
	}
	return n, msg[end+1:]
}

func TestHandlerPassesSlogtest(t *testing.T) {
	var d *msgDaemon
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		var w *Writer
		w, d = handlerPipe(t, nil)
		return NewHandler(w, nil)
	}, func(t *testing.T) map[string]any {
		m := jsonOf(t, message(t, d, 0))
		// Every case logs one record: a second one would be a bug.
		time.Sleep(10 * time.Millisecond)
		if n := len(d.got()); n != 1 {
			t.Fatalf("daemon got %d messages; want 1", n)
		}
		return m
	})
}

// TestHandlerPassesTheLevelAsSeverity: the daemon's PRI comes from the
// record's level, not from parsing (the format has no Options.Level, and
// its default severity, Alert, is one no slog level maps to).
func TestHandlerPassesTheLevelAsSeverity(t *testing.T) {
	f, err := format.RFC3164(format.Local3|format.Alert, format.Options{AppName: "lvl", ProcID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	w, d := handlerPipe(t, f)
	logger := slog.New(NewHandler(w, &HandlerOptions{Level: slog.Level(-100)}))
	cases := []struct {
		level slog.Level
		want  format.Priority
	}{
		{slog.LevelDebug - 4, format.Debug},
		{slog.LevelDebug, format.Debug},
		{slog.LevelInfo - 1, format.Debug},
		{slog.LevelInfo, format.Info},
		{slog.LevelInfo + 1, format.Notice},
		{slog.LevelInfo + 3, format.Notice},
		{slog.LevelWarn, format.Warning},
		{slog.LevelWarn + 3, format.Warning},
		{slog.LevelError, format.Err},
		{slog.LevelError + 3, format.Err},
		{slog.LevelError + 4, format.Crit},
		{slog.LevelError + 40, format.Crit},
	}
	for i, c := range cases {
		logger.Log(context.Background(), c.level, "rec", "i", i)
	}
	for i, c := range cases {
		msg := message(t, d, i)
		pri, _ := leadingPri(msg)
		if want := int(format.Local3 | c.want); pri != want {
			t.Errorf("level %v: PRI %d; want %d (%q)", c.level, pri, want, msg)
		}
		if got := jsonOf(t, msg)["i"]; got != float64(i) {
			t.Errorf("message %d carries i=%v: out of order or lost", i, got)
		}
	}
}

// TestHandlerRecordArrivesWithSeverity: a Warn and an Error reach a real
// Unix socket with their severities under RFC 3164, RFC 5424 and no
// format, and the JSON the handler wrote arrives whole.
func TestHandlerRecordArrivesWithSeverity(t *testing.T) {
	o := format.Options{AppName: "api", ProcID: "7"}
	rfc3164, err := format.RFC3164(format.User|format.Info, o)
	if err != nil {
		t.Fatal(err)
	}
	rfc5424, err := format.RFC5424(format.User|format.Info, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    format.Format
		body string // what precedes the JSON after the PRI
	}{
		{"rfc3164", rfc3164, " api[7]: {"},
		{"rfc5424", rfc5424, " api 7 - - {"},
		{"raw", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, d := handlerPipe(t, c.f)
			logger := slog.New(NewHandler(w, nil))
			logger.Warn("disk almost full", "free", "2%")
			logger.Error("disk full")
			for i, want := range []format.Priority{format.Warning, format.Err} {
				msg := message(t, d, i)
				pri, rest := leadingPri(msg)
				m := jsonOf(t, msg)
				if c.f == nil {
					// No format: the record is what the handler wrote,
					// with (if WriteSeverity adds one) a "<sev>" prefix;
					// either way its level field reads as the severity.
					if pri >= 0 && pri != int(want) {
						t.Errorf("prefix <%d>; want <%d> (%q)", pri, want, msg)
					}
					if !bytes.HasPrefix(rest, []byte("{")) {
						t.Errorf("record %q: want the JSON object alone", msg)
					}
					if sev, ok := format.LevelField(rest); !ok || sev != want {
						t.Errorf("level field reads %v, %v; want %v", sev, ok, want)
					}
				} else {
					if pri != int(format.User|want) {
						t.Errorf("PRI %d; want %d (%q)", pri, format.User|want, msg)
					}
					if !bytes.Contains(msg, []byte(c.body)) {
						t.Errorf("message %q lacks %q", msg, c.body)
					}
				}
				if wantMsg := []string{"disk almost full", "disk full"}[i]; m["msg"] != wantMsg {
					t.Errorf("msg %v; want %q", m["msg"], wantMsg)
				}
			}
		})
	}
}

func TestHandlerEnabledAnswersFromLevel(t *testing.T) {
	w, _ := handlerPipe(t, nil)
	var lv slog.LevelVar
	lv.Set(slog.LevelWarn)
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		opts  *HandlerOptions
		level slog.Level
		want  bool
	}{
		{"nil options, info", nil, slog.LevelInfo, true},
		{"nil options, debug", nil, slog.LevelDebug, false},
		{"nil options, info-1", nil, slog.LevelInfo - 1, false},
		{"default level, error", &HandlerOptions{}, slog.LevelError, true},
		{"error, warn", &HandlerOptions{Level: slog.LevelError}, slog.LevelWarn, false},
		{"error, error", &HandlerOptions{Level: slog.LevelError}, slog.LevelError, true},
		{"debug, debug", &HandlerOptions{Level: slog.LevelDebug}, slog.LevelDebug, true},
		{"levelvar warn, info", &HandlerOptions{Level: &lv}, slog.LevelInfo, false},
		{"levelvar warn, warn", &HandlerOptions{Level: &lv}, slog.LevelWarn, true},
	} {
		h := NewHandler(w, c.opts)
		if got := h.Enabled(ctx, c.level); got != c.want {
			t.Errorf("%s: Enabled = %v; want %v", c.name, got, c.want)
		}
		// Derived handlers keep the level.
		if got := h.WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithGroup("g").Enabled(ctx, c.level); got != c.want {
			t.Errorf("%s, derived: Enabled = %v; want %v", c.name, got, c.want)
		}
	}
	h := NewHandler(w, &HandlerOptions{Level: &lv})
	lv.Set(slog.LevelDebug)
	if !h.Enabled(ctx, slog.LevelDebug) {
		t.Errorf("after LevelVar.Set(Debug): Enabled(Debug) = false; want true")
	}
}

// TestHandlerDerivedHandlersUnderConcurrency: goroutines log through the
// base handler and their own WithAttrs/WithGroup chains at once; every
// record arrives, with its own chain's attributes and groups only.
func TestHandlerDerivedHandlersUnderConcurrency(t *testing.T) {
	w, d := handlerPipe(t, nil)
	base := slog.New(NewHandler(w, nil))
	const goroutines, each = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			derived := base.With("g", g).WithGroup("req").With("shared", "x")
			for i := range each {
				if i%2 == 0 {
					derived.Info("d", "i", i)
				} else {
					base.Info("b", "g", g, "i", i)
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, "every record", 10*time.Second, func() bool { return len(d.got()) >= goroutines*each })
	next := make([]int, goroutines)
	for _, msg := range d.got() {
		m := jsonOf(t, msg)
		var g, i float64
		switch m["msg"] {
		case "d":
			req, ok := m["req"].(map[string]any)
			if !ok || req["shared"] != "x" || len(req) != 2 {
				t.Fatalf("derived record %q: want req={shared, i}", msg)
			}
			g, i = m["g"].(float64), req["i"].(float64)
		case "b":
			if _, ok := m["req"]; ok || m["shared"] != nil {
				t.Fatalf("base record %q carries a derived handler's attributes", msg)
			}
			g, i = m["g"].(float64), m["i"].(float64)
		default:
			t.Fatalf("record %q", msg)
		}
		if int(i) != next[int(g)] {
			t.Fatalf("goroutine %v: record %v after %d", g, i, next[int(g)]-1)
		}
		next[int(g)]++
	}
	if n := len(d.got()); n != goroutines*each {
		t.Fatalf("daemon got %d records; want %d", n, goroutines*each)
	}
}

// countingValuer counts its LogValue calls.
type countingValuer struct{ n *atomic.Int64 }

func (c countingValuer) LogValue() slog.Value { return slog.Int64Value(c.n.Add(1)) }

// TestHandlerWithAttrsResolvesOnce: a LogValuer given to WithAttrs is
// resolved at the call, so every pooled formatter shows the same value.
func TestHandlerWithAttrsResolvesOnce(t *testing.T) {
	w, d := handlerPipe(t, nil)
	var n atomic.Int64
	h := NewHandler(w, nil).WithAttrs([]slog.Attr{
		slog.Any("v", countingValuer{&n}),
		slog.Group("grp", slog.Any("v", countingValuer{&n})),
	})
	if got := n.Load(); got != 2 {
		t.Fatalf("LogValue called %d times by WithAttrs; want 2", got)
	}
	logger := slog.New(h)
	for range 10 {
		logger.Info("r")
	}
	for i := range 10 {
		m := jsonOf(t, message(t, d, i))
		grp, _ := m["grp"].(map[string]any)
		if m["v"] != float64(1) || grp["v"] != float64(2) {
			t.Fatalf("record %d: v=%v grp=%v; want v=1 grp.v=2", i, m["v"], grp)
		}
	}
	if got := n.Load(); got != 2 {
		t.Fatalf("LogValue called %d times in all; want 2", got)
	}
}

// panicHandler panics on the message "boom" and otherwise formats as JSON.
type panicHandler struct{ slog.Handler }

func (p panicHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "boom" {
		panic("formatting failed")
	}
	return p.Handler.Handle(ctx, r)
}

func TestHandlerContainsAFormattingPanic(t *testing.T) {
	w, d := handlerPipe(t, nil)
	h := NewHandler(w, &HandlerOptions{New: func(out io.Writer) slog.Handler {
		return panicHandler{slog.NewJSONHandler(out, nil)}
	}})
	ctx := context.Background()
	err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelError, "boom", 0))
	if !errors.Is(err, ErrCallbackPanic) || !strings.Contains(err.Error(), "formatting failed") {
		t.Fatalf("Handle = %v; want an ErrCallbackPanic naming the panic", err)
	}
	if p := w.Stats().Panics; p != 1 {
		t.Fatalf("Stats.Panics = %d; want 1", p)
	}
	if err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, "after", 0)); err != nil {
		t.Fatalf("Handle after the panic: %v", err)
	}
	if m := jsonOf(t, message(t, d, 0)); m["msg"] != "after" {
		t.Fatalf("first record %v; want the one after the panic", m)
	}
	if st := w.Stats(); st.Accepted != 1 {
		t.Fatalf("Accepted %d; want 1 (the panicking record is not written)", st.Accepted)
	}
}

// nilAttrs is a handler whose WithAttrs returns nil.
type nilAttrs struct{ slog.Handler }

func (nilAttrs) WithAttrs([]slog.Attr) slog.Handler { return nil }

func TestHandlerContainsABadNew(t *testing.T) {
	w, _ := handlerPipe(t, nil)
	ctx := context.Background()
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)

	panicking := NewHandler(w, &HandlerOptions{New: func(io.Writer) slog.Handler { panic("no handler") }})
	if err := panicking.Handle(ctx, rec); !errors.Is(err, ErrCallbackPanic) {
		t.Fatalf("Handle with a panicking New = %v; want ErrCallbackPanic", err)
	}
	if p := w.Stats().Panics; p != 1 {
		t.Fatalf("Stats.Panics = %d; want 1", p)
	}
	if err := w.LastError(); !errors.Is(err, ErrCallbackPanic) {
		t.Fatalf("LastError = %v; want ErrCallbackPanic", err)
	}

	nilNew := NewHandler(w, &HandlerOptions{New: func(io.Writer) slog.Handler { return nil }})
	if err := nilNew.Handle(ctx, rec); !errors.Is(err, errNilHandler) {
		t.Fatalf("Handle with a nil New = %v; want errNilHandler", err)
	}
	nilWith := NewHandler(w, &HandlerOptions{New: func(out io.Writer) slog.Handler {
		return nilAttrs{slog.NewJSONHandler(out, nil)}
	}}).WithAttrs([]slog.Attr{slog.Int("a", 1)})
	if err := nilWith.Handle(ctx, rec); !errors.Is(err, errNilHandler) {
		t.Fatalf("Handle with a nil WithAttrs = %v; want errNilHandler", err)
	}
	if st := w.Stats(); st.Accepted != 0 || st.Panics != 1 {
		t.Fatalf("Accepted %d, Panics %d; want 0, 1", st.Accepted, st.Panics)
	}
}

// errHandler returns an error after writing half a record.
type errHandler struct{ out io.Writer }

func (e errHandler) Enabled(context.Context, slog.Level) bool { return true }
func (e errHandler) Handle(context.Context, slog.Record) error {
	e.out.Write([]byte(`{"half":`))
	return errors.New("encoding failed")
}
func (e errHandler) WithAttrs([]slog.Attr) slog.Handler { return e }
func (e errHandler) WithGroup(string) slog.Handler      { return e }

func TestHandlerDropsARecordItsHandlerFailed(t *testing.T) {
	w, _ := handlerPipe(t, nil)
	h := NewHandler(w, &HandlerOptions{New: func(out io.Writer) slog.Handler { return errHandler{out} }})
	err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelError, "m", 0))
	if err == nil || err.Error() != "encoding failed" {
		t.Fatalf("Handle = %v; want the handler's error", err)
	}
	if st := w.Stats(); st.Accepted != 0 || st.Panics != 0 {
		t.Fatalf("Accepted %d, Panics %d; want 0, 0", st.Accepted, st.Panics)
	}
}

// silent writes nothing.
type silent struct{}

func (silent) Enabled(context.Context, slog.Level) bool  { return true }
func (silent) Handle(context.Context, slog.Record) error { return nil }
func (s silent) WithAttrs([]slog.Attr) slog.Handler      { return s }
func (s silent) WithGroup(string) slog.Handler           { return s }

func TestHandlerWritesNothingForAnEmptyRecord(t *testing.T) {
	w, _ := handlerPipe(t, nil)
	h := NewHandler(w, &HandlerOptions{New: func(io.Writer) slog.Handler { return silent{} }})
	if err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelError, "m", 0)); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Accepted != 0 {
		t.Fatalf("Accepted %d; want 0", st.Accepted)
	}
}

func TestHandlerReturnsTheWritersError(t *testing.T) {
	path := sockPath(t)
	startMsgDaemon(t, "unixgram", path, false)
	w := mustOpen(t, Config{Path: path, Network: "unixgram", MaxRecord: 200, CloseTimeout: time.Second})
	h := NewHandler(w, nil)
	ctx := context.Background()
	big := slog.NewRecord(time.Now(), slog.LevelError, strings.Repeat("x", 300), 0)
	if err := h.Handle(ctx, big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Handle of a record above MaxRecord = %v; want ErrTooLarge", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelError, "late", 0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Handle after Close = %v; want ErrClosed", err)
	}
	if st := w.Stats(); st.DroppedTooLarge != 1 || st.DroppedClosed != 1 {
		t.Fatalf("DroppedTooLarge %d, DroppedClosed %d; want 1, 1", st.DroppedTooLarge, st.DroppedClosed)
	}
}

// TestHandlerFormatsWithTheGivenHandler: New's handler (here slog's text
// handler) formats the records, and a large record does not poison the
// pooled buffers that follow.
func TestHandlerFormatsWithTheGivenHandler(t *testing.T) {
	w, d := handlerPipe(t, nil)
	logger := slog.New(NewHandler(w, &HandlerOptions{New: func(out io.Writer) slog.Handler {
		return slog.NewTextHandler(out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}})
	}}))
	logger.Warn("big", "pad", strings.Repeat("p", 100<<10))
	logger.Warn("small", "k", 1)
	if _, rest := leadingPri(message(t, d, 0)); !bytes.HasPrefix(rest, []byte(`level=WARN msg=big pad=pppp`)) || len(rest) < 100<<10 {
		t.Errorf("first record %.60q (%d bytes)", rest, len(rest))
	}
	if _, rest := leadingPri(message(t, d, 1)); string(rest) != "level=WARN msg=small k=1\n" {
		t.Errorf("second record %q; want %q", rest, "level=WARN msg=small k=1\n")
	}
}
