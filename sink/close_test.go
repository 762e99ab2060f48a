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
// its deadline, and the LostError counts every message not delivered: the
// four queued behind the stuck call as Unwritten, the one inside it as
// InFlight (that call may still succeed, and then Stats counts it
// Delivered).
func TestShutdownReturnsAtDeadlineWhateverTheDrain(t *testing.T) {
	d := newStuckDrain()
	s := New[uint32](d, Config{BatchSize: 1})
	for i := range uint32(5) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("s.TryPush(i): %v", err)
		}
	}
	<-d.entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Shutdown(ctx)
	// The bound is the deadline plus scheduling noise; waiting for the
	// drain would be forever, here.
	if got := time.Since(start); got >= 3*time.Second {
		t.Fatalf("Shutdown overran its deadline: time.Since(start) = %v; want < %v", got, 3*time.Second)
	}
	if !errors.Is(err, ErrStuck) {
		t.Fatalf("err = %v; want %v", err, ErrStuck)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want %v", err, context.DeadlineExceeded)
	}
	lost := asLost(t, err)
	if got, want := lost.Unwritten, uint64(4); got != want {
		t.Fatalf("lost.Unwritten = %v; want %v", got, want)
	}
	if got, want := lost.InFlight, uint64(1); got != want {
		t.Fatalf("lost.InFlight = %v; want %v", got, want)
	}
	if got, want := lost.Failed, uint64(0); got != want {
		t.Fatalf("lost.Failed = %v; want %v", got, want)
	}
	if got, want := s.Stats().Pending, lost.Unwritten+lost.InFlight; got != want {
		t.Fatalf("before the stuck call returns: s.Stats().Pending = %v; want Unwritten+InFlight = %v", got, want)
	}
	select {
	case <-s.Done():
		t.Fatal("Done closed while the drain is still inside WriteBatch")
	default:
	}
	close(d.release)
	<-s.Done()
	if got, want := d.calls.Load(), int32(1); got != want {
		t.Fatalf("batches handed to the drain after Shutdown gave up: d.calls.Load() = %v; want %v", got, want)
	}
	if got := s.Shutdown(context.Background()); got != err {
		t.Fatalf("a later Shutdown = %v; want the shutdown's result %v", got, err)
	}
	st := s.Stats()
	if got, want := lost.Unwritten+st.Delivered+st.Failed, st.Pushed; got != want {
		t.Fatalf("once Done: Unwritten+Delivered+Failed = %v; want Pushed = %v", got, want)
	}
	if got, want := st.Delivered, uint64(1); got != want {
		t.Fatalf("st.Delivered = %v; want %v", got, want)
	}
	if got, want := st.Pending, uint64(4); got != want {
		t.Fatalf("st.Pending = %v; want %v", got, want)
	}
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
		if err := s.TryPush(i); err != nil {
			t.Fatalf("s.TryPush(i): %v", err)
		}
	}
	<-d.entered
	start := time.Now()
	err := s.Close()
	took := time.Since(start)
	if got := took; got < 50*time.Millisecond {
		t.Fatalf("Close returned before its timeout: took = %v; want >= %v", got, 50*time.Millisecond)
	}
	if got := took; got >= 2*time.Second {
		t.Fatalf("Close ignored CloseTimeout: took = %v; want < %v", got, 2*time.Second)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want %v", err, context.DeadlineExceeded)
	}
	if !errors.Is(err, ErrStuck) {
		t.Fatalf("err = %v; want %v", err, ErrStuck)
	}
	if got, want := asLost(t, err).Unwritten, uint64(2); got != want {
		t.Fatalf("asLost(t, err).Unwritten = %v; want %v", got, want)
	}
	if got, want := asLost(t, err).InFlight, uint64(1); got != want {
		t.Fatalf("asLost(t, err).InFlight = %v; want %v", got, want)
	}
	close(d.release)
	<-s.Done()
}

// TestCleanCloseReturnsNil: everything accepted is delivered, so Close
// returns nil (not a LostError with zero counts).
func TestCleanCloseReturnsNil(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, fastConfig())
	for i := range uint32(100) {
		if err := s.TryPush(i); err != nil {
			t.Fatalf("s.TryPush(i): %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("s.Close(): %v", err)
	}
	if got, want := d.count.Load(), uint64(100); got != want {
		t.Fatalf("d.count.Load() = %v; want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second s.Close() = %v; want nil, the shutdown's result", err)
	}
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
		if err := s.TryPush(i); err != nil {
			t.Fatalf("s.TryPush(i): %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Shutdown(ctx)
	<-s.Done()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want %v", err, context.DeadlineExceeded)
	}
	if got := afterAbort.Load(); got != 0 {
		t.Fatalf("WriteBatch called with a cancelled context: afterAbort.Load() = %v; want 0", got)
	}
	st := s.Stats()
	if got := st.Delivered; got != 0 {
		t.Fatalf("st.Delivered = %v; want 0", got)
	}
	if got, want := st.Failed+st.Pending, uint64(10); got != want {
		t.Fatalf("st.Failed+st.Pending = %v; want %v", got, want)
	}
	if got := st.Failed; got == 0 {
		t.Fatalf("st.Failed = 0; want non-zero")
	}
	lost := asLost(t, err)
	if got, want := lost.Unwritten+lost.Failed, uint64(10); got != want {
		t.Fatalf("messages lost: lost.Unwritten+lost.Failed = %v; want %v", got, want)
	}
	if got := s.Close(); got != err {
		t.Fatalf("a later s.Close() = %v; want the shutdown's result %v", got, err)
	}
}

// TestOnErrorPanicIsRecovered: a panicking OnError used to exit the process.
func TestOnErrorPanicIsRecovered(t *testing.T) {
	d := &scriptedDrain{failOn: 1}
	cfg := fastConfig()
	cfg.OnError = func(error) { panic("callback bug") }
	s := New[uint32](d, cfg)
	if err := s.TryPush(1); err != nil {
		t.Fatalf("s.TryPush(1): %v", err)
	}
	err := s.Flush(context.Background())
	if !errors.Is(err, errBackend) {
		t.Fatalf("err = %v; want %v", err, errBackend)
	}
	if !errors.Is(err, ErrCallbackPanic) {
		t.Fatalf("err = %v; want %v", err, ErrCallbackPanic)
	}
	if err := s.TryPush(2); err != nil {
		t.Fatalf("s.TryPush(2): %v", err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("s.Flush(context.Background()): %v", err)
	}
	closeSink(t, s)
	if got, want := s.Stats().OnErrorPanics, uint64(1); got != want {
		t.Fatalf("s.Stats().OnErrorPanics = %v; want %v", got, want)
	}
	if got, want := s.Stats().Delivered, uint64(1); got != want {
		t.Fatalf("s.Stats().Delivered = %v; want %v", got, want)
	}
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
		if err != nil {
			t.Fatalf("round %d: err: %v", round, err)
		}
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
	if err := s.TryPush(1); err != nil {
		t.Fatalf("s.TryPush(1): %v", err)
	}
	if err := s.TryPush(2); err != nil {
		t.Fatalf("s.TryPush(2): %v", err)
	}
	err := s.Close()
	if !errors.Is(err, errBackend) {
		t.Fatalf("err = %v; want %v", err, errBackend)
	}
	if !errors.Is(err, errClose) {
		t.Fatalf("err = %v; want %v", err, errClose)
	}
	lost := asLost(t, err)
	if got, want := lost.Unwritten, uint64(0); got != want {
		t.Fatalf("lost.Unwritten = %v; want %v", got, want)
	}
	if got, want := lost.Failed, uint64(1); got != want {
		t.Fatalf("lost.Failed = %v; want %v", got, want)
	}
	st := s.Stats()
	if got, want := st.Failed, uint64(1); got != want {
		t.Fatalf("st.Failed = %v; want %v", got, want)
	}
	if got, want := st.Delivered, uint64(1); got != want {
		t.Fatalf("st.Delivered = %v; want %v", got, want)
	}
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
	if err := s.TryPush(1); err != nil {
		t.Fatalf("s.TryPush(1): %v", err)
	}
	<-d.entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := s.Flush(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want %v", err, context.DeadlineExceeded)
	}
	if got := err.Error(); !strings.Contains(got, "1 messages not yet written") {
		t.Fatalf("err.Error() = %q; want it to contain %q", got, "1 messages not yet written")
	}
	d.gate <- struct{}{} // the batch fails now, with nobody waiting
	for s.Stats().WriteErrors == 0 {
		time.Sleep(time.Millisecond)
	}
	// Give the consumer time to answer the abandoned request, which is what
	// used to consume the error.
	time.Sleep(20 * time.Millisecond)
	if err := s.Flush(context.Background()); !errors.Is(err, errBackend) {
		t.Fatalf("the failure must reach the next Flush: s.Flush(context.Background()) = %v; want %v", err, errBackend)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("and only that one: s.Flush(context.Background()): %v", err)
	}
}

// TestAbandonedFlushesDoNotPileUp: while the drain is stuck, Flush calls that
// give up withdraw their requests.
func TestAbandonedFlushesDoNotPileUp(t *testing.T) {
	d := newStuckDrain()
	s := New[uint32](d, Config{BatchSize: 1})
	if err := s.TryPush(1); err != nil {
		t.Fatalf("s.TryPush(1): %v", err)
	}
	<-d.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 1000 {
		if err := s.Flush(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("s.Flush(ctx) = %v; want %v", err, context.Canceled)
		}
	}
	s.mu.Lock()
	n := len(s.flushes)
	s.mu.Unlock()
	if got := n; got != 0 {
		t.Fatalf("abandoned Flush requests kept: n = %v; want 0", got)
	}
	close(d.release)
	closeSink(t, s)
}

// TestFlushSaysHowManyErrorsItLeftOut: only keepErrs errors are joined; the
// rest are counted in the message.
func TestFlushSaysHowManyErrorsItLeftOut(t *testing.T) {
	d := DrainFunc[uint32](func(context.Context, []uint32) error { return errBackend })
	s := New[uint32](d, Config{BatchSize: 1})
	for i := range uint32(20) {
		if err := s.Push(context.Background(), i); err != nil {
			t.Fatalf("s.Push(context.Background(), i): %v", err)
		}
	}
	err := s.Flush(context.Background())
	if !errors.Is(err, errBackend) {
		t.Fatalf("err = %v; want %v", err, errBackend)
	}
	if got, want := strings.Count(err.Error(), "\n")+1-0, keepErrs+1; got != want {
		t.Fatalf("16 errors and the count line: %v: strings.Count(err.Error(), \"\\n\")+1-0 = %v; want %v", err, got, want)
	}
	if got := err.Error(); !strings.Contains(got, "4 more drain errors not shown") {
		t.Fatalf("err.Error() = %q; want it to contain %q", got, "4 more drain errors not shown")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("every failure was returned by Flush: s.Close(): %v", err)
	}
	if got, want := s.Stats().WriteErrors, uint64(20); got != want {
		t.Fatalf("s.Stats().WriteErrors = %v; want %v", got, want)
	}
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
			if err := s.Push(context.Background(), 0); err != nil {
				t.Fatalf("s.Push(context.Background(), 0): %v", err)
			}
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
		if got, want := strings.Count(all, w+"\n")+boolInt(strings.HasSuffix(all, w)), 1; got != want {
			t.Fatalf("%s in return values: %q: strings.Count(all, w+\"\\n\")+boolInt(strings.HasSuffix(all, w)) = %v; want %v", w, returned, got, want)
		}
		n := 0
		for _, e := range onError {
			n += strings.Count(e, w)
		}
		if got, want := n, 1; got != want {
			t.Fatalf("%s in OnError: %q: n = %v; want %v", w, onError, got, want)
		}
	}
	st := s.Stats()
	if got, want := st.WriteErrors, uint64(4); got != want {
		t.Fatalf("st.WriteErrors = %v; want %v", got, want)
	}
	if got, want := st.Failed, uint64(4); got != want {
		t.Fatalf("st.Failed = %v; want %v", got, want)
	}
	if got, want := st.Delivered, uint64(5); got != want {
		t.Fatalf("st.Delivered = %v; want %v", got, want)
	}
	if got, want := st.SyncErrors, uint64(1); got != want {
		t.Fatalf("st.SyncErrors = %v; want %v", got, want)
	}
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
	if err := s.TryPush(1); err != nil {
		t.Fatalf("s.TryPush(1): %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !errors.Is(s.TryPush(2), ErrClosed) {
		if !(time.Now().Before(deadline)) {
			t.Fatalf("TryPush still accepted 10 s after the drain called Goexit: time.Now().Before(deadline) is false")
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("s.Flush(context.Background()) = %v; want %v", err, ErrClosed)
	}
	err := s.Close()
	if !errors.Is(err, ErrDrainPanic) {
		t.Fatalf("err = %v; want %v", err, ErrDrainPanic)
	}
	if got := err.Error(); !strings.Contains(got, "Goexit") {
		t.Fatalf("err.Error() = %q; want it to contain %q", got, "Goexit")
	}
	st := s.Stats()
	if got, want := st.Panics, uint64(1); got != want {
		t.Fatalf("st.Panics = %v; want %v", got, want)
	}
	if got, want := st.Delivered, uint64(0); got != want {
		t.Fatalf("st.Delivered = %v; want %v", got, want)
	}
	if got, want := st.Pending, st.Pushed; got != want {
		t.Fatalf("nothing delivered: every accepted message is pending: st.Pending = %v; want %v", got, want)
	}
	if got, want := asLost(t, err).Unwritten, st.Pending; got != want {
		t.Fatalf("asLost(t, err).Unwritten = %v; want %v", got, want)
	}
}
