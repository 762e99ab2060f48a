package sink

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scriptedDrain fails or panics on chosen calls and can fail Sync.
type scriptedDrain struct {
	countingDrain
	calls    atomic.Int32
	failOn   int32 // WriteBatch call number (1-based) that returns an error
	panicOn  int32 // WriteBatch call number that panics
	syncErr  error
	syncs    atomic.Int32
	closeErr error
	closed   atomic.Int32
}

var errBackend = errors.New("backend down")

func (d *scriptedDrain) WriteBatch(ctx context.Context, b []uint32) error {
	n := d.calls.Add(1)
	if n == d.panicOn {
		panic("drain bug")
	}
	if n == d.failOn {
		return errBackend
	}
	return d.countingDrain.WriteBatch(ctx, b)
}

func (d *scriptedDrain) Sync(context.Context) error { d.syncs.Add(1); return d.syncErr }
func (d *scriptedDrain) Close(context.Context) error {
	d.closed.Add(1)
	return d.closeErr
}

func TestFlushReturnsDrainError(t *testing.T) {
	d := &scriptedDrain{failOn: 1}
	var reported []error
	cfg := fastConfig()
	cfg.OnError = func(err error) { reported = append(reported, err) } // consumer goroutine only
	s := New[uint32](d, cfg)
	if err := s.TryPush(1); err != nil {
		t.Fatalf("s.TryPush(1): %v", err)
	}
	err := s.Flush(context.Background())
	if !errors.Is(err, errBackend) {
		t.Fatalf("err = %v; want %v", err, errBackend)
	}
	// The error is reported once; the next window is clean.
	if err := s.TryPush(2); err != nil {
		t.Fatalf("s.TryPush(2): %v", err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("s.Flush(context.Background()): %v", err)
	}
	closeSink(t, s)
	st := s.Stats()
	if got, want := st.WriteErrors, uint64(1); got != want {
		t.Fatalf("st.WriteErrors = %v; want %v", got, want)
	}
	if got, want := st.Failed, uint64(1); got != want {
		t.Fatalf("st.Failed = %v; want %v", got, want)
	}
	if got, want := st.Delivered, uint64(1); got != want {
		t.Fatalf("st.Delivered = %v; want %v", got, want)
	}
	if got := len(reported); got != 1 {
		t.Fatalf("len(reported) = %d; want %d", got, 1)
	}
}

func TestFlushReturnsSyncError(t *testing.T) {
	errSync := errors.New("fsync failed")
	d := &scriptedDrain{syncErr: errSync}
	s := New[uint32](d, fastConfig())
	defer func() { _ = s.Close() }()
	if err := s.TryPush(1); err != nil {
		t.Fatalf("s.TryPush(1): %v", err)
	}
	if err := s.Flush(context.Background()); !errors.Is(err, errSync) {
		t.Fatalf("s.Flush(context.Background()) = %v; want %v", err, errSync)
	}
	if got, want := s.Stats().SyncErrors, uint64(1); got != want {
		t.Fatalf("s.Stats().SyncErrors = %v; want %v", got, want)
	}
	// Nothing new written: no Sync, no error.
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("s.Flush(context.Background()): %v", err)
	}
	if got, want := d.syncs.Load(), int32(1); got != want {
		t.Fatalf("d.syncs.Load() = %v; want %v", got, want)
	}
}

func TestDrainPanicIsRecoveredAndDrainingContinues(t *testing.T) {
	d := &scriptedDrain{panicOn: 1}
	var onErr []error
	cfg := fastConfig()
	cfg.OnError = func(err error) { onErr = append(onErr, err) }
	s := New[uint32](d, cfg)
	if err := s.TryPush(1); err != nil {
		t.Fatalf("s.TryPush(1): %v", err)
	}
	if err := s.Flush(context.Background()); !errors.Is(err, ErrDrainPanic) {
		t.Fatalf("s.Flush(context.Background()) = %v; want %v", err, ErrDrainPanic)
	}
	for i := range uint32(5) {
		if err := s.TryPush(10 + i); err != nil {
			t.Fatalf("s.TryPush(10+i): %v", err)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("s.Flush(context.Background()): %v", err)
	}
	closeSink(t, s)
	if got, want := d.count.Load(), uint64(5); got != want {
		t.Fatalf("the consumer kept draining after the panic: d.count.Load() = %v; want %v", got, want)
	}
	if got, want := s.Stats().Panics, uint64(1); got != want {
		t.Fatalf("s.Stats().Panics = %v; want %v", got, want)
	}
	if got := len(onErr); got != 1 {
		t.Fatalf("len(onErr) = %d; want %d", got, 1)
	}
	if err := onErr[0]; !errors.Is(err, ErrDrainPanic) {
		t.Fatalf("onErr[0] = %v; want %v", err, ErrDrainPanic)
	}
	if got, want := d.closed.Load(), int32(1); got != want {
		t.Fatalf("drain closed exactly once: d.closed.Load() = %v; want %v", got, want)
	}
}

func TestBatchingBySize(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, Config{QueueCapacity: 64, BatchSize: 10, FlushInterval: time.Hour})
	for i := range uint32(25) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("s.TryPush(i): %v", err)
		}
	}
	eventually(t, 10*time.Second, func() bool { return d.count.Load() == 20 })
	time.Sleep(50 * time.Millisecond)
	if got, want := d.count.Load(), uint64(20); got != want {
		t.Fatalf("a partial batch was written before its interval: d.count.Load() = %v; want %v", got, want)
	}
	if got, want := s.Stats().Pending, uint64(5); got != want {
		t.Fatalf("s.Stats().Pending = %v; want %v", got, want)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("s.Flush(context.Background()): %v", err)
	}
	if got, want := d.batchSizes(), []int{10, 10, 5}; !slices.Equal(got, want) {
		t.Fatalf("d.batchSizes() = %v; want %v", got, want)
	}
	closeSink(t, s)
}

func TestBatchingByInterval(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, Config{QueueCapacity: 64, BatchSize: 1000, FlushInterval: 20 * time.Millisecond})
	defer closeSink(t, s)
	start := time.Now()
	for i := range uint32(3) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("s.TryPush(i): %v", err)
		}
	}
	eventually(t, 10*time.Second, func() bool { return d.count.Load() == 3 })
	if got := time.Since(start); got < 20*time.Millisecond {
		t.Fatalf("written before the interval expired: time.Since(start) = %v; want >= %v", got, 20*time.Millisecond)
	}
	if got, want := d.batchSizes(), []int{3}; !slices.Equal(got, want) {
		t.Fatalf("d.batchSizes() = %v; want %v", got, want)
	}
}

func TestPushWaitsForRoomAndHonoursContext(t *testing.T) {
	d := &throttledDrain{release: make(chan struct{})}
	s := New[uint32](d, Config{QueueCapacity: 2, BatchSize: 1, FlushInterval: time.Minute})
	// Fill: one message in the gated write, two queued.
	if err := s.Push(context.Background(), 0); err != nil {
		t.Fatalf("s.Push(context.Background(), 0): %v", err)
	}
	eventually(t, 10*time.Second, func() bool { return s.Stats().Pending == 1 && s.ring.Len() == 0 })
	if err := s.Push(context.Background(), 1); err != nil {
		t.Fatalf("s.Push(context.Background(), 1): %v", err)
	}
	if err := s.Push(context.Background(), 2); err != nil {
		t.Fatalf("s.Push(context.Background(), 2): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := s.Push(ctx, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("s.Push(ctx, 3) = %v; want %v", err, context.DeadlineExceeded)
	}

	done := make(chan error, 1)
	go func() { done <- s.Push(context.Background(), 4) }()
	select {
	case err := <-done:
		t.Fatalf("Push returned %v while the queue was full", err)
	case <-time.After(30 * time.Millisecond):
	}
	close(d.release) // the consumer frees room: the parked Push completes
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("err: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Push did not wake when room was freed")
	}
	closeSink(t, s)
	if got, want := d.count.Load(), uint64(4); got != want {
		t.Fatalf("d.count.Load() = %v; want %v", got, want)
	}
}

// TestCallsAfterCloseReturnErrClosed: TryPush, Push and Flush return
// ErrClosed after a shutdown; a second Close and a later Shutdown return
// the shutdown's result (here nil), as every call of them does.
func TestCallsAfterCloseReturnErrClosed(t *testing.T) {
	d := &scriptedDrain{}
	s := New[uint32](d, fastConfig())
	closeSink(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("a second Close: s.Close() = %v; want nil, the shutdown's result", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("a Shutdown after Close: s.Shutdown(context.Background()) = %v; want nil, the shutdown's result", err)
	}
	if err := s.TryPush(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("s.TryPush(1) = %v; want %v", err, ErrClosed)
	}
	if err := s.Push(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("s.Push(context.Background(), 1) = %v; want %v", err, ErrClosed)
	}
	if err := s.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("s.Flush(context.Background()) = %v; want %v", err, ErrClosed)
	}
	if got, want := d.closed.Load(), int32(1); got != want {
		t.Fatalf("d.closed.Load() = %v; want %v", got, want)
	}
}

func TestCloseReportsDrainCloseError(t *testing.T) {
	errClose := errors.New("close failed")
	s := New[uint32](&scriptedDrain{closeErr: errClose}, fastConfig())
	err := s.Close()
	if !errors.Is(err, errClose) {
		t.Fatalf("err = %v; want %v", err, errClose)
	}
	var lost *LostError
	if errors.As(err, &lost) {
		t.Fatalf("nothing was lost, yet Close returned %v: errors.As(err, &lost) is true", err)
	}
}

func TestCloseDeadlineSaysHowManyAreLeft(t *testing.T) {
	d := &throttledDrain{release: make(chan struct{})} // never released
	s := New[uint32](d, Config{QueueCapacity: 64, BatchSize: 4, FlushInterval: time.Minute})
	for i := range uint32(10) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("s.TryPush(i): %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want %v", err, context.DeadlineExceeded)
	}
	lost := asLost(t, err)
	if got, want := lost.Unwritten+lost.Failed, uint64(10); got != want {
		t.Fatalf("messages lost: lost.Unwritten+lost.Failed = %v; want %v", got, want)
	}
	if got := err.Error(); !strings.Contains(got, "10 messages lost") {
		t.Fatalf("err.Error() = %q; want it to contain %q", got, "10 messages lost")
	}
	if got := time.Since(start); got >= 5*time.Second {
		t.Fatalf("time.Since(start) = %v; want < %v", got, 5*time.Second)
	}
	st := s.Stats()
	if got, want := st.Delivered+st.Failed+st.Pending, st.Pushed; got != want {
		t.Fatalf("st.Delivered+st.Failed+st.Pending = %v; want %v", got, want)
	}
	if got, want := d.count.Load(), uint64(0); got != want {
		t.Fatalf("d.count.Load() = %v; want %v", got, want)
	}
}

// TestCloseRacesProducersAndFlush: producers (more than CPUs) push with
// TryPush and Push while others Flush and the sink is closed under them.
// Afterwards: every accepted message was written exactly once, per-producer
// order held, calls after Close got ErrClosed, and the counters add up.
func TestCloseRacesProducersAndFlush(t *testing.T) {
	for round := range 20 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			d := &countingDrain{}
			s := New[uint32](d, Config{QueueCapacity: 128, BatchSize: 7, FlushInterval: time.Millisecond})
			const producers = 8
			var accepted [producers]atomic.Uint64
			var wg sync.WaitGroup
			for p := range producers {
				wg.Go(func() {
					for i := uint32(0); ; {
						v := uint32(p)<<24 | i // i counts accepted pushes: no gaps
						var err error
						if p%2 == 0 {
							err = s.TryPush(v)
						} else {
							err = s.Push(context.Background(), v)
						}
						switch {
						case err == nil:
							accepted[p].Add(1)
							i++
						case errors.Is(err, ErrClosed):
							return
						case !errors.Is(err, ErrOverflow):
							t.Errorf("producer %d: %v", p, err)
							return
						}
						if accepted[p].Load()%64 == 0 {
							runtime.Gosched()
						}
					}
				})
			}
			wg.Go(func() {
				for s.Flush(context.Background()) == nil {
				}
			})
			time.Sleep(time.Duration(round%5) * time.Millisecond)
			closeSink(t, s)
			wg.Wait()
			st := s.Stats()
			var total uint64
			for p := range producers {
				total += accepted[p].Load()
			}
			if got, want := st.Pushed, total; got != want {
				t.Fatalf("accepted pushes: st.Pushed = %v; want %v", got, want)
			}
			// Every push that returned nil was written: Close closes the
			// queue before its final drain.
			if got, want := st.Delivered, st.Pushed; got != want {
				t.Fatalf("accepted pushes delivered (%+v): st.Delivered = %v; want %v", st, got, want)
			}
			if got := st.Pending + st.Failed; got != 0 {
				t.Fatalf("st.Pending+st.Failed = %v; want 0", got)
			}
			d.mu.Lock()
			got := slices.Clone(d.got)
			d.mu.Unlock()
			if got, want := uint64(len(got)), st.Delivered; got != want {
				t.Fatalf("uint64(len(got)) = %v; want %v", got, want)
			}
			next := map[uint32]uint32{}
			for _, v := range got {
				p, i := v>>24, v&0xffffff
				if got, want := i, next[p]; got != want {
					t.Fatalf("producer %d order: i = %v; want %v", p, got, want)
				}
				next[p]++
			}
		})
	}
}
