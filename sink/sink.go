package sink

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringsink/ringsink/internal/park"
	"github.com/ringsink/ringsink/mpsc"
)

// Sentinel errors. Errors returned by Flush and Close wrap them or the
// drain's own errors.
var (
	// ErrOverflow is returned by TryPush when the queue is full (Drop mode;
	// the message is counted as dropped) and always in Block mode.
	ErrOverflow = errors.New("sink: queue full")
	// ErrClosed is returned by every call after Close has begun.
	ErrClosed = errors.New("sink: closed")
	// ErrDrainPanic wraps a panic recovered from a drain method.
	ErrDrainPanic = errors.New("sink: drain panicked")
)

// Drain writes batches on the sink's consumer goroutine; its methods are
// never called concurrently. The batch slice is reused after WriteBatch
// returns: a drain that keeps values must copy them. An error is counted,
// reported through Config.OnError and returned by the next Flush; the sink
// goes on with the next batch (it does not retry).
type Drain[T any] interface {
	WriteBatch(ctx context.Context, batch []T) error
}

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

// Overflow says what TryPush does when the queue is full.
type Overflow uint8

const (
	// Drop makes TryPush return ErrOverflow at once and count the message as
	// dropped. The default, for hot paths.
	Drop Overflow = iota
	// Block refuses every TryPush with ErrOverflow (counted as Rejected),
	// so the policy is explicit at the call site: use Push, which waits.
	Block
)

// Config configures a Sink. Zero fields take their defaults.
type Config struct {
	// QueueCapacity is the most messages queued; defaults to 10 000 when
	// zero (rounded up to a power of two: 16384).
	QueueCapacity int
	// BatchSize is the most messages per WriteBatch; defaults to 256.
	BatchSize int
	// FlushInterval bounds how long a partial batch waits for more messages;
	// defaults to 100 ms. No timer runs while there is nothing to write.
	FlushInterval time.Duration
	// Overflow is the TryPush policy; defaults to Drop.
	Overflow Overflow
	// OnError, if set, is called on the consumer goroutine with every error
	// from the drain (write, sync, close, recovered panic). It must not block
	// for long: the consumer waits for it.
	OnError func(error)
}

// Stats are plain counters, cheap to read from any goroutine. At any
// quiescent moment Pushed == Written + Pending, and every message offered to
// TryPush or Push was either Pushed or counted in Dropped or Rejected (or
// got ErrClosed).
type Stats struct {
	Pushed      uint64 // messages accepted into the queue
	Dropped     uint64 // TryPush refusals because the queue was full (Drop mode)
	Rejected    uint64 // TryPush refusals in Block mode
	Written     uint64 // messages handed to WriteBatch (successfully or not)
	Failed      uint64 // of Written, messages in batches whose WriteBatch failed
	Writes      uint64 // WriteBatch calls
	WriteErrors uint64 // WriteBatch calls that returned an error or panicked
	SyncErrors  uint64 // Sync calls that returned an error or panicked
	Panics      uint64 // drain panics recovered
	Pending     uint64 // messages queued or in the batch being built
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
	ring   *mpsc.Ring[T]
	drain  Drain[T]
	cfg    Config
	closed atomic.Bool

	dropped, rejected atomic.Uint64
	written, failed   atomic.Uint64
	writes, writeErrs atomic.Uint64
	syncErrs, panics  atomic.Uint64

	mu       sync.Mutex
	flushes  []flushReq  // guarded by mu; waiting Flush calls
	finished bool        // guarded by mu; the consumer answered its last Flush
	hasFlush atomic.Bool // len(flushes) > 0, for the consumer's fast check
	room     park.Room   // Push calls waiting for space

	stop     chan struct{} // closed by the first Close
	abort    context.CancelFunc
	ctx      context.Context // passed to drain calls; cancelled when Close gives up
	done     chan struct{}   // closed when the consumer has exited
	closeErr error           // the drain's Close error; read after done
}

type flushReq struct {
	target uint64 // Pushed() when Flush was called
	reply  chan error
}

// New starts the consumer goroutine and returns the sink. Call Close to stop
// it.
func New[T any](d Drain[T], cfg Config) *Sink[T] {
	if cfg.QueueCapacity <= 0 {
		cfg.QueueCapacity = 10_000
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 256
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 100 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sink[T]{
		ring:  mpsc.New[T](cfg.QueueCapacity),
		drain: d,
		cfg:   cfg,
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		ctx:   ctx,
		abort: cancel,
	}
	go s.run()
	return s
}

// TryPush queues v without blocking and without allocating. It returns
// ErrOverflow when the queue is full (counted in Stats.Dropped, after
// yielding the processor once so the consumer can catch up) and always in
// Block mode (counted in Stats.Rejected), and ErrClosed after Close. A push
// that races Close may be accepted and then find the consumer gone; it is
// then counted in Stats.Pending, never lost silently.
func (s *Sink[T]) TryPush(v T) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if s.cfg.Overflow == Block {
		s.rejected.Add(1)
		return ErrOverflow
	}
	if !s.ring.TryPush(v) {
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
// It works in both Overflow modes.
func (s *Sink[T]) Push(ctx context.Context, v T) error {
	for {
		if s.closed.Load() {
			return ErrClosed
		}
		if s.ring.TryPush(v) {
			return nil
		}
		ch := s.room.Register()
		// Retry after registering: room freed before the registration was
		// seen by the consumer would otherwise go unnoticed.
		if !s.closed.Load() && s.ring.TryPush(v) {
			s.room.Unregister()
			return nil
		}
		if err := s.room.Wait(ctx, ch, s.stop); err != nil {
			return err
		}
	}
}

// Flush waits until every message accepted before the call has been written
// by the drain (and synced, if the drain is a Syncer), and returns the
// drain's errors since the previous Flush (joined), so a failing drain is
// not hidden. It returns ctx.Err() if ctx ends first, and ErrClosed after
// Close. A Flush with nothing to write returns at once.
func (s *Sink[T]) Flush(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	req := flushReq{target: s.ring.Pushed(), reply: make(chan error, 1)}
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
		return ctx.Err()
	}
}

// Close stops intake (later calls get ErrClosed), lets the consumer write
// everything queued in final batches, syncs and closes the drain, and waits
// for the consumer goroutine. ctx bounds the wait: when it ends first, the
// drain's context is cancelled and Close returns an error that wraps
// ctx.Err() and says how many messages were left. Close is idempotent; later
// calls wait again and return the same outcome.
func (s *Sink[T]) Close(ctx context.Context) error {
	if !s.closed.Swap(true) {
		close(s.stop)
		s.ring.Wake()
	}
	select {
	case <-s.done:
		if s.closeErr != nil {
			return fmt.Errorf("sink: close drain: %w", s.closeErr)
		}
		return nil
	case <-ctx.Done():
		s.abort()
		<-s.done
		return fmt.Errorf("sink: close: %d messages left unwritten: %w", s.Stats().Pending, ctx.Err())
	}
}

// Stats returns the sink's counters. Safe from any goroutine.
func (s *Sink[T]) Stats() Stats {
	written := s.written.Load() // before Pushed, so Pending never underflows
	pushed := s.ring.Pushed()
	return Stats{
		Pushed: pushed, Dropped: s.dropped.Load(), Rejected: s.rejected.Load(),
		Written: written, Failed: s.failed.Load(),
		Writes: s.writes.Load(), WriteErrors: s.writeErrs.Load(),
		SyncErrors: s.syncErrs.Load(), Panics: s.panics.Load(),
		Pending: pushed - written,
	}
}

// consumer state, owned by the run goroutine.
type consumer[T any] struct {
	s     *Sink[T]
	batch []T
	errs  []error // drain errors since the last completed Flush
	dirty bool    // written since the last Sync
	timer *time.Timer
	armed bool
}

func (s *Sink[T]) run() {
	defer close(s.done)
	c := &consumer[T]{s: s, batch: make([]T, 0, s.cfg.BatchSize), timer: time.NewTimer(time.Hour)}
	c.timer.Stop()
	for {
		c.fill()
		if len(c.batch) == cap(c.batch) {
			c.write()
			continue
		}
		if s.hasFlush.Load() {
			c.serveFlushes()
		}
		if s.closed.Load() {
			c.shutdown()
			return
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

// write hands the batch to the drain.
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
	s.writes.Add(1)
	err := c.call(func() error { return s.drain.WriteBatch(s.ctx, c.batch) })
	if err != nil {
		s.writeErrs.Add(1)
		s.failed.Add(n)
		c.report(fmt.Errorf("sink: write batch of %d: %w", n, err))
	}
	var zero T
	for i := range c.batch {
		c.batch[i] = zero // keep nothing alive
	}
	c.batch = c.batch[:0]
	c.dirty = true
	// Publish progress to Flush and Stats.
	s.written.Add(n)
}

// serveFlushes writes until every pending Flush target is reached, syncs, and
// answers them with the errors collected since the last Flush.
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
	for s.written.Load()+uint64(len(c.batch)) < target {
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
	err := errors.Join(c.errs...)
	c.errs = c.errs[:0]
	for _, r := range reqs {
		r.reply <- err
	}
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

// shutdown writes everything still queued, syncs, answers waiting Flush
// calls, and closes the drain. It stops early only when Close gives up.
func (c *consumer[T]) shutdown() {
	s := c.s
	for s.ctx.Err() == nil && (s.ring.Len() > 0 || len(c.batch) > 0) {
		c.fill()
		if len(c.batch) == cap(c.batch) || !s.ring.Ready() {
			c.write()
		}
		if s.ring.Len() > 0 && !s.ring.Ready() {
			runtime.Gosched() // a producer is between its claim and its publish
		}
	}
	c.write()
	c.sync()
	// Flush calls that raced Close: their messages are written unless Close
	// gave up.
	err := errors.Join(c.errs...)
	if s.ctx.Err() != nil {
		err = ErrClosed
	}
	s.mu.Lock()
	s.finished = true
	for _, r := range s.flushes {
		r.reply <- err
	}
	s.flushes = nil
	s.mu.Unlock()
	if cl, ok := s.drain.(Closer); ok {
		if err := c.call(func() error { return cl.Close(s.ctx) }); err != nil {
			s.closeErr = err
			c.report(fmt.Errorf("sink: close drain: %w", err))
		}
	}
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

func (c *consumer[T]) report(err error) {
	const keep = 16 // errors kept for the next Flush; the rest are counted
	if len(c.errs) < keep {
		c.errs = append(c.errs, err)
	}
	if c.s.cfg.OnError != nil {
		c.s.cfg.OnError(err)
	}
}
