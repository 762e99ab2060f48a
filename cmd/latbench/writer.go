package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/internal/hist"
	"github.com/ringsink/ringsink/uds"
)

// writerImpl measures uds.Writer.Write against the embedded daemon.
func writerImpl(mode baseline.ReaderMode) impl {
	return impl{name: "uds.Writer", start: func(int) (func(int) pushFunc, func() uint64) {
		r := must(baseline.StartReader(mode, nil))
		// ErrorOnDrop, so a dropped record counts as refused, not accepted.
		w := must(uds.Open(uds.Config{Path: r.Path, ErrorOnDrop: true, ReconnectMin: time.Millisecond,
			ReconnectMax: 20 * time.Millisecond, CloseTimeout: 200 * time.Millisecond}))
		waitConnected(w)
		push := func(rec []byte) bool { _, err := w.Write(rec); return err == nil }
		return func(int) pushFunc { return push }, func() uint64 {
			w.Close()
			r.Close()
			return w.Stats().Written
		}
	}}
}

// lockedImpl is a mutex-guarded direct write to the socket; it re-dials when
// the daemon went away (so the flaky reader costs it reconnects too).
func lockedImpl(mode baseline.ReaderMode) impl {
	return impl{name: "locked conn", baseline: true, start: func(int) (func(int) pushFunc, func() uint64) {
		r := must(baseline.StartReader(mode, nil))
		var mu sync.Mutex
		var c net.Conn
		var written uint64
		push := func(rec []byte) bool {
			mu.Lock()
			defer mu.Unlock()
			if c == nil {
				var err error
				if c, err = net.DialTimeout("unix", r.Path, time.Second); err != nil {
					c = nil
					return false
				}
			}
			if _, err := c.Write(rec); err != nil {
				c.Close()
				c = nil
				return false
			}
			written++
			return true
		}
		return func(int) pushFunc { return push }, func() uint64 {
			mu.Lock()
			if c != nil {
				c.Close()
			}
			mu.Unlock()
			r.Close()
			return written
		}
	}}
}

func waitConnected(w *uds.Writer) {
	for deadline := time.Now().Add(5 * time.Second); !w.Stats().Connected && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("latbench: %v", err))
	}
	return v
}

// e2eCollector parses length-prefixed records whose first 8 bytes are the
// send time (ns on the process's monotonic clock) and records the latency
// from enqueue to read by the daemon.
type e2eCollector struct {
	base time.Time
	mu   sync.Mutex
	h    *hist.Histogram
	n    uint64
	part []byte
}

func (e *e2eCollector) onData(b []byte) {
	now := uint64(time.Since(e.base))
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

func (e *e2eCollector) hist() *hist.Histogram {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.h
}

// stamp writes the send time into rec's first 8 bytes.
func stamp(base time.Time, rec []byte) {
	binary.LittleEndian.PutUint64(rec, uint64(time.Since(base)))
}

// e2eWriterImpl: uds.Writer with length-prefixed framing; latency is from
// Write to the daemon's read.
func e2eWriterImpl() impl {
	col := &e2eCollector{base: time.Now()}
	return impl{name: "uds.Writer", latency: col.hist, start: func(int) (func(int) pushFunc, func() uint64) {
		col.h, col.n, col.part = hist.New(), 0, nil
		r := must(baseline.StartReader(baseline.Fast, col.onData))
		w := must(uds.Open(uds.Config{Path: r.Path, Framing: uds.LengthPrefix, ErrorOnDrop: true, CloseTimeout: time.Second}))
		waitConnected(w)
		push := func(rec []byte) bool { stamp(col.base, rec); _, err := w.Write(rec); return err == nil }
		return func(int) pushFunc { return push }, func() uint64 {
			w.Close()
			time.Sleep(20 * time.Millisecond)
			r.Close()
			return col.n
		}
	}}
}

// e2eWritevImpl is the hand-rolled pipeline: producers send copies on a
// buffered channel; one goroutine writes whatever is queued (up to 64
// records, the batch size the issue names) with one writev.
func e2eWritevImpl() impl {
	col := &e2eCollector{base: time.Now()}
	return impl{name: "chan + writev loop", baseline: true, latency: col.hist, start: func(int) (func(int) pushFunc, func() uint64) {
		col.h, col.n, col.part = hist.New(), 0, nil
		r := must(baseline.StartReader(baseline.Fast, col.onData))
		c := must(net.Dial("unix", r.Path))
		ch := make(chan []byte, 1<<14)
		var wg sync.WaitGroup
		wg.Go(func() {
			bufs := make(net.Buffers, 0, 128)
			hdrs := make([][4]byte, 64)
			for rec := range ch {
				bufs = bufs[:0]
				for k := 0; ; k++ {
					binary.BigEndian.PutUint32(hdrs[k][:], uint32(len(rec)))
					bufs = append(bufs, hdrs[k][:], rec)
					if k == 63 {
						break
					}
					select {
					case rec = <-ch:
						continue
					default:
					}
					break
				}
				if _, err := bufs.WriteTo(c); err != nil {
					return
				}
			}
		})
		push := func(rec []byte) bool {
			stamp(col.base, rec)
			select {
			case ch <- append([]byte(nil), rec...):
				return true
			default:
				return false
			}
		}
		return func(int) pushFunc { return push }, func() uint64 {
			close(ch)
			wg.Wait()
			c.Close()
			time.Sleep(20 * time.Millisecond)
			r.Close()
			return col.n
		}
	}}
}
