package sink

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stuckDrain blocks in WriteBatch, ignoring its context, until released.
type stuckDrain struct {
	entered chan struct{} // closed on the first call
	release chan struct{}
	once    sync.Once
	calls   atomic.Int32
}

func newStuckDrain() *stuckDrain {
	return &stuckDrain{entered: make(chan struct{}), release: make(chan struct{})}
}

func (d *stuckDrain) WriteBatch(context.Context, []uint32) error {
	d.calls.Add(1)
	d.once.Do(func() { close(d.entered) })
	<-d.release
	return nil
}

// TestShutdownReturnsAtDeadlineWhateverTheDrain: a drain stuck in
// WriteBatch that never looks at its context must not hold Shutdown past
// its deadline, and the LostError counts every message not written: the
// one inside the stuck call and the four queued behind it.
func TestShutdownReturnsAtDeadlineWhateverTheDrain(t *testing.T) {
	d := newStuckDrain()
	s := New[uint32](d, Config{BatchSize: 1})
	for i := range uint32(5) {
		require.NoError(t, s.TryPush(i))
	}
	<-d.entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Shutdown(ctx)
	// The bound is the deadline plus scheduling noise; waiting for the
	// drain would be forever, here.
	require.Less(t, time.Since(start), 3*time.Second, "Shutdown overran its deadline")
	require.ErrorIs(t, err, ErrStuck)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	lost := asLost(t, err)
	require.Equal(t, uint64(5), lost.Unwritten)
	require.Equal(t, uint64(0), lost.Failed)
	select {
	case <-s.Done():
		t.Fatal("Done closed while the drain is still inside WriteBatch")
	default:
	}
	close(d.release)
	<-s.Done()
	require.Equal(t, int32(1), d.calls.Load(), "batches handed to the drain after Shutdown gave up")
	require.ErrorIs(t, s.Shutdown(context.Background()), ErrClosed)
	st := s.Stats()
	require.Equal(t, uint64(1), st.Delivered)
	require.Equal(t, uint64(4), st.Pending)
}

// asLost returns err as a *LostError, failing the test if it is not one.
func asLost(t *testing.T, err error) *LostError {
	t.Helper()
	var lost *LostError
	if !errors.As(err, &lost) {
		t.Fatalf("error %v (%T) is not a *LostError", err, err)
	}
	return lost
}

// TestCloseHonoursCloseTimeout: Close gives up after Config.CloseTimeout,
// well before the 5 s default, and says what it lost.
func TestCloseHonoursCloseTimeout(t *testing.T) {
	d := newStuckDrain()
	s := New[uint32](d, Config{BatchSize: 1, CloseTimeout: 50 * time.Millisecond})
	for i := range uint32(3) {
		require.NoError(t, s.TryPush(i))
	}
	<-d.entered
	start := time.Now()
	err := s.Close()
	took := time.Since(start)
	require.GreaterOrEqual(t, took, 50*time.Millisecond, "Close returned before its timeout")
	require.Less(t, took, 2*time.Second, "Close ignored CloseTimeout")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrStuck)
	require.Equal(t, uint64(3), asLost(t, err).Unwritten)
	close(d.release)
	<-s.Done()
}

// TestCleanCloseReturnsNil: everything accepted is delivered, so Close
// returns nil (not a LostError with zero counts).
func TestCleanCloseReturnsNil(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, fastConfig())
	for i := range uint32(100) {
		require.NoError(t, s.TryPush(i))
	}
	require.NoError(t, s.Close())
	require.Equal(t, uint64(100), d.count.Load())
	require.ErrorIs(t, s.Close(), ErrClosed)
}

// TestCloseAfterDeadlineStopsWritingAndCountsFailed: once Close has given
// up, no batch is handed to the drain with a dead context, and the error
// counts the messages that failed, not only those still queued.
func TestCloseAfterDeadlineStopsWritingAndCountsFailed(t *testing.T) {
	var afterAbort atomic.Int32
	d := DrainFunc[uint32](func(ctx context.Context, b []uint32) error {
		if ctx.Err() != nil {
			afterAbort.Add(1)
			return ctx.Err()
		}
		select {
		case <-time.After(20 * time.Millisecond):
			return errBackend
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	s := New[uint32](d, Config{BatchSize: 1})
	for i := range uint32(10) {
		require.NoError(t, s.TryPush(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Shutdown(ctx)
	<-s.Done()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Zero(t, afterAbort.Load(), "WriteBatch called with a cancelled context")
	st := s.Stats()
	require.Zero(t, st.Delivered)
	require.Equal(t, uint64(10), st.Failed+st.Pending)
	require.NotZero(t, st.Failed)
	lost := asLost(t, err)
	require.Equal(t, uint64(10), lost.Unwritten+lost.Failed, "messages lost")
	require.ErrorIs(t, s.Close(), ErrClosed)
}

// TestOnErrorPanicIsRecovered: a panicking OnError used to exit the process.
func TestOnErrorPanicIsRecovered(t *testing.T) {
	d := &scriptedDrain{failOn: 1}
	cfg := fastConfig()
	cfg.OnError = func(error) { panic("callback bug") }
	s := New[uint32](d, cfg)
	require.NoError(t, s.TryPush(1))
	err := s.Flush(context.Background())
	require.ErrorIs(t, err, errBackend)
	require.ErrorIs(t, err, ErrCallbackPanic)
	require.NoError(t, s.TryPush(2))
	require.NoError(t, s.Flush(context.Background()))
	closeSink(t, s)
	require.Equal(t, uint64(1), s.Stats().OnErrorPanics)
	require.Equal(t, uint64(1), s.Stats().Delivered)
}

// TestPushAcceptedBeforeCloseIsWritten: Close racing TryPush and Push.
// Every push that returned nil must be written (the drain never fails
// here, so Close returns nil); before the fix a push could pass the closed
// check, land after the consumer's final drain, and be left in the queue.
func TestPushAcceptedBeforeCloseIsWritten(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	for round := range rounds {
		d := &countingDrain{}
		s := New[uint32](d, Config{QueueCapacity: 64, BatchSize: 4})
		var accepted atomic.Uint64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for p := range 4 {
			wg.Go(func() {
				<-start
				for i := 0; ; i++ {
					var err error
					if p%2 == 0 {
						err = s.TryPush(1)
					} else {
						err = s.Push(context.Background(), 1)
					}
					if err == nil {
						accepted.Add(1)
					} else if errors.Is(err, ErrClosed) {
						return
					}
					if i%16 == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		close(start)
		time.Sleep(time.Duration(round%7) * 50 * time.Microsecond)
		err := s.Close()
		wg.Wait()
		require.NoError(t, err, "round %d", round)
		if got, want := d.count.Load(), accepted.Load(); got != want {
			t.Fatalf("round %d: %d pushes returned nil, %d written, Close said %v (stats %+v)", round, want, got, err, s.Stats())
		}
	}
}

// TestCloseReturnsFinalBatchErrors: errors from the batches Close writes
// used to be dropped (Close returned only the drain's own Close error).
func TestCloseReturnsFinalBatchErrors(t *testing.T) {
	errClose := errors.New("close failed")
	d := &scriptedDrain{failOn: 1, closeErr: errClose}
	s := New[uint32](d, Config{BatchSize: 1, FlushInterval: time.Hour})
	require.NoError(t, s.TryPush(1))
	require.NoError(t, s.TryPush(2))
	err := s.Close()
	require.ErrorIs(t, err, errBackend)
	require.ErrorIs(t, err, errClose)
	lost := asLost(t, err)
	require.Equal(t, uint64(0), lost.Unwritten)
	require.Equal(t, uint64(1), lost.Failed)
	st := s.Stats()
	require.Equal(t, uint64(1), st.Failed)
	require.Equal(t, uint64(1), st.Delivered)
}

// gatedFailDrain blocks each call until released, then fails it.
type gatedFailDrain struct {
	gate    chan struct{}
	entered chan struct{}
}

func (d *gatedFailDrain) WriteBatch(context.Context, []uint32) error {
	d.entered <- struct{}{}
	<-d.gate
	return errBackend
}

// TestAbandonedFlushKeepsErrors: a Flush that gave up at its deadline used
// to be answered later anyway, taking the errors with it, so the next Flush
// returned nil although a WriteBatch had failed.
func TestAbandonedFlushKeepsErrors(t *testing.T) {
	d := &gatedFailDrain{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	s := New[uint32](d, Config{BatchSize: 1})
	defer func() {
		close(d.gate)
		_ = s.Close()
	}()
	require.NoError(t, s.TryPush(1))
	<-d.entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := s.Flush(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "1 messages not yet written")
	d.gate <- struct{}{} // the batch fails now, with nobody waiting
	for s.Stats().WriteErrors == 0 {
		time.Sleep(time.Millisecond)
	}
	// Give the consumer time to answer the abandoned request, which is what
	// used to consume the error.
	time.Sleep(20 * time.Millisecond)
	require.ErrorIs(t, s.Flush(context.Background()), errBackend, "the failure must reach the next Flush")
	require.NoError(t, s.Flush(context.Background()), "and only that one")
}

// TestAbandonedFlushesDoNotPileUp: while the drain is stuck, Flush calls that
// give up withdraw their requests.
func TestAbandonedFlushesDoNotPileUp(t *testing.T) {
	d := newStuckDrain()
	s := New[uint32](d, Config{BatchSize: 1})
	require.NoError(t, s.TryPush(1))
	<-d.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 1000 {
		require.ErrorIs(t, s.Flush(ctx), context.Canceled)
	}
	s.mu.Lock()
	n := len(s.flushes)
	s.mu.Unlock()
	require.Zero(t, n, "abandoned Flush requests kept")
	close(d.release)
	closeSink(t, s)
}

// TestFlushSaysHowManyErrorsItLeftOut: only keepErrs errors are joined; the
// rest are counted in the message.
func TestFlushSaysHowManyErrorsItLeftOut(t *testing.T) {
	d := DrainFunc[uint32](func(context.Context, []uint32) error { return errBackend })
	s := New[uint32](d, Config{BatchSize: 1})
	for i := range uint32(20) {
		require.NoError(t, s.Push(context.Background(), i))
	}
	err := s.Flush(context.Background())
	require.ErrorIs(t, err, errBackend)
	require.Equal(t, keepErrs+1, strings.Count(err.Error(), "\n")+1-0, "16 errors and the count line: %v", err)
	require.Contains(t, err.Error(), "4 more drain errors not shown")
	require.NoError(t, s.Close(), "every failure was returned by Flush")
	require.Equal(t, uint64(20), s.Stats().WriteErrors)
}

// numberedDrain fails chosen calls with errors that name the call, so a test
// can check where each one surfaces.
type numberedDrain struct {
	calls, syncs atomic.Int32
	failWrite    map[int32]bool
	failSync     map[int32]bool
	failClose    bool
}

func (d *numberedDrain) WriteBatch(context.Context, []uint32) error {
	if n := d.calls.Add(1); d.failWrite[n] {
		return fmt.Errorf("write-%d", n)
	}
	return nil
}

func (d *numberedDrain) Sync(context.Context) error {
	if n := d.syncs.Add(1); d.failSync[n] {
		return fmt.Errorf("sync-%d", n)
	}
	return nil
}

func (d *numberedDrain) Close(context.Context) error {
	if d.failClose {
		return errors.New("close-1")
	}
	return nil
}

// TestEveryErrorSurfacesOnce injects errors into writes between flushes,
// into Sync, into the batches Close writes and into the drain's Close, and
// checks that each one reaches OnError exactly once and exactly one return
// value (a Flush or Close), and that Stats count them.
func TestEveryErrorSurfacesOnce(t *testing.T) {
	d := &numberedDrain{
		failWrite: map[int32]bool{2: true, 3: true, 6: true, 9: true},
		failSync:  map[int32]bool{2: true},
		failClose: true,
	}
	var onError []string
	s := New[uint32](d, Config{BatchSize: 1, FlushInterval: time.Hour, OnError: func(err error) {
		onError = append(onError, err.Error()) // consumer goroutine only
	}})
	var returned []string
	collect := func(err error) {
		if err != nil {
			returned = append(returned, err.Error())
		}
	}
	push := func(n int) {
		for range n {
			require.NoError(t, s.Push(context.Background(), 0))
		}
	}
	push(3)                                // writes 1-3: 2 and 3 fail
	collect(s.Flush(context.Background())) // sync 1
	collect(s.Flush(context.Background())) // nothing new
	push(3)                                // writes 4-6: 6 fails
	collect(s.Flush(context.Background())) // sync 2 fails
	push(3)                                // writes 7-9 at Close: 9 fails
	collect(s.Close())
	want := []string{"write-2", "write-3", "write-6", "sync-2", "write-9", "close-1"}
	all := strings.Join(returned, "\n")
	for _, w := range want {
		require.Equal(t, 1, strings.Count(all, w+"\n")+boolInt(strings.HasSuffix(all, w)), "%s in return values: %q", w, returned)
		n := 0
		for _, e := range onError {
			n += strings.Count(e, w)
		}
		require.Equal(t, 1, n, "%s in OnError: %q", w, onError)
	}
	st := s.Stats()
	require.Equal(t, uint64(4), st.WriteErrors)
	require.Equal(t, uint64(4), st.Failed)
	require.Equal(t, uint64(5), st.Delivered)
	require.Equal(t, uint64(1), st.SyncErrors)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestGoexitInDrainClosesTheSink: a drain that calls runtime.Goexit (as
// t.FailNow does) ends the consumer goroutine, which no recover stops.
// The sink then closes itself: TryPush and Flush return ErrClosed, and
// Close returns an error wrapping ErrDrainPanic that counts what was not
// delivered. (Close returned nil, and TryPush kept accepting messages
// nobody would write.)
func TestGoexitInDrainClosesTheSink(t *testing.T) {
	s := New[uint32](DrainFunc[uint32](func(context.Context, []uint32) error {
		runtime.Goexit()
		return nil
	}), fastConfig())
	require.NoError(t, s.TryPush(1))
	deadline := time.Now().Add(10 * time.Second)
	for !errors.Is(s.TryPush(2), ErrClosed) {
		require.True(t, time.Now().Before(deadline), "TryPush still accepted 10 s after the drain called Goexit")
		time.Sleep(time.Millisecond)
	}
	require.ErrorIs(t, s.Flush(context.Background()), ErrClosed)
	err := s.Close()
	require.ErrorIs(t, err, ErrDrainPanic)
	require.Contains(t, err.Error(), "Goexit")
	st := s.Stats()
	require.Equal(t, uint64(1), st.Panics)
	require.Equal(t, uint64(0), st.Delivered)
	require.Equal(t, st.Pushed, st.Pending, "nothing delivered: every accepted message is pending")
	require.Equal(t, st.Pending, asLost(t, err).Unwritten)
}
