package uds

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// Close is "Shutdown bounded by Config.CloseTimeout". A Config.Dial that
// does not honour its context (a custom dialer doing its own blocking
// setup) holds the consumer goroutine, and Close waits for that goroutine
// with no bound: it must return by about CloseTimeout, as sink.Close does
// (with an error saying the consumer is stuck).
func TestCloseReturnsByCloseTimeoutWhileDialIgnoresContext(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	dial := func(ctx context.Context, path string) (*net.UnixConn, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release // ignores ctx
		return nil, errors.New("no daemon")
	}
	w := mustOpen(t, Config{Path: sockPath(t), Dial: dial, CloseTimeout: 100 * time.Millisecond})
	if _, err := w.Write([]byte("r0")); err != nil {
		t.Fatal(err)
	}
	<-entered
	closed := make(chan error, 1)
	start := time.Now()
	go func() { closed <- w.Close() }()
	select {
	case <-closed:
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("Close took %v; want about CloseTimeout (100ms)", took)
		}
	case <-time.After(3 * time.Second):
		close(release)
		err := <-closed
		t.Fatalf("Close has not returned 3 s after it was called, with CloseTimeout 100ms (it returned %v once Dial was released)", err)
	}
	close(release)
	<-w.done
}

// Shutdown from Config.DropNotice (a callback on the consumer goroutine)
// waits for the consumer goroutine it runs on: it never returns, whatever
// its ctx says, and the Writer is wedged for good. Shutdown must return
// when its ctx ends.
func TestShutdownFromDropNoticeReturns(t *testing.T) {
	path := sockPath(t)
	startDaemon(t, path)
	var wp atomic.Pointer[Writer]
	got := make(chan error, 1)
	notice := func(d Drops) []byte {
		if w := wp.Load(); w != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			got <- w.Shutdown(ctx)
		}
		return []byte("drops")
	}
	w := mustOpen(t, Config{Path: path, MaxRecord: 16, DropNotice: notice, CloseTimeout: 100 * time.Millisecond})
	wp.Store(w)
	if _, err := w.Write(make([]byte, 32)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write of 32 bytes = %v; want ErrTooLarge", err)
	}
	w.Write([]byte("r0"))
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		w.Flush(ctx) // wakes the consumer, which sends the notice
	}()
	select {
	case <-got:
	case <-time.After(3 * time.Second):
		t.Fatalf("Shutdown called from DropNotice has not returned 3 s later (its ctx: 100ms); the consumer goroutine is deadlocked on itself")
	}
	select {
	case <-w.done:
	case <-time.After(3 * time.Second):
		t.Fatalf("consumer goroutine still running 3 s after Shutdown from DropNotice")
	}
}

// Flush calls that give up (ctx ended) while the daemon is away leave
// their requests queued in the Writer until the daemon returns: a caller
// that calls Sync periodically, or many goroutines with request-scoped
// contexts, grow the queue without bound (sink.Flush withdraws its
// request for the same reason).
func TestAbandonedFlushesDoNotPileUp(t *testing.T) {
	w := mustOpen(t, Config{Path: sockPath(t), CloseTimeout: 50 * time.Millisecond})
	if _, err := w.Write([]byte("r0")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the record to reach the offline ring", 5*time.Second, func() bool { return w.Stats().Buffered == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 1000 {
		if err := w.Flush(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Flush = %v; want context.Canceled", err)
		}
	}
	w.mu.Lock()
	n := len(w.flushes)
	w.mu.Unlock()
	if n > 16 {
		t.Errorf("%d abandoned Flush requests still queued; want them withdrawn", n)
	}
	w.Close()
}
