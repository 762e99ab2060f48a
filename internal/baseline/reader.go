package baseline

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// ReaderMode says how the embedded daemon reads.
type ReaderMode int

const (
	Fast  ReaderMode = iota // reads as fast as it can
	Slow                    // reads 4 KiB every 100 µs, paced by the clock (SlowPace)
	Flaky                   // reads fast for 200 ms, disappears for 100 ms, comes back
)

// The slow reader reads SlowChunk bytes per SlowPace (40 MB/s), catching up
// at most slowCatchUp ticks after a late wake-up.
const (
	SlowChunk   = 4 << 10
	SlowPace    = 100 * time.Microsecond
	slowCatchUp = 10
)

func (m ReaderMode) String() string {
	return [...]string{"fast", "slow", "flaky"}[m]
}

// Reader is an embedded Unix stream socket server in a temp dir that reads
// everything sent to it. OnData, if set before Start, sees every chunk read
// (on the reading goroutine).
type Reader struct {
	Path   string
	Mode   ReaderMode
	OnData func([]byte)

	dir   string
	bytes atomic.Uint64
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	ln    *net.UnixListener
	conns map[net.Conn]bool
}

// StartReader listens on a fresh socket path in a temp dir.
func StartReader(mode ReaderMode, onData func([]byte)) (*Reader, error) {
	dir, err := os.MkdirTemp("", "ringsink")
	if err != nil {
		return nil, err
	}
	r := &Reader{Path: filepath.Join(dir, "d.sock"), Mode: mode, OnData: onData, dir: dir,
		stop: make(chan struct{}), conns: map[net.Conn]bool{}}
	if err := r.listen(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if mode == Flaky {
		r.wg.Go(r.flap)
	}
	return r, nil
}

// Bytes returns how many bytes were read so far.
func (r *Reader) Bytes() uint64 { return r.bytes.Load() }

func (r *Reader) listen() error {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: r.Path, Net: "unix"})
	if err != nil {
		return err
	}
	r.mu.Lock()
	select {
	case <-r.stop: // Close ran while we were re-listening
		r.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	default:
	}
	r.ln = ln
	r.mu.Unlock()
	r.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns[c] = true
			r.mu.Unlock()
			r.wg.Go(func() { r.read(c) })
		}
	})
	return nil
}

func (r *Reader) read(c net.Conn) {
	defer func() {
		c.Close()
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
	}()
	buf := make([]byte, 256<<10)
	if r.Mode == Slow {
		buf = buf[:SlowChunk]
	}
	next := time.Now()
	for {
		n, err := c.Read(buf)
		if n > 0 {
			r.bytes.Add(uint64(n))
			if r.OnData != nil {
				r.OnData(buf[:n])
			}
		}
		if err != nil {
			return
		}
		if r.Mode == Slow {
			// Paced by the clock, not by the writer: one read per tick,
			// sleeping to the next tick, catching up after a late wake-up
			// (at most slowCatchUp ticks), so the pace is the reader's
			// own whatever the writer's traffic does to timers.
			next = next.Add(SlowPace)
			now := time.Now()
			if now.Sub(next) > slowCatchUp*SlowPace {
				next = now
			}
			if d := next.Sub(now); d > 0 {
				nap(d)
			}
		}
	}
}

// down closes the listener and every connection, abruptly.
func (r *Reader) down() {
	r.mu.Lock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
}

func (r *Reader) flap() {
	for {
		select {
		case <-r.stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
		r.down()
		select {
		case <-r.stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		if r.listen() != nil {
			return
		}
	}
}

// Close stops the reader and removes its directory.
func (r *Reader) Close() {
	close(r.stop)
	r.down()
	r.wg.Wait()
	os.RemoveAll(r.dir)
}
