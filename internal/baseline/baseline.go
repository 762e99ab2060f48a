// Package baseline holds what a Go programmer would write without ringsink,
// so benchmarks and latbench measure ringsink next to it in the same run: a
// sink on a buffered channel, a mutex-guarded socket writer, and an embedded
// Unix-socket reader standing in for the daemon. Measurement support, not API.
package baseline

import (
	"context"
	"errors"
	"net"
	"sync"
)

// ErrFull is returned by ChanSink.TryPush when the channel is full.
var ErrFull = errors.New("baseline: channel full")

// ChanSink is the usual background sink: a buffered channel, TryPush as a
// select with default, and one goroutine batching whatever is queued into
// write.
type ChanSink[T any] struct {
	ch chan T
	wg sync.WaitGroup
}

// NewChanSink starts the consumer goroutine.
func NewChanSink[T any](capacity, batch int, write func(context.Context, []T) error) *ChanSink[T] {
	s := &ChanSink[T]{ch: make(chan T, capacity)}
	s.wg.Go(func() {
		buf := make([]T, 0, batch)
		for v := range s.ch {
			buf = append(buf, v)
		more:
			for len(buf) < batch {
				select {
				case v, ok := <-s.ch:
					if !ok {
						break more
					}
					buf = append(buf, v)
				default:
					break more
				}
			}
			_ = write(context.Background(), buf)
			clear(buf)
			buf = buf[:0]
		}
	})
	return s
}

// TryPush queues v or returns ErrFull at once.
func (s *ChanSink[T]) TryPush(v T) error {
	select {
	case s.ch <- v:
		return nil
	default:
		return ErrFull
	}
}

// Close stops intake and waits until everything queued was written.
func (s *ChanSink[T]) Close() { close(s.ch); s.wg.Wait() }

// LockedWriter is a mutex around a direct write to a connection.
type LockedWriter struct {
	mu sync.Mutex
	c  net.Conn
}

// NewLockedWriter wraps c.
func NewLockedWriter(c net.Conn) *LockedWriter { return &LockedWriter{c: c} }

// Write writes p to the connection under the mutex.
func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.Write(p)
}

// RequestWork is a request's own CPU work before each log line in the
// request benchmarks: about 2.5 µs of dependent arithmetic (xorshift) on
// the machines measured here. It returns the next state.
func RequestWork(x uint64) uint64 {
	x |= 1
	for range 1500 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
