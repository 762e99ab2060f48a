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
	"github.com/ringsink/ringsink/internal/pow2"
	"github.com/ringsink/ringsink/internal/ring"
	"github.com/ringsink/ringsink/wait"
)

// Sentinel errors. Errors returned by Flush, Close and Shutdown wrap them
// or the drain's own errors.
var (
	// ErrOverflow is returned by TryPush when the queue is full; the
	// message is counted in Stats.Dropped.
	ErrOverflow = errors.New("sink: queue full")
	// ErrClosed is returned by TryPush, Push and Flush once Close or
	// Shutdown has begun (or the consumer goroutine has ended; see
	// ErrDrainPanic). Close and Shutdown themselves return the shutdown's
	// result, however often they are called.
	ErrClosed = errors.New("sink: closed")
	// ErrDrainPanic wraps a panic recovered from a drain method. The error
	// of Close or Shutdown wraps it when a drain method or Config.OnError
	// called runtime.Goexit, which ends the consumer goroutine (no recover
	// stops it): the sink then closes itself.
	ErrDrainPanic = errors.New("sink: drain panicked")
	// ErrCallbackPanic wraps a panic recovered from Config.OnError.
	ErrCallbackPanic = errors.New("sink: OnError panicked")
	// ErrStuck is wrapped by the error of Close or Shutdown when the
	// consumer goroutine had not finished a short grace (100 ms) after the shutdown's bound ended and the drain's context was
	// cancelled: a drain method (or Config.OnError) ignores its context.
	// The consumer goroutine finishes when that call returns (Done).
	ErrStuck = errors.New("sink: drain did not return by the deadline")
)

// stuckGrace is how long a shutdown whose bound has ended waits for the
// consumer goroutine after cancelling the drain's context, before it calls
// the drain stuck: a drain that honours its context returns within it.
const stuckGrace = 100 * time.Millisecond

// LostError is returned by Close and Shutdown when messages the sink
// accepted are not known to be delivered. Err is the cause: the context's
// error, ErrStuck, ErrDrainPanic and the drain's errors that no Flush
// returned, joined; errors.Is and errors.As see through it.
//
// The counts are exact and add up with Stats. When the shutdown ends the
// queue is closed (Pushed no longer grows) and, with st := s.Stats() read
// then, st.Pending == Unwritten + InFlight, so
//
//	st.Pushed == Unwritten + InFlight + st.Delivered + st.Failed
//
// until the WriteBatch call holding the InFlight messages returns; they
// then move into Delivered or Failed. With st read once Done is closed,
// st.Pending == Unwritten and
//
//	st.Pushed == Unwritten + st.Delivered + st.Failed
//
// LostError.Failed counts the messages of failed batches whose errors no
// Flush returned (Flush returned the others, and the in-flight call's are
// not in it), so it is at most Stats().Failed, and equal when no Flush
// returned an error and no in-flight call failed.
type LostError struct {
	Unwritten uint64 // messages accepted and never handed to the drain
	InFlight  uint64 // messages in a WriteBatch call that had not returned when the shutdown gave up: they may still be written
	Failed    uint64 // messages in failed batches whose errors no Flush returned
	Err       error  // the cause
}

// Error says how many messages were lost, how many may still be written,
// and why.
func (e *LostError) Error() string {
	inFlight := ""
	if e.InFlight > 0 {
		inFlight = fmt.Sprintf(", %d more in a WriteBatch call that had not returned", e.InFlight)
	}
	return fmt.Sprintf("sink: %d messages lost (%d not written, %d failed)%s: %v",
		e.Unwritten+e.Failed, e.Unwritten, e.Failed, inFlight, e.Err)
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
//
// A drain method must not call Flush, Close or Shutdown on its own sink:
// those wait for the consumer goroutine, which is the one calling the
// drain. Close called there returns once Config.CloseTimeout and the grace
// have passed, with an error wrapping ErrStuck, and the shutdown it began
// goes on when the drain method returns; Shutdown waits until its context
// ends (for ever with context.Background()). To stop the sink from a
// drain, call Close on another goroutine.
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
	// queue is a quarter to half full (package wait), and a message may wait up to the linger, rounded
	// up to the platform's timer resolution, before the consumer takes it
	// into a batch. Flush, Close and Shutdown wake the consumer at once.
	// wait.Park() wakes it at every push that finds it parked, as a channel
	// does; wait.Spin() keeps a core busy.
	Wait wait.Policy
	// OnError, if set, is called on the consumer goroutine with every error
	// from the drain (write, sync, close, recovered panic), once each, as it
	// happens. It must not block for long: the consumer waits for it. A
	// panic in it is recovered and counted (Stats.OnErrorPanics). Like a
	// drain method, it must not call Flush, Close or Shutdown on its own
	// sink (see Drain).
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

	dropped           atomic.Uint64
	unreported        atomic.Uint64 // messages in failed batches whose errors no Flush returned; added under mu
	written, failed   atomic.Uint64 // written: delivered + failed
	writes, writeErrs atomic.Uint64
	syncErrs, panics  atomic.Uint64
	onErrorPanics     atomic.Uint64

	// mu guards the fields below it. The consumer writes them, and a
	// shutdown that gives up on a stuck drain reads them together: the
	// counts and the errors that explain them.
	mu       sync.Mutex
	flushes  []*flushReq // waiting Flush calls
	finished bool        // the consumer answered its last Flush
	inFlight uint64      // messages in the WriteBatch call running, 0 between calls
	errs     []error     // drain errors no Flush has returned yet (at most keepErrs); consumer writes
	more     int         // errors beyond keepErrs, counted only
	hasFlush atomic.Bool // len(flushes) > 0, for the consumer's fast check
	room     park.Room   // Push calls waiting for space

	stop     chan struct{} // closed when intake stops
	abort    context.CancelCauseFunc
	ctx      context.Context // passed to drain calls; cancelled when the shutdown's bound ends
	done     chan struct{}   // closed when the consumer has exited
	closeErr error           // the consumer's outcome; written by the consumer before done

	settleOnce sync.Once
	ended      chan struct{} // closed when result is set
	result     error         // what every Close and Shutdown returns; written once, before ended
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
	if cfg.QueueCapacity > pow2.Max { // the ring's panic would name another package
		panic(fmt.Sprintf("sink: QueueCapacity %d is above the maximum %d", cfg.QueueCapacity, pow2.Max))
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
		ended: make(chan struct{}),
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
// is written (or counted in the shutdown's LostError), or returns
// ErrClosed.
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
// ErrClosed, as does a Flush still waiting when a shutdown gives up on a
// stuck drain. A Flush with nothing to write returns at once.
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
	case <-s.ended: // the shutdown gave up: the consumer may never answer
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
	if ctx.Err() == nil {
		return ErrClosed
	}
	return fmt.Errorf("sink: flush: %d messages not yet written: %w", s.Stats().Pending, ctx.Err())
}

// Close is Shutdown bounded by Config.CloseTimeout: it returns within
// CloseTimeout, plus a short grace (100 ms) when the drain is inside a
// call that ignores its context (the error then wraps ErrStuck and
// context.DeadlineExceeded). A Close during a Shutdown bounds that
// Shutdown too: see Shutdown.
func (s *Sink[T]) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CloseTimeout)
	defer cancel()
	return s.Shutdown(ctx)
}

// Shutdown stops intake (TryPush, Push and Flush return ErrClosed from
// now on), lets the consumer write everything queued in final batches,
// syncs and closes the drain, and waits for the consumer goroutine, until
// ctx ends. It returns nil when every accepted message was delivered and
// the drain reported no error that a Flush did not return.
//
// Messages not known to be delivered are returned as a *LostError
// counting them (its doc states how the counts add up with Stats), which
// wraps the cause: ctx.Err() when ctx ended first, the drain's errors.
// When ctx ends, the drain's context is cancelled and no further batch is
// handed to it (the drain's Sync and Close are still called, with that
// context); Shutdown returns as soon as the consumer goroutine has
// finished, and at most a short grace (100 ms) after ctx ended: if the
// drain is inside a call that ignores its context, the error wraps
// ErrStuck too, counts the messages in that call as LostError.InFlight,
// and the consumer goroutine exits (Done) when that call returns. Errors
// of Sync or of the drain's Close alone are returned as they are, and so
// is ErrStuck with nothing undelivered.
//
// Close and Shutdown may be called more than once and together, from any
// goroutines: the first starts the shutdown, the earliest bound among the
// calls in progress ends it (a Close during a Shutdown(context.Background())
// gives up after CloseTimeout), and every call, earlier or later, returns
// the same result.
func (s *Sink[T]) Shutdown(ctx context.Context) error {
	if !s.closed.Swap(true) {
		close(s.stop)
		s.ring.Wake()
	}
	select {
	case <-s.done: // the consumer has finished (or ended: see abandon)
	case <-s.ended: // another call settled the result
	case <-s.ctx.Done(): // another call's bound ended
		s.grace()
	case <-ctx.Done():
		// No batch is handed to the drain from here; a call in progress
		// that honours its context returns now.
		s.abort(ctx.Err())
		s.grace()
	}
	s.settle()
	return s.result
}

// grace waits a short while for the consumer goroutine to finish after the
// drain's context was cancelled.
func (s *Sink[T]) grace() {
	t := time.NewTimer(stuckGrace)
	defer t.Stop()
	select {
	case <-s.done:
	case <-s.ended:
	case <-t.C:
	}
}

// settle sets the shutdown's result, once: the consumer's outcome if it
// has finished, otherwise what stuck counts.
func (s *Sink[T]) settle() {
	s.settleOnce.Do(func() {
		select {
		case <-s.done:
			s.result = s.closeErr
		default:
			s.result = s.stuck()
		}
		close(s.ended)
	})
}

// stuck returns the result of a shutdown that gave up while the consumer
// goroutine was still running (inside a drain call that ignores its
// context, or OnError): it closes the queue, so that every push that
// returned nil is counted, and counts the messages not delivered. It is
// called after the drain's context was cancelled, so the consumer hands
// no further batch to the drain, and reads inFlight and the counters under
// mu, where the consumer checks that context before it hands one.
func (s *Sink[T]) stuck() error {
	s.ring.Close() // from here Pushed is final: a push reported true before Close returned is in it
	s.mu.Lock()
	pushed := s.ring.Pushed()
	written := s.written.Load()
	inFlight := s.inFlight
	failed := s.unreported.Load()
	drainErrs := joinErrs(s.errs, s.more)
	s.mu.Unlock()
	err := errors.Join(ErrStuck, context.Cause(s.ctx), drainErrs)
	unwritten := pushed - written - inFlight
	if unwritten+inFlight+failed == 0 {
		return err
	}
	return &LostError{Unwritten: unwritten, InFlight: inFlight, Failed: failed, Err: err}
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
	dirty bool // written since the last Sync
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

// write hands the batch to the drain, unless the shutdown has given up:
// then nothing more goes to the drain, and the batch stays counted as
// Pending (and in a LostError's Unwritten).
func (c *consumer[T]) write() {
	if c.armed {
		c.timer.Stop()
		c.armed = false
	}
	if len(c.batch) == 0 {
		return
	}
	s := c.s
	n := uint64(len(c.batch))
	// Check the drain's context and publish the batch as in flight in one
	// step under mu: a shutdown that gives up cancels the context before
	// it counts under mu, so it either sees this batch in flight or this
	// check sees the context cancelled (and the batch is never handed on).
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.inFlight = n
	s.mu.Unlock()
	s.writes.Add(1)
	err := c.call(func() error { return s.drain.WriteBatch(s.ctx, c.batch) })
	if err != nil {
		s.writeErrs.Add(1)
		err = fmt.Errorf("sink: write batch of %d: %w", n, err)
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
	// of written and counted the batch twice). Under mu, with the error
	// that explains the failed messages: a shutdown that gives up reads
	// them together.
	s.mu.Lock()
	s.written.Add(n)
	if err != nil {
		s.failed.Add(n)
		s.unreported.Add(n)
		c.keepLocked(err)
	}
	s.inFlight = 0
	s.mu.Unlock()
	if err != nil && s.cfg.OnError != nil {
		c.onError(err)
	}
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
	s := c.s
	err := joinErrs(s.errs, s.more) // only the consumer writes them: no lock to read
	seen := false
	for _, r := range reqs {
		seen = r.answer(err) || seen
	}
	if seen || err == nil {
		c.takeErrs()
	} else {
		s.mu.Lock()
		s.errs, s.more = append(s.errs[:0], err), 0 // nobody saw it: keep it for the next one
		s.mu.Unlock()
	}
}

// joinErrs returns errs joined, with a count of the more errors left out.
func joinErrs(errs []error, more int) error {
	if more > 0 {
		errs = append(slices.Clip(errs), fmt.Errorf("sink: %d more drain errors not shown (see Stats)", more))
	}
	return errors.Join(errs...)
}

// takeErrs returns the pending errors joined and the messages in the failed
// batches among them, and clears both.
func (c *consumer[T]) takeErrs() (failed uint64, err error) {
	s := c.s
	s.mu.Lock()
	err = joinErrs(s.errs, s.more)
	s.errs, s.more = s.errs[:0], 0
	failed = s.unreported.Swap(0)
	s.mu.Unlock()
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
// waiting Flush calls, closes the drain and sets the consumer's outcome.
// It stops handing batches to the drain as soon as the shutdown's bound
// ends (s.ctx cancelled); Sync and the drain's Close are still called,
// with that context.
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
	c.write() // nothing, once the bound has ended
	c.sync()
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
	// Every drain call has returned and the ring is closed: Pending is
	// exactly what was never handed to the drain. It is not zero only when
	// the bound ended, which is then the cause.
	unwritten := s.Stats().Pending
	if unwritten > 0 {
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
	c.s.mu.Lock()
	c.keepLocked(err)
	c.s.mu.Unlock()
}

// keepLocked is keep with c.s.mu held.
func (c *consumer[T]) keepLocked(err error) {
	s := c.s
	if len(s.errs) < keepErrs {
		s.errs = append(s.errs, err)
	} else {
		s.more++
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
