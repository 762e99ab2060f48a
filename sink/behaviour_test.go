package sink

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
	require.NoError(t, s.TryPush(1))
	err := s.Flush(context.Background())
	require.ErrorIs(t, err, errBackend)
	// The error is reported once; the next window is clean.
	require.NoError(t, s.TryPush(2))
	require.NoError(t, s.Flush(context.Background()))
	closeSink(t, s)
	st := s.Stats()
	require.Equal(t, uint64(1), st.WriteErrors)
	require.Equal(t, uint64(1), st.Failed)
	require.Equal(t, uint64(1), st.Delivered)
	require.Len(t, reported, 1)
}

func TestFlushReturnsSyncError(t *testing.T) {
	errSync := errors.New("fsync failed")
	d := &scriptedDrain{syncErr: errSync}
	s := New[uint32](d, fastConfig())
	defer func() { _ = s.Close() }()
	require.NoError(t, s.TryPush(1))
	require.ErrorIs(t, s.Flush(context.Background()), errSync)
	require.Equal(t, uint64(1), s.Stats().SyncErrors)
	// Nothing new written: no Sync, no error.
	require.NoError(t, s.Flush(context.Background()))
	require.Equal(t, int32(1), d.syncs.Load())
}

func TestDrainPanicIsRecoveredAndDrainingContinues(t *testing.T) {
	d := &scriptedDrain{panicOn: 1}
	var onErr []error
	cfg := fastConfig()
	cfg.OnError = func(err error) { onErr = append(onErr, err) }
	s := New[uint32](d, cfg)
	require.NoError(t, s.TryPush(1))
	require.ErrorIs(t, s.Flush(context.Background()), ErrDrainPanic)
	for i := range uint32(5) {
		require.NoError(t, s.TryPush(10+i))
	}
	require.NoError(t, s.Flush(context.Background()))
	closeSink(t, s)
	require.Equal(t, uint64(5), d.count.Load(), "the consumer kept draining after the panic")
	require.Equal(t, uint64(1), s.Stats().Panics)
	require.Len(t, onErr, 1)
	require.ErrorIs(t, onErr[0], ErrDrainPanic)
	require.Equal(t, int32(1), d.closed.Load(), "drain closed exactly once")
}

func TestBatchingBySize(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, Config{QueueCapacity: 64, BatchSize: 10, FlushInterval: time.Hour})
	for i := range uint32(25) {
		require.NoError(t, s.TryPush(i))
	}
	require.Eventually(t, func() bool { return d.count.Load() == 20 }, 10*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, uint64(20), d.count.Load(), "a partial batch was written before its interval")
	require.Equal(t, uint64(5), s.Stats().Pending)
	require.NoError(t, s.Flush(context.Background()))
	require.Equal(t, []int{10, 10, 5}, d.batchSizes())
	closeSink(t, s)
}

func TestBatchingByInterval(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, Config{QueueCapacity: 64, BatchSize: 1000, FlushInterval: 20 * time.Millisecond})
	defer closeSink(t, s)
	start := time.Now()
	for i := range uint32(3) {
		require.NoError(t, s.TryPush(i))
	}
	require.Eventually(t, func() bool { return d.count.Load() == 3 }, 10*time.Second, time.Millisecond)
	require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "written before the interval expired")
	require.Equal(t, []int{3}, d.batchSizes())
}

func TestPushWaitsForRoomAndHonoursContext(t *testing.T) {
	d := &throttledDrain{release: make(chan struct{})}
	s := New[uint32](d, Config{QueueCapacity: 2, BatchSize: 1, FlushInterval: time.Minute})
	// Fill: one message in the gated write, two queued.
	require.NoError(t, s.Push(context.Background(), 0))
	require.Eventually(t, func() bool { return s.Stats().Pending == 1 && s.ring.Len() == 0 }, 10*time.Second, time.Millisecond)
	require.NoError(t, s.Push(context.Background(), 1))
	require.NoError(t, s.Push(context.Background(), 2))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.Push(ctx, 3), context.DeadlineExceeded)

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
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Push did not wake when room was freed")
	}
	closeSink(t, s)
	require.Equal(t, uint64(4), d.count.Load())
}

func TestCallsAfterCloseReturnErrClosed(t *testing.T) {
	d := &scriptedDrain{}
	s := New[uint32](d, fastConfig())
	closeSink(t, s)
	require.ErrorIs(t, s.Close(), ErrClosed, "a second Close")
	require.ErrorIs(t, s.Shutdown(context.Background()), ErrClosed, "a Shutdown after Close")
	require.ErrorIs(t, s.TryPush(1), ErrClosed)
	require.ErrorIs(t, s.Push(context.Background(), 1), ErrClosed)
	require.ErrorIs(t, s.Flush(context.Background()), ErrClosed)
	require.Equal(t, int32(1), d.closed.Load())
}

func TestCloseReportsDrainCloseError(t *testing.T) {
	errClose := errors.New("close failed")
	s := New[uint32](&scriptedDrain{closeErr: errClose}, fastConfig())
	err := s.Close()
	require.ErrorIs(t, err, errClose)
	var lost *LostError
	require.False(t, errors.As(err, &lost), "nothing was lost, yet Close returned %v", err)
}

func TestCloseDeadlineSaysHowManyAreLeft(t *testing.T) {
	d := &throttledDrain{release: make(chan struct{})} // never released
	s := New[uint32](d, Config{QueueCapacity: 64, BatchSize: 4, FlushInterval: time.Minute})
	for i := range uint32(10) {
		require.NoError(t, s.TryPush(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Shutdown(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	lost := asLost(t, err)
	require.Equal(t, uint64(10), lost.Unwritten+lost.Failed, "messages lost")
	require.Contains(t, err.Error(), "10 messages lost")
	require.Less(t, time.Since(start), 5*time.Second)
	st := s.Stats()
	require.Equal(t, st.Pushed, st.Delivered+st.Failed+st.Pending)
	require.Equal(t, uint64(0), d.count.Load())
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
			require.Equal(t, total, st.Pushed, "accepted pushes")
			// Every push that returned nil was written: Close closes the
			// queue before its final drain.
			require.Equal(t, st.Pushed, st.Delivered, "accepted pushes delivered (%+v)", st)
			require.Zero(t, st.Pending+st.Failed)
			d.mu.Lock()
			got := slices.Clone(d.got)
			d.mu.Unlock()
			require.Equal(t, st.Delivered, uint64(len(got)))
			next := map[uint32]uint32{}
			for _, v := range got {
				p, i := v>>24, v&0xffffff
				require.Equal(t, next[p], i, "producer %d order", p)
				next[p]++
			}
		})
	}
}
