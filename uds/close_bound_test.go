package uds

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/watchdog"
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

// Close, Shutdown, Flush, Sync, Write and WriteContext from many
// goroutines at once, with the daemon going away part way: every Close and
// Shutdown returns the same result, nothing hangs, the Stats conservation
// law holds, and a *LostError's counts are what Stats says was not kept.
func TestCloseRacesShutdownFlushAndWrites(t *testing.T) {
	for round := range 20 {
		path := sockPath(t)
		d := startDaemon(t, path)
		w := mustOpen(t, Config{Path: path, RingBytes: 4096, CloseTimeout: 30 * time.Millisecond, Framing: LengthPrefix})
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := range 6 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					var err error
					if g%2 == 0 {
						_, err = w.Write(rN(i))
					} else {
						_, err = w.WriteContext(ctx, rN(i))
					}
					if errors.Is(err, ErrClosed) {
						return
					}
				}
			})
		}
		for range 2 {
			wg.Go(func() {
				for {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
					err := w.Flush(ctx)
					cancel()
					if errors.Is(err, ErrClosed) {
						return
					}
					if err := w.Sync(); errors.Is(err, ErrClosed) {
						return
					}
				}
			})
		}
		time.Sleep(5 * time.Millisecond)
		if round%2 == 1 {
			d.stop() // the daemon goes away mid-stream
		}
		closed := watchdog.Closers(6, w.Close, w.Shutdown, 20*time.Millisecond)
		var results []error
		finished := make(chan struct{})
		go func() { results = closed(); close(stop); wg.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Close/Shutdown/Flush/Write still running 10 s later", round)
		}
		for i, err := range results {
			if err != results[0] {
				t.Fatalf("round %d: call %d returned %v; call 0 returned %v: want one result", round, i, err, results[0])
			}
		}
		st := w.Stats()
		checkConservation(t, st)
		var lost *LostError
		if errors.As(results[0], &lost) {
			if uint64(lost.Unkept) != st.Buffered || uint64(lost.Unfinished) != st.Pending || uint64(lost.Evicted) > st.Evicted {
				t.Fatalf("round %d: LostError %+v; Stats Buffered %d, Pending %d, Evicted %d", round, *lost, st.Buffered, st.Pending, st.Evicted)
			}
		} else if results[0] != nil {
			t.Fatalf("round %d: Close = %v; want nil or a *LostError", round, results[0])
		} else if st.Buffered != 0 || st.Pending != 0 {
			t.Fatalf("round %d: Close = nil but Buffered %d, Pending %d are in the Writer's own offline ring", round, st.Buffered, st.Pending)
		}
		if _, err := w.Write([]byte("late")); !errors.Is(err, ErrClosed) {
			t.Fatalf("round %d: Write after Close = %v; want ErrClosed", round, err)
		}
		if err := w.Flush(context.Background()); !errors.Is(err, ErrClosed) {
			t.Fatalf("round %d: Flush after Close = %v; want ErrClosed", round, err)
		}
	}
}
