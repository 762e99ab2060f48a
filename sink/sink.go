package sink

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringsink/ringsink/internal/park"
	"github.com/ringsink/ringsink/internal/ring"
	"github.com/ringsink/ringsink/wait"
)

// Sentinel errors. Errors returned by Flush, Close and Shutdown wrap them
// or the drain's own errors.
var (
	// ErrOverflow is returned by TryPush when the queue is full; the
	// message is counted in Stats.Dropped.
	ErrOverflow = errors.New("sink: queue full")
	// ErrClosed is returned by every call after Close or Shutdown has
	// begun, and by every Close or Shutdown after the first.
	ErrClosed = errors.New("sink: closed")
	// ErrDrainPanic wraps a panic recovered from a drain method. The error
	// of Close or Shutdown wraps it when a drain method or Config.OnError
	// called runtime.Goexit, which ends the consumer goroutine (no recover
	// stops it): the sink then closes itself.
	ErrDrainPanic = errors.New("sink: drain panicked")
	// ErrCallbackPanic wraps a panic recovered from Config.OnError.
	ErrCallbackPanic = errors.New("sink: OnError panicked")
	// ErrStuck is wrapped by the error of Close or Shutdown when its bound
	// ends while the drain has not returned from a call; the consumer
	// goroutine finishes when the drain returns (Done).
	ErrStuck = errors.New("sink: drain did not return by the deadline")
)

// LostError is returned by Close and Shutdown when messages the sink
// accepted were not delivered: Unwritten were never written (the shutdown
// gave up, or the consumer ended), Failed were in batches whose WriteBatch
// failed and whose errors no Flush returned. Err is the cause: the
// context's error, ErrStuck, ErrDrainPanic and the drain's errors, joined;
// errors.Is and errors.As see through it.
type LostError struct {
	Unwritten uint64 // messages accepted and never written
	Failed    uint64 // messages in failed batches no Flush reported
	Err       error  // the cause
}

// Error says how many messages were lost, and why.
func (e *LostError) Error() string {
	return fmt.Sprintf("sink: %d messages lost (%d not written, %d failed): %v",
		e.Unwritten+e.Failed, e.Unwritten, e.Failed, e.Err)
}

// Unwrap returns the cause.
func (e *LostError) Unwrap() error { return e.Err }

// keepErrs is how many drain errors are kept for the next Flush or Close;
// further ones are counted, and the returned error says how many.
const keepErrs = 16

// Drain writes batches on the sink's consumer goroutine; its methods are
// never called concurrently. The batch slice is reused after WriteBatch
// returns: a drain that keeps values must copy them. An error is counted,
// reported through Config.OnError and returned by the next Flush; the sink
// goes on with the next batch (it does not retry).
type Drain[T any] interface {
	WriteBatch(ctx context.Context, batch []T) error
}

// DrainFunc adapts a function to Drain.
type DrainFunc[T any] func(ctx context.Context, batch []T) error

// WriteBatch calls f(ctx, batch).
func (f DrainFunc[T]) WriteBatch(ctx context.Context, batch []T) error { return f(ctx, batch) }

// Syncer is an optional Drain interface: Sync makes what was written durable
// (fsync, commit). The sink calls it at every Flush barrier, after the
// barrier's last batch, and once at Close.
type Syncer interface {
	Sync(ctx context.Context) error
}

// Closer is an optional Drain interface: Close is called once, on the
// consumer goroutine, after the final batch at shutdown.
type Closer interface {
	Close(ctx context.Context) error
}

// defaultWait is Config.Wait's default.
var defaultWait = wait.Linger(time.Millisecond)

// Config configures a Sink. Zero fields take their defaults.
type Config struct {
	// QueueCapacity is the most messages queued; defaults to 10 000 when
	// zero (rounded up to a power of two: 16384).
	QueueCapacity int
	// BatchSize is the most messages per WriteBatch; defaults to 256, and
	// is at most the queue's capacity (a larger value is lowered to it:
	// New allocates the batch, which then holds no more than the queue).
	BatchSize int
	// FlushInterval bounds how long a partial batch waits for more messages;
	// defaults to 100 ms. No timer runs while there is nothing to write.
	FlushInterval time.Duration
	// CloseTimeout bounds Close: how long it lets the consumer write what
	// is queued, sync and close the drain before it gives up; defaults to
	// 5 s when zero or negative. Shutdown takes its bound from its context.
	CloseTimeout time.Duration
	// Wait is how the consumer waits while the queue is empty (package
	// wait); defaults to wait.Linger(time.Millisecond) when zero: a
	// producer pays one atomic load per push and no wake-up until the
	// queue is half full, and a message may wait up to the linger, rounded
	// up to the platform's timer resolution, before the consumer takes it
	// into a batch. Flush, Close and Shutdown wake the consumer at once.
	// wait.Park() wakes it at every push that finds it parked, as a channel
	// does; wait.Spin() keeps a core busy.
	Wait wait.Policy
	// OnError, if set, is called on the consumer goroutine with every error
	// from the drain (write, sync, close, recovered panic), once each, as it
	// happens. It must not block for long: the consumer waits for it. A
	// panic in it is recovered and counted (Stats.OnErrorPanics).
	OnError func(error)
}

// Stats are plain counters, cheap to read from any goroutine. At any
// quiescent moment
//
//	Pushed == Delivered + Failed + Pending
//
// and every message offered to TryPush or Push was either Pushed, counted
// in Dropped, or refused with ErrClosed or Push's context error. All
// counters only grow, except Pending.
type Stats struct {
	Pushed        uint64 // messages accepted into the queue
	Dropped       uint64 // TryPush refusals because the queue was full
	Delivered     uint64 // messages in batches whose WriteBatch returned nil
	Failed        uint64 // messages in batches whose WriteBatch failed or panicked
	Writes        uint64 // WriteBatch calls
	WriteErrors   uint64 // WriteBatch calls that returned an error or panicked
	SyncErrors    uint64 // Sync calls that returned an error or panicked
	Panics        uint64 // drain panics recovered
	OnErrorPanics uint64 // Config.OnError panics recovered
	Pending       uint64 // messages queued, in the batch being built, or in a WriteBatch call
}

// Sink is a fire-and-forget background sink: any number of goroutines push
// messages without blocking, and one consumer goroutine batches them into a
// Drain, by size or by interval, whichever comes first.
//
// A Flush that returns nil synchronizes after the WriteBatch (and Sync) calls
// that wrote the messages accepted before it.
//
// All methods are safe for concurrent use by any number of goroutines.
type Sink[T any] struct {
	ring   *ring.Ring[T]
	drain  Drain[T]
	cfg    Config
	closed atomic.Bool // intake stopped: by Close, Shutdown, or the consumer's end
	shut   atomic.Bool // Close or Shutdown was called

	dropped           atomic.Uint64
	unreported        atomic.Uint64 // messages in failed batches whose errors no Flush returned; added under mu
	written, failed   atomic.Uint64 // written: delivered + failed
	writes, writeErrs atomic.Uint64
	syncErrs, panics  atomic.Uint64
	onErrorPanics     atomic.Uint64

	mu       sync.Mutex
	flushes  []*flushReq // guarded by mu; waiting Flush calls
	finished bool        // guarded by mu; the consumer answered its last Flush
	hasFlush atomic.Bool // len(flushes) > 0, for the consumer's fast check
	room     park.Room   // Push calls waiting for space

	stop     chan struct{} // closed when intake stops
	abort    context.CancelCauseFunc
	ctx      context.Context // passed to drain calls; cancelled when Shutdown gives up
	done     chan struct{}   // closed when the consumer has exited
	closeErr error           // the shutdown's outcome; written by the consumer before done
}

// A flushReq is answered by the consumer or abandoned by its Flush (ctx
// ended), whichever CASes state first: an abandoned request never takes the
// errors that the next Flush must return.
type flushReq struct {
	target uint64 // Pushed() when Flush was called
	state  atomic.Uint32
	reply  chan error // one slot: the answer never blocks the consumer
}

const (
	reqWaiting uint32 = iota
	reqAnswered
	reqAbandoned
)

// answer delivers err unless the Flush gave up; it reports whether the
// caller will see err.
func (r *flushReq) answer(err error) bool {
	if !r.state.CompareAndSwap(reqWaiting, reqAnswered) {
		return false
	}
	r.reply <- err
	return true
}

// New starts the consumer goroutine and returns the sink. Call Close to stop
// it. A nil Drain (or a nil DrainFunc) is a programmer error: New panics,
// on the caller's goroutine, as it does for a QueueCapacity above the
// largest ring; every allocation the sink needs is made here, so no
// setting can make the consumer goroutine fail later.
func New[T any](d Drain[T], cfg Config) *Sink[T] {
	if f, ok := d.(DrainFunc[T]); d == nil || ok && f == nil {
		panic("sink: New with a nil Drain")
	}
	if cfg.QueueCapacity <= 0 {
		cfg.QueueCapacity = 10_000
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 256
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 100 * time.Millisecond
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = 5 * time.Second
	}
	r := ring.New[T](cfg.QueueCapacity)
	cfg.BatchSize = min(cfg.BatchSize, r.Cap())
	ctx, cancel := context.WithCancelCause(context.Background())
	if cfg.Wait == (wait.Policy{}) {
		cfg.Wait = defaultWait
	}
	r.SetWait(cfg.Wait) // before the consumer starts
	s := &Sink[T]{
		ring:  r,
		drain: d,
		cfg:   cfg,
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		ctx:   ctx,
		abort: cancel,
	}
	go s.run(make([]T, 0, cfg.BatchSize))
	return s
}

// TryPush queues v without blocking and without allocating. It returns
// ErrOverflow when the queue is full (counted in Stats.Dropped; every 8th
// drop yields the processor so the consumer can catch up), and ErrClosed
// after Close or Shutdown. A push that races Close either returns nil and
// is written (or counted in Close's LostError), or returns ErrClosed.
func (s *Sink[T]) TryPush(v T) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if !s.ring.TryPush(v) {
		if s.ring.Closed() {
			return ErrClosed
		}
		// The consumer is behind: yield now and then so that, with more busy
		// goroutines than cores, it gets a processor (docs/design.md,
		// "Overload"); every 8th drop yields, the others stay cheap.
		if s.dropped.Add(1)%8 == 0 {
			runtime.Gosched()
		}
		return ErrOverflow
	}
	return nil
}

// Push queues v, waiting for room while the queue is full. It parks until
// the consumer frees space, Close begins, or ctx is done; it does not spin.
// Waiting Push calls take turns: once one
// has waited a millisecond, later Push calls wait behind it even if there
// is room (each waiting call holds the others back 10 ms at most), so that
// running producers cannot starve it (a call whose ctx is already done
// then returns ctx.Err()). TryPush does not wait, and does not take turns.
func (s *Sink[T]) Push(ctx context.Context, v T) error {
	if s.closed.Load() {
		return ErrClosed
	}
	// A push that waited a millisecond or more goes first (park.Room,
	// "Fairness"): until it is through, this one queues behind it.
	if s.room.Open() && s.ring.TryPush(v) {
		return nil
	}
	return s.pushWait(ctx, v)
}

// pushWait is Push's slow path: wait for room, in turn.
func (s *Sink[T]) pushWait(ctx context.Context, v T) error {
	check := func() error {
		if s.closed.Load() || s.ring.Closed() {
			return ErrClosed
		}
		return nil
	}
	return s.room.Block(ctx, s.stop, check, s.closed.Load, func() bool { return s.ring.TryPush(v) })
}

// Flush waits until every message accepted before the call has been written
// by the drain (and synced, if the drain is a Syncer), and returns the
// drain's errors since the previous Flush that returned them (joined, at
// most 16, then a count of the rest), so a failing drain is not hidden. It
// returns an error wrapping ctx.Err() if ctx ends first; that Flush gives up
// its place, and its errors go to the next Flush. After Close it returns
// ErrClosed. A Flush with nothing to write returns at once.
func (s *Sink[T]) Flush(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	req := &flushReq{target: s.ring.Pushed(), reply: make(chan error, 1)}
	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return ErrClosed
	}
	s.flushes = append(s.flushes, req)
	s.hasFlush.Store(true)
	s.mu.Unlock()
	s.ring.Wake()
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
	}
	if !req.state.CompareAndSwap(reqWaiting, reqAbandoned) {
		return <-req.reply // answered as ctx ended: the answer carries the errors
	}
	// Withdraw the request, so abandoned ones do not pile up while the drain
	// is stuck (if the consumer took it already, it sees it abandoned).
	s.mu.Lock()
	if i := slices.Index(s.flushes, req); i >= 0 {
		s.flushes = slices.Delete(s.flushes, i, i+1)
		s.hasFlush.Store(len(s.flushes) > 0)
	}
	s.mu.Unlock()
	return fmt.Errorf("sink: flush: %d messages not yet written: %w", s.Stats().Pending, ctx.Err())
}

// Close shuts the sink down as Shutdown does, bounded by
// Config.CloseTimeout.
func (s *Sink[T]) Close() error {
	if s.shut.Swap(true) {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CloseTimeout)
	defer cancel()
	return s.shutdown(ctx)
}

// Shutdown stops intake (TryPush, Push and Flush return ErrClosed from
// now on), lets the consumer write everything queued in final batches,
// syncs and closes the drain, and waits for the consumer goroutine, until
// ctx ends. It returns nil when every accepted message was delivered and
// the drain reported no error that a Flush did not return.
//
// Messages not delivered are returned as a *LostError counting them,
// which wraps the cause: ctx.Err() when ctx ended first, the drain's
// errors. When ctx ends, Shutdown returns at once whatever the drain does:
// the drain's context is cancelled and no further batch is handed to it;
// if the drain is inside a call that ignores its context, the error wraps
// ErrStuck too, and the consumer goroutine exits (Done) when that call
// returns. Errors of Sync or of the drain's Close alone are returned as
// they are.
//
// Only the first call of Close or Shutdown shuts the sink down; every later
// call returns ErrClosed at once.
func (s *Sink[T]) Shutdown(ctx context.Context) error {
	if s.shut.Swap(true) {
		return ErrClosed
	}
	return s.shutdown(ctx)
}

func (s *Sink[T]) shutdown(ctx context.Context) error {
	if !s.closed.Swap(true) {
		close(s.stop)
		s.ring.Wake()
	}
	select {
	case <-s.done:
		return s.closeErr
	case <-ctx.Done():
	}
	s.abort(ctx.Err())
	select {
	case <-s.done: // the drain honoured its context
		return s.closeErr
	default:
	}
	s.mu.Lock()
	lost := &LostError{Unwritten: s.Stats().Pending, Failed: s.unreported.Load(), Err: errors.Join(ErrStuck, ctx.Err())}
	s.mu.Unlock()
	return lost
}

// Done returns a channel that is closed when the consumer goroutine has
// exited after Close or Shutdown: every drain call has returned. Use it
// after an error that wraps ErrStuck.
func (s *Sink[T]) Done() <-chan struct{} { return s.done }

// Stats returns the sink's counters. Safe from any goroutine.
func (s *Sink[T]) Stats() Stats {
	failed := s.failed.Load()   // before written: failed <= written below
	written := s.written.Load() // before Pushed, so Pending never underflows
	pushed := s.ring.Pushed()
	return Stats{
		Pushed: pushed, Dropped: s.dropped.Load(),
		Delivered: written - min(failed, written), Failed: failed,
		Writes: s.writes.Load(), WriteErrors: s.writeErrs.Load(),
		SyncErrors: s.syncErrs.Load(), Panics: s.panics.Load(),
		OnErrorPanics: s.onErrorPanics.Load(),
		Pending:       pushed - written,
	}
}

// consumer state, owned by the run goroutine.
type consumer[T any] struct {
	s     *Sink[T]
	batch []T
	errs  []error // drain errors no Flush has returned yet (at most keepErrs)
	more  int     // errors beyond keepErrs, counted only
	dirty bool    // written since the last Sync
	timer *time.Timer
	armed bool
}

// run is the consumer goroutine; batch is its buffer, which New allocated.
func (s *Sink[T]) run(batch []T) {
	defer close(s.done)
	c := &consumer[T]{s: s, batch: batch, timer: time.NewTimer(time.Hour)}
	c.timer.Stop()
	normal := false // set only where run returns: otherwise a drain method or OnError called runtime.Goexit
	defer func() {
		if !normal {
			c.abandon()
		}
	}()
	for {
		if s.closed.Load() {
			c.shutdown()
			normal = true
			return
		}
		c.fill()
		if len(c.batch) == cap(c.batch) {
			c.write()
			continue
		}
		if s.hasFlush.Load() {
			c.serveFlushes()
			continue // Close may have begun meanwhile
		}
		if len(c.batch) > 0 && !c.armed {
			c.timer.Reset(s.cfg.FlushInterval)
			c.armed = true
		}
		var timerC <-chan time.Time
		if c.armed {
			timerC = c.timer.C
		}
		if s.ring.Ready() {
			continue
		}
		if s.ring.WaitChan(s.stop, timerC) == park.Timeout {
			c.armed = false
			c.write()
		}
	}
}

// fill moves ready messages into the batch, up to BatchSize, and wakes
// blocked Push calls when it freed room.
func (c *consumer[T]) fill() {
	b := c.batch
	n := c.s.ring.TryPopBatch(b[len(b):cap(b)])
	c.batch = b[:len(b)+n]
	if n > 0 {
		c.s.room.Freed()
	}
}

// write hands the batch to the drain, unless Close has given up: then
// nothing more goes to the drain, and the batch stays counted as Pending.
func (c *consumer[T]) write() {
	if c.armed {
		c.timer.Stop()
		c.armed = false
	}
	if len(c.batch) == 0 || c.s.ctx.Err() != nil {
		return
	}
	s := c.s
	n := uint64(len(c.batch))
	s.writes.Add(1)
	err := c.call(func() error { return s.drain.WriteBatch(s.ctx, c.batch) })
	if err != nil {
		s.writeErrs.Add(1)
		c.report(fmt.Errorf("sink: write batch of %d: %w", n, err))
	}
	var zero T
	for i := range c.batch {
		c.batch[i] = zero // keep nothing alive
	}
	c.batch = c.batch[:0]
	c.dirty = true
	// Publish progress to Flush and Stats: written before failed, because
	// Stats loads failed before written and relies on failed <= written (a
	// Stats between the two, after a Close that gave up, read failed ahead
	// of written and counted the batch twice).
	s.mu.Lock() // a Shutdown that gives up reads written and unreported together
	s.written.Add(n)
	if err != nil {
		s.failed.Add(n)
		s.unreported.Add(n)
	}
	s.mu.Unlock()
}

// serveFlushes writes until every pending Flush target is reached, syncs, and
// answers them with the errors collected since the last answered Flush.
func (c *consumer[T]) serveFlushes() {
	s := c.s
	s.mu.Lock()
	reqs := s.flushes
	s.flushes = nil
	s.hasFlush.Store(false)
	s.mu.Unlock()
	var target uint64
	for _, r := range reqs {
		target = max(target, r.target)
	}
	for s.ctx.Err() == nil && s.written.Load()+uint64(len(c.batch)) < target {
		// A push counted in target may still be publishing: wait for it.
		if !s.ring.Ready() && s.ring.WaitChan(s.ctx.Done(), nil) == park.Done {
			break
		}
		c.fill()
		if len(c.batch) == cap(c.batch) {
			c.write()
		}
	}
	c.write()
	c.sync()
	c.answer(reqs)
}

// answer replies to reqs with the pending errors, and forgets them only if
// some Flush will actually see them.
func (c *consumer[T]) answer(reqs []*flushReq) {
	err := c.joinErrs()
	seen := false
	for _, r := range reqs {
		seen = r.answer(err) || seen
	}
	if seen || err == nil {
		c.takeErrs()
	} else {
		c.errs, c.more = append(c.errs[:0], err), 0 // nobody saw it: keep it for the next one
	}
}

// joinErrs returns the pending errors joined, with a count of those beyond
// keepErrs.
func (c *consumer[T]) joinErrs() error {
	errs := c.errs
	if c.more > 0 {
		errs = append(errs, fmt.Errorf("sink: %d more drain errors not shown (see Stats)", c.more))
	}
	return errors.Join(errs...)
}

// takeErrs returns the pending errors joined and the messages in the failed
// batches among them, and clears both.
func (c *consumer[T]) takeErrs() (failed uint64, err error) {
	err = c.joinErrs()
	c.errs, c.more = c.errs[:0], 0
	c.s.mu.Lock()
	failed = c.s.unreported.Swap(0)
	c.s.mu.Unlock()
	return failed, err
}

func (c *consumer[T]) sync() {
	sy, ok := c.s.drain.(Syncer)
	if !ok || !c.dirty {
		return
	}
	c.dirty = false
	if err := c.call(func() error { return sy.Sync(c.s.ctx) }); err != nil {
		c.s.syncErrs.Add(1)
		c.report(fmt.Errorf("sink: sync: %w", err))
	}
}

// shutdown closes the queue, writes everything in it, syncs, answers
// waiting Flush calls, closes the drain and sets the shutdown's outcome. It
// stops handing batches to the drain as soon as Shutdown gives up (s.ctx
// cancelled).
func (c *consumer[T]) shutdown() {
	s := c.s
	// From here no push can be accepted, so an empty ring is the end: every
	// push that returned nil is in it (ring.Ring.Close).
	s.ring.Close()
	for s.ctx.Err() == nil && (s.ring.Len() > 0 || len(c.batch) > 0) {
		c.fill()
		if len(c.batch) == cap(c.batch) || !s.ring.Ready() {
			c.write()
		}
		if s.ring.Len() > 0 && !s.ring.Ready() {
			runtime.Gosched() // a producer is between its claim and its publish
		}
	}
	if s.ctx.Err() == nil {
		c.write()
		c.sync()
	}
	// Flush calls that raced Close: their messages are written unless Close
	// gave up.
	s.mu.Lock()
	reqs := s.flushes
	s.flushes, s.finished = nil, true
	s.mu.Unlock()
	if s.ctx.Err() != nil {
		for _, r := range reqs {
			r.answer(ErrClosed)
		}
	} else {
		c.answer(reqs)
	}
	if cl, ok := s.drain.(Closer); ok {
		if err := c.call(func() error { return cl.Close(s.ctx) }); err != nil {
			c.report(fmt.Errorf("sink: close drain: %w", err))
		}
	}
	failed, err := c.takeErrs()
	var unwritten uint64
	if s.ctx.Err() != nil {
		unwritten = s.Stats().Pending
		err = errors.Join(err, context.Cause(s.ctx))
	}
	if unwritten+failed > 0 {
		err = &LostError{Unwritten: unwritten, Failed: failed, Err: err}
	}
	s.closeErr = err
}

// abandon ends a consumer goroutine that is exiting other than by
// returning: a drain method or Config.OnError called runtime.Goexit
// (t.FailNow does), which no recover stops. Nobody would drain the queue
// any more, so the sink closes itself: every call returns ErrClosed from
// now on, waiting Flush and Push calls are answered, and Close returns a
// LostError wrapping ErrDrainPanic that counts the messages not
// delivered (Stats.Panics counts it). The drain is not called again, not
// even its Close.
func (c *consumer[T]) abandon() {
	s := c.s
	s.panics.Add(1)
	if !s.closed.Swap(true) {
		close(s.stop)
	}
	s.ring.Close()
	s.mu.Lock()
	reqs := s.flushes
	s.flushes, s.finished = nil, true
	s.mu.Unlock()
	for _, r := range reqs {
		r.answer(ErrClosed)
	}
	failed, err := c.takeErrs()
	s.closeErr = &LostError{Unwritten: s.Stats().Pending, Failed: failed, Err: errors.Join(err,
		fmt.Errorf("%w: a drain method or Config.OnError called runtime.Goexit, which ended the consumer goroutine: the sink is closed", ErrDrainPanic))}
}

// call runs a drain method, turning a panic into an error.
func (c *consumer[T]) call(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			c.s.panics.Add(1)
			err = fmt.Errorf("%w: %v", ErrDrainPanic, v)
		}
	}()
	return f()
}

// report records a drain error for the next Flush or Close and hands it to
// OnError.
func (c *consumer[T]) report(err error) {
	c.keep(err)
	if c.s.cfg.OnError != nil {
		c.onError(err)
	}
}

// keep holds err for the next Flush or Close, or counts it past keepErrs.
func (c *consumer[T]) keep(err error) {
	if len(c.errs) < keepErrs {
		c.errs = append(c.errs, err)
	} else {
		c.more++
	}
}

// onError calls Config.OnError, turning a panic into a counted error.
func (c *consumer[T]) onError(err error) {
	defer func() {
		if v := recover(); v != nil {
			c.s.onErrorPanics.Add(1)
			c.keep(fmt.Errorf("%w: %v (while reporting: %v)", ErrCallbackPanic, v, err))
		}
	}()
	c.s.cfg.OnError(err)
}
