package uds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/ringsink/ringsink/uds/format"
)

// maxPooledRecord: a formatter whose buffer grew above it (one huge record)
// gives the buffer up before it goes back to the pool, so the pool does not
// pin the memory of the largest record ever logged.
const maxPooledRecord = 64 << 10

// errNilHandler is returned by Handle when HandlerOptions.New, or a
// WithAttrs or WithGroup of the handler it made, returned nil.
var errNilHandler = errors.New("uds: HandlerOptions.New (or a WithAttrs/WithGroup of its handler) returned nil")

// HandlerOptions configure NewHandler's handler. Zero fields take their defaults.
type HandlerOptions struct {
	// Level is the minimum level Enabled lets through; defaults to
	// slog.LevelInfo. A *slog.LevelVar changes it while the handler runs.
	Level slog.Leveler
	// New makes the handler that formats records: it must write each
	// record to the io.Writer it is given, during its Handle call, and
	// keep no other reference to it. The handler calls New once per
	// formatting buffer it pools, never per record. Its own level is not
	// consulted: Level decides. Defaults to slog.NewJSONHandler with
	// Level (one JSON object per record, ending in '\n').
	New func(w io.Writer) slog.Handler
}

// handler is the slog.Handler NewHandler returns.
type handler struct {
	w     *Writer
	level slog.Leveler
	newH  func(io.Writer) slog.Handler
	ops   []handlerOp // WithAttrs and WithGroup calls, oldest first; never mutated once shared
	pool  sync.Pool   // *formatter, each used by one Handle at a time
}

// handlerOp is one WithAttrs (attrs) or WithGroup (group) call.
type handlerOp struct {
	attrs []slog.Attr
	group string
}

// formatter is a buffer and the formatting handler chain that writes into
// it. A Handle call owns it from the pool's Get to its Put.
type formatter struct {
	buf []byte
	h   slog.Handler
}

// Write appends p to the buffer: the formatting handler's output.
func (f *formatter) Write(p []byte) (int, error) {
	f.buf = append(f.buf, p...)
	return len(p), nil
}

// NewHandler returns a slog.Handler that writes every record to w as one
// record, with the record's level as its severity: Handle formats the
// record with the handler HandlerOptions.New makes (slog's JSON handler by
// default) into a pooled buffer and passes it to Writer.WriteSeverity with
// format.SeverityOf(level), so the Writer's severity-aware admission and
// the daemon's <PRI> (with a Config.Format) come from the level without
// parsing the record.
//
// Handle does not block beyond WriteSeverity, and after warm-up allocates
// nothing beyond what the formatting handler allocates. It returns
// WriteSeverity's error (ErrClosed, ErrTooLarge, ...). A formatting
// handler that panics (or whose New panics) does not take the caller
// down: Handle recovers, counts it in Stats.Panics, and returns an error
// wrapping ErrCallbackPanic; the record is not written. A formatting
// handler that returns an error has its record dropped and Handle returns
// that error. (slog.Logger discards Handle's error: Writer.Stats counts
// what Write refused.)
//
// WithAttrs and WithGroup return a new handler whose formatters apply the
// same calls, in order, to a fresh handler from New; attribute values are
// resolved (slog.Value.Resolve) when WithAttrs is called. A handler made
// by WithAttrs or WithGroup pools its own formatters, so its first records
// each build one (New and the calls again): derive long-lived loggers
// once, rather than per request, on hot paths. Because a formatter replays
// WithAttrs when it is built, possibly long after the call, a value given
// to WithAttrs (logger.With) must not change afterwards: a map or a
// pointer to a struct changed later shows its new contents, where slog's
// own handlers show it as it was at the call.
//
// The handler is safe for concurrent use by any number of goroutines.
// opts may be nil (every default). NewHandler panics if w is nil.
func NewHandler(w *Writer, opts *HandlerOptions) slog.Handler {
	if w == nil {
		panic("uds: NewHandler with a nil Writer")
	}
	h := &handler{w: w, level: slog.LevelInfo}
	if opts != nil {
		if opts.Level != nil {
			h.level = opts.Level
		}
		h.newH = opts.New
	}
	return h
}

// Enabled reports whether l is at or above HandlerOptions.Level.
func (h *handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// Handle formats r and writes it with WriteSeverity(format.SeverityOf(r.Level), ...).
// A formatting handler that writes nothing writes no record.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	f, _ := h.pool.Get().(*formatter)
	if f == nil {
		var err error
		if f, err = h.newFormatter(); err != nil {
			return err
		}
	}
	f.buf = f.buf[:0]
	if err := f.handle(ctx, r); err != nil {
		if errors.Is(err, ErrCallbackPanic) {
			h.panicked(err)
			return err // f may be broken (a lock held, half a state): not pooled again
		}
		h.put(f)
		return err
	}
	var err error
	if len(f.buf) > 0 {
		_, err = h.w.WriteSeverity(format.SeverityOf(r.Level), f.buf)
	}
	h.put(f)
	return err
}

// handle runs the formatting handler, turning a panic into an error that
// wraps ErrCallbackPanic.
func (f *formatter) handle(ctx context.Context, r slog.Record) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: the slog handler of uds.NewHandler: %v", ErrCallbackPanic, v)
		}
	}()
	return f.h.Handle(ctx, r)
}

// put returns f to the pool, without a buffer grown past maxPooledRecord.
func (h *handler) put(f *formatter) {
	if cap(f.buf) > maxPooledRecord {
		f.buf = nil
	}
	h.pool.Put(f)
}

// panicked counts a recovered panic where the Writer counts its callbacks'.
func (h *handler) panicked(err error) {
	h.w.panics.Add(1)
	h.w.lastErr.Store(&err)
}

// newFormatter makes a buffer and a formatting handler that writes to it,
// with the handler's WithAttrs and WithGroup calls applied in order.
func (h *handler) newFormatter() (f *formatter, err error) {
	defer func() {
		if v := recover(); v != nil {
			f, err = nil, fmt.Errorf("%w: HandlerOptions.New or its WithAttrs/WithGroup: %v", ErrCallbackPanic, v)
			h.panicked(err)
		}
	}()
	f = &formatter{}
	var ih slog.Handler
	if h.newH != nil {
		ih = h.newH(f)
	} else {
		ih = slog.NewJSONHandler(f, &slog.HandlerOptions{Level: h.level})
	}
	for _, op := range h.ops {
		if ih == nil {
			break
		}
		if op.group != "" {
			ih = ih.WithGroup(op.group)
		} else {
			ih = ih.WithAttrs(op.attrs)
		}
	}
	if ih == nil {
		return nil, errNilHandler
	}
	f.h = ih
	return f, nil
}

// WithAttrs returns a handler whose records carry as, after the attributes
// and inside the groups of h. With no attributes it returns h.
func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	as = slices.Clone(as)
	for i := range as {
		as[i].Value = resolve(as[i].Value)
	}
	return h.with(handlerOp{attrs: as})
}

// WithGroup returns a handler that puts the attributes that follow (later
// WithAttrs and the record's own) in the group name. With an empty name it
// returns h.
func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(handlerOp{group: name})
}

func (h *handler) with(op handlerOp) *handler {
	return &handler{w: h.w, level: h.level, newH: h.newH, ops: append(slices.Clip(h.ops), op)}
}

// resolve resolves v, and the values of a group's attributes, so that
// every formatter a handler builds later sees the values of the WithAttrs
// call.
func resolve(v slog.Value) slog.Value {
	v = v.Resolve()
	if v.Kind() != slog.KindGroup {
		return v
	}
	g := slices.Clone(v.Group())
	for i := range g {
		g[i].Value = resolve(g[i].Value)
	}
	return slog.GroupValue(g...)
}
