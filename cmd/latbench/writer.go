package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/internal/hist"
	"github.com/ringsink/ringsink/uds"
)

// writerImpl measures uds.Writer.Write against the embedded daemon, with
// records of size bytes.
func writerImpl(mode baseline.ReaderMode, size int) impl {
	return writerImplOf("uds.Writer", mode, size, false)
}

// writerWaitImpl is uds.Writer.WriteContext: it waits for room instead of
// dropping, so it delivers every record, as the locked conn does.
func writerWaitImpl(mode baseline.ReaderMode, size int) impl {
	return writerImplOf("uds.Writer wait", mode, size, true)
}

// recordsRead converts the daemon's byte count into records (the harness
// writes records of max(size, 8) bytes, unframed).
func recordsRead(d *daemonProc, size int) uint64 { return d.bytes() / uint64(max(size, 8)) }

func writerImplOf(name string, mode baseline.ReaderMode, size int, wait bool) impl {
	return impl{name: name, start: func(int) started {
		r := startDaemonProc(mode, false)
		// ErrorOnDrop, so a dropped record counts as refused, not accepted.
		w := must(uds.Open(uds.Config{Path: r.Path, ErrorOnDrop: true, ReconnectMin: time.Millisecond,
			ReconnectMax: 20 * time.Millisecond, CloseTimeout: 200 * time.Millisecond}))
		waitConnected(w)
		push := func(rec []byte) bool { _, err := w.Write(rec); return err == nil }
		if wait {
			ctx := context.Background()
			push = func(rec []byte) bool { _, err := w.WriteContext(ctx, rec); return err == nil }
		}
		// Delivered is what the daemon read: records handed to the kernel
		// and still in its buffers are not delivered yet.
		return started{newPush: func(int) pushFunc { return push }, sofar: func() uint64 { return recordsRead(r, size) }, stop: func() uint64 {
			w.Close()
			n := recordsRead(r, size)
			r.stop()
			return n
		}}
	}}
}

// lockedImpl is a mutex-guarded direct write to the socket; it re-dials when
// the daemon went away (so the flaky reader costs it reconnects too).
func lockedImpl(mode baseline.ReaderMode, size int) impl {
	return impl{name: "locked conn", baseline: true, start: func(int) started {
		r := startDaemonProc(mode, false)
		var mu sync.Mutex
		var c net.Conn
		var written atomic.Uint64
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
			written.Add(1)
			return true
		}
		return started{newPush: func(int) pushFunc { return push }, sofar: func() uint64 { return recordsRead(r, size) }, stop: func() uint64 {
			mu.Lock()
			if c != nil {
				c.Close()
			}
			mu.Unlock()
			n := recordsRead(r, size)
			r.stop()
			return n
		}}
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

// e2eWriterImpl: uds.Writer with length-prefixed framing; latency is from
// Write to the daemon's read.
func e2eWriterImpl() impl {
	var lat *hist.Histogram
	return impl{name: "uds.Writer", stamped: true, latency: func() *hist.Histogram { return lat }, start: func(int) started {
		r := startDaemonProc(baseline.Fast, true)
		w := must(uds.Open(uds.Config{Path: r.Path, Framing: uds.LengthPrefix, ErrorOnDrop: true, CloseTimeout: time.Second}))
		waitConnected(w)
		push := func(rec []byte) bool { _, err := w.Write(rec); return err == nil }
		return started{newPush: func(int) pushFunc { return push }, stop: func() uint64 {
			w.Close()
			rep := r.stop()
			lat = rep.Latency
			return rep.Records
		}}
	}}
}

// e2eWritevImpl is the hand-rolled pipeline: producers send copies on a
// buffered channel; one goroutine writes whatever is queued (up to 64
// records, the batch size the issue names) with one writev.
func e2eWritevImpl() impl {
	var lat *hist.Histogram
	return impl{name: "chan+writev", baseline: true, stamped: true, latency: func() *hist.Histogram { return lat }, start: func(int) started {
		r := startDaemonProc(baseline.Fast, true)
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
			select {
			case ch <- append([]byte(nil), rec...):
				return true
			default:
				return false
			}
		}
		return started{newPush: func(int) pushFunc { return push }, stop: func() uint64 {
			close(ch)
			wg.Wait()
			c.Close()
			rep := r.stop()
			lat = rep.Latency
			return rep.Records
		}}
	}}
}
