package uds

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"time"
)

// consumer is the state of the Writer's single consumer goroutine.
//
// Order on the wire, per connection: the drop notice (if any drops since the
// last one), then (with Config.AtLeastOnce) the records a failed connection
// may not have delivered, then the offline ring oldest first, then live
// records from the byte ring. Live records are released from the ring only after the kernel
// took them whole; while disconnected they are copied into the offline ring
// (drop-oldest), so the ring keeps accepting.
type consumer struct {
	w        *Writer
	conn     *conn
	torn     int      // bytes of the next record's frame already written on conn (a write that timed out part way)
	notice   []byte   // a drop notice not yet written whole
	nbatch   [][]byte // one slot, for the notice
	batch    [][]byte // live records, aliasing the byte ring
	obatch   [][]byte // offline records
	free     [][]byte // recycled offline buffers
	backoff  time.Duration
	retry    time.Time // next dial attempt while disconnected
	timer    *time.Timer
	noticed  Drops     // drop counts already reported by a notice
	synced   [2]uint32 // with SpillSync: the ring's written and released counts at the last msync
	syncAt   time.Time // with SpillSync: when the last msync was
	offBytes int       // payload bytes held in the offline ring
	foreign  int       // records at the head of the offline ring that the caller preloaded: their buffers are not ours to reuse
	cf       confirm   // records written on the connection that the daemon may not have consumed (confirm.go)
	resend   recQueue  // with AtLeastOnce: records a failed connection may not have delivered, sent first on the next
	rbatch   [][]byte  // resend records, aliasing resend
}

func (w *Writer) run(first *net.UnixConn) {
	c := &consumer{
		w:       w,
		nbatch:  make([][]byte, 1),
		batch:   make([][]byte, maxIov),
		obatch:  make([][]byte, maxIov),
		backoff: w.cfg.ReconnectMin,
		cf:      confirm{keep: w.cfg.AtLeastOnce},
		timer:   time.NewTimer(time.Hour),
	}
	c.timer.Stop()
	w.consumerID.Store(goid()) // before any callback: Close and Shutdown tell a call from one
	defer close(w.done)
	defer offlineInUse.Delete(w.off) // before done: a Writer opened after Close returned may take it
	normal := false                  // set only where run returns: otherwise a callback called runtime.Goexit
	defer func() {
		if !normal {
			c.abandon()
		}
	}()
	if w.checkLines() {
		c.dropBroken()
	}
	c.foreign = w.off.Len()
	held := make([][]byte, w.off.Len()) // records the caller preloaded
	for _, rec := range held[:w.off.Peek(held)] {
		c.offBytes += len(rec)
	}
	c.trimOffline()
	if first != nil {
		c.attach(first)
	}
	for {
		if w.closed.Load() {
			c.shutdown()
			normal = true
			return
		}
		if c.conn == nil && !time.Now().Before(c.retry) {
			c.connect(w.dialCtx)
		}
		progressed := false
		if c.conn != nil {
			progressed = c.send()
		} else {
			progressed = c.spill(true) > 0
		}
		if w.hasFlush.Load() || progressed {
			c.answerFlushes(false)
		}
		if w.spill != nil {
			c.sync(false)
		}
		if progressed {
			continue
		}
		var timerC <-chan time.Time
		wake := c.syncDue()
		if c.conn != nil {
			if t := c.confirmIdle(); !t.IsZero() && (wake.IsZero() || t.Before(wake)) {
				wake = t
			}
		}
		if c.conn == nil && (wake.IsZero() || c.retry.Before(wake)) {
			wake = c.retry
		}
		if !wake.IsZero() {
			c.timer.Reset(time.Until(wake))
			timerC = c.timer.C
		}
		if w.spill != nil && c.conn == nil {
			// The ring is the backlog: wait for a record to seal, not for
			// any record (there are some, waiting for the daemon).
			w.ring.WaitUnsealed(w.stop, timerC)
		} else {
			w.ring.WaitChan(w.stop, timerC)
		}
		c.timer.Stop()
	}
}

// dropBroken removes from the offline ring, at start, the records the
// caller preloaded that Newline framing cannot send as one line each (a
// '\n' before the end, a NUL): they never passed Write's check. Each is
// counted in DroppedUnsendable; the others keep their order.
func (c *consumer) dropBroken() {
	w := c.w
	for range w.off.Len() {
		v, _ := w.off.Pop()
		if lineBreak(v) != nil {
			w.droppedUnsendable.Add(1)
			continue
		}
		w.off.Push(v) // to the back, after the pop: no eviction, and the order holds
	}
}

// connect dials once and on failure schedules the next attempt with
// exponential backoff and jitter (uniform in [backoff/2, backoff]).
func (c *consumer) connect(ctx context.Context) {
	w := c.w
	ctx, cancel := context.WithTimeout(ctx, w.cfg.DialTimeout)
	defer cancel()
	uc, err := w.dial(ctx)
	if err != nil {
		w.dialErrs.Add(1)
		c.fail(fmt.Errorf("uds: dial %s: %w", w.cfg.Path, err))
		return
	}
	c.attach(uc)
}

// attach makes uc the connection.
func (c *consumer) attach(uc *net.UnixConn) {
	w := c.w
	conn, err := newConn(uc, w.cfg.Framing, w.cfg.WriteTimeout, w.cfg.SendBuffer)
	if err == nil && w.cfg.RequirePeerUID {
		if err = w.checkPeer(conn); err != nil {
			conn.Close()
		}
	}
	if err != nil {
		w.dialErrs.Add(1)
		c.fail(fmt.Errorf("uds: dial %s: %w", w.cfg.Path, err))
		return
	}
	c.conn = conn
	c.conn.limit = &w.closeBy
	c.conn.setFormat(w.cfg.Format, w.maxOver)
	c.conn.early = w.spill != nil
	w.setLimit(conn.maxMsg) // a message socket's limit for Write; none of its own on a stream
	w.live.Store(c.conn)
	w.connects.Add(1)
	w.connected.Store(true)
	w.lastErr.Store(nil) // connected: the last dial or write error is history
	c.backoff = w.cfg.ReconnectMin
	c.torn = 0
	c.cf.reset()
}

// fail records err and schedules the next dial.
func (c *consumer) fail(err error) {
	c.w.lastErr.Store(&err)
	jitter := time.Duration(rand.Int64N(int64(c.backoff)/2 + 1))
	c.retry = time.Now().Add(c.backoff/2 + jitter)
	c.backoff = min(c.backoff*2, c.w.cfg.ReconnectMax)
}

// disconnect closes a connection whose write failed. Whatever was not
// written whole stays queued (offline ring or byte ring), in order.
func (c *consumer) disconnect(err error) {
	c.lose()
	c.hangUp()
	c.w.writeErrs.Add(1)
	c.backoff = c.w.cfg.ReconnectMin // the daemon was there a moment ago
	c.fail(fmt.Errorf("uds: write %s: %w", c.w.cfg.Path, err))
}

// hangUp closes the connection. A record torn on it is sent whole on the
// next one (c.torn is reset at connect).
func (c *consumer) hangUp() {
	c.w.live.Store(nil)
	c.conn.Close()
	c.conn = nil
	c.w.connected.Store(false)
}

// writeRecords sends recs on the connection, continuing a record torn by a
// timed-out write, and accounts for it. It returns how many records are
// done with (to release or pop) and how many of those a message socket
// could not carry (the caller counts them: DroppedUnsendable, not Written).
func (c *consumer) writeRecords(recs [][]byte) (n int, over uint64, err error) {
	before, bytesBefore, overBefore, panicsBefore, slowBefore := c.conn.sends, c.conn.bytes, c.conn.unsendable, c.conn.panics, c.conn.slow
	if c.w.cfg.Format != nil {
		c.w.enter(callFormat) // the send itself is bounded by its deadline; the Format is not
	}
	n, err = c.conn.writeFrom(recs, c.torn)
	c.w.inCall.Store(0)
	if c.conn.slow != slowBefore {
		c.w.slow.Add(c.conn.slow - slowBefore)
	}
	c.w.sends.Add(c.conn.sends - before)
	c.w.writtenBytes.Add(c.conn.bytes - bytesBefore)
	if p := c.conn.panics - panicsBefore; p > 0 { // the Format panicked
		c.w.panics.Add(p)
		c.w.lastErr.Store(ptr(c.conn.panicked))
	}
	over = c.conn.unsendable - overBefore
	c.torn = 0
	if n < len(recs) { // an error, or an early return (conn.early) part way through a record
		c.torn = c.conn.off
	}
	return n, over, err
}

// settle handles the outcome of a write: a timeout keeps the connection
// (the daemon is slow or paused, not gone: see Config.WriteTimeout) and
// moves waiting records to the offline ring while it has room; any other
// error closes the connection.
func (c *consumer) settle(err error) {
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		if c.w.closed.Load() {
			return // shutdown decides, by its deadline
		}
		c.w.stalls.Add(1)
		c.w.lastErr.Store(ptr(fmt.Errorf("uds: write %s: the daemon is not reading: %w", c.w.cfg.Path, err)))
		c.spill(false)
	default:
		c.disconnect(err)
	}
}

func ptr[T any](v T) *T { return &v }

// failed reports whether a write's error closes the connection (a timeout
// does not).
func failed(err error) bool { return err != nil && !errors.Is(err, os.ErrDeadlineExceeded) }

func errDaemonClosed(path string) error {
	return fmt.Errorf("uds: %s: the daemon closed the connection", path)
}

// send makes one step of progress on a live connection: the drop notice,
// else a batch of the records to send again (AtLeastOnce), else a batch of
// the offline ring, else a batch of live records. It reports
// whether anything was sent or failed. A record torn by a timed-out write is
// always the first of the next batch: a notice is started only at a record
// boundary, and a torn live record moves to the offline ring only when
// that ring is empty (spill(false)).
func (c *consumer) send() bool {
	w := c.w
	if c.notice == nil && c.torn == 0 && w.cfg.DropNotice != nil {
		t := c.totals() // once: drops counted while DropNotice runs go in the next notice
		if d := t.since(c.noticed); d != (Drops{}) {
			c.notice = c.dropNotice(d)
			c.noticed = t
		}
	}
	if c.notice != nil {
		c.nbatch[0] = c.notice
		k, over, err := c.writeRecords(c.nbatch)
		c.track(0, failed(err))
		c.nbatch[0] = nil
		if k == 1 {
			// A notice the socket cannot carry is let go: it is not a
			// record anybody wrote, and counting it as a drop would only
			// make another notice.
			if over == 0 {
				w.notices.Add(1)
			}
			c.notice = nil
		}
		c.settle(err)
		return true
	}
	if c.resend.len() > 0 {
		if c.rbatch == nil {
			c.rbatch = make([][]byte, maxIov)
		}
		n := c.resend.peek(c.rbatch)
		k, over, err := c.writeRecords(c.rbatch[:n])
		c.keepSent(c.rbatch[:k])
		c.track(uint64(k)-over, failed(err))
		w.droppedUnsendable.Add(over)
		c.resend.drop(k)
		clear(c.rbatch[:n])
		w.written.Add(uint64(k) - over)
		c.storeBuffered()
		c.settle(err)
		return true
	}
	if w.off.Len() > 0 {
		n := w.off.Peek(c.obatch)
		k, over, err := c.writeRecords(c.obatch[:n])
		c.keepSent(c.obatch[:k])
		c.track(uint64(k)-over, failed(err))
		w.droppedUnsendable.Add(over)
		for range k {
			v, _ := w.off.Pop()
			c.offBytes -= len(v)
			c.recycle(v)
		}
		clear(c.obatch[:n])
		w.written.Add(uint64(k) - over)
		c.storeBuffered()
		c.settle(err)
		return true
	}
	n := w.ring.Peek(c.batch)
	if n == 0 {
		return false
	}
	k, over, err := c.writeRecords(c.batch[:n])
	c.keepSent(c.batch[:k])
	c.track(uint64(k)-over, failed(err))
	w.droppedUnsendable.Add(over)
	c.release(k)
	w.written.Add(uint64(k) - over)
	c.settle(err)
	return true
}

// noticeDue reports whether a drop notice is to be sent: one not yet
// written whole, or drops since the last.
func (c *consumer) noticeDue() bool {
	return c.w.cfg.DropNotice != nil && (c.notice != nil || c.totals() != c.noticed)
}

// dropNotice calls Config.DropNotice. A panic is recovered and counted,
// and no notice is sent for d: the drops stay counted in Stats.
func (c *consumer) dropNotice(d Drops) (notice []byte) {
	c.w.enter(callDropNotice)
	defer c.w.inCall.Store(0)
	defer func() {
		if v := recover(); v != nil {
			c.w.panics.Add(1)
			c.w.lastErr.Store(ptr(fmt.Errorf("%w: Config.DropNotice: %v", ErrCallbackPanic, v)))
			notice = nil
		}
	}()
	return c.w.cfg.DropNotice(d)
}

// release removes k sent or spilled records from the byte ring.
func (c *consumer) release(k int) {
	if k > 0 {
		c.w.ring.Release(k)
		c.w.sent.Add(uint64(k))
		c.w.room.Freed()
	}
}

// spill moves live records into the offline ring and returns how many.
// Disconnected (evict), it takes every record the byte ring holds, evicting
// the oldest offline records when full, so the ring keeps accepting.
// Connected to a daemon that is not reading (!evict), it takes them only
// while the offline ring has room, evicting nothing: producers keep writing
// and no record is lost to a pause; what does not fit stays in the byte
// ring, in order. Buffers are recycled, so a steady outage allocates
// nothing once the ring has filled.
func (c *consumer) spill(evict bool) int {
	w := c.w
	if w.spill != nil {
		return c.hold(evict)
	}
	limit := w.cfg.OfflineBytes
	n := w.ring.Peek(c.batch)
	k := 0
	for _, rec := range c.batch[:n] {
		if !evict && (w.off.Len() == w.off.Cap() || limit > 0 && c.offBytes+len(rec) > limit) {
			break
		}
		buf := append(c.buffer(len(rec)), rec...)
		c.offBytes += len(buf)
		if ev, did := w.off.Push(buf); did {
			c.evict(ev)
		}
		if evict {
			c.trimOffline()
		}
		k++
	}
	clear(c.batch[:n])
	// Buffered before the release: Flush's fast path reads the ring's
	// release count, then Buffered, and must never see both unchanged.
	c.storeBuffered()
	c.release(k)
	return k
}

// hold is spill with a spill directory, where the ring is the backlog: it
// checksums the records the daemon is not taking (so a reboot does not cost
// them) and, disconnected (evict), evicts the oldest while the ring is more
// than three quarters full, so producers keep finding room. It returns
// how many it evicted.
func (c *consumer) hold(evict bool) int {
	w := c.w
	w.ring.Seal()
	k := 0
	// Peek first: a published record at head is one Release(1) removes.
	for evict && w.ring.Len() > w.ring.Cap()/4*3 && w.ring.Peek(c.batch[:1]) == 1 {
		c.batch[0] = nil
		// Counted before the release: Flush's fast path, which finds the
		// ring empty by Released, then reads Evicted, sees it.
		w.evicted.Add(1)
		w.ring.Release(1)
		k++
	}
	if k > 0 {
		w.sent.Add(uint64(k))
		w.room.Freed()
	}
	return k // the run loop msyncs (SpillSync) after every step
}

// syncDue returns when the next msync is due (SpillSync), or zero if none
// is: no SpillSync, or nothing changed since the last one.
func (c *consumer) syncDue() time.Time {
	w := c.w
	if w.cfg.SpillSync <= 0 || c.synced == [2]uint32{w.ring.Written(), w.ring.Released()} {
		return time.Time{}
	}
	return c.syncAt.Add(w.cfg.SpillSync)
}

// sync msyncs the ring file when SpillSync is due (or now, with force and
// SpillSync set), after checksumming the records it holds: a record
// written back unsealed would not be trusted after a reboot.
func (c *consumer) sync(force bool) {
	w := c.w
	due := c.syncDue()
	if due.IsZero() || !force && time.Now().Before(due) {
		return
	}
	w.ring.Seal()
	// Sealed, not Written: a record still being copied now is not in this
	// msync, and its publish changes no count, so it must keep the next
	// one due.
	c.synced = [2]uint32{w.ring.Sealed(), w.ring.Released()}
	if err := w.spill.sync(); err != nil {
		w.lastErr.Store(ptr(fmt.Errorf("uds: msync %s: %w", w.spill.path, err)))
	} else if w.spill.gone() {
		// Two fstatats per SpillSync: the msync kept nothing for the
		// next Open, and Close will say so.
		w.lastErr.Store(ptr(fmt.Errorf("%w: %s was removed or replaced while open: what is left in it at Close is lost", ErrSpillLost, w.spill.path)))
	}
	c.syncAt = time.Now()
}

// evictBulk, at the end of shutdown, drops up front what spilling the byte
// ring would copy into the offline ring only to evict it again: when the
// ring holds at least the offline ring's capacity, the offline records and
// the oldest ring records beyond that capacity are evicted (counted) without
// a copy, so Close does not overrun its deadline by copying a large ring.
func (c *consumer) evictBulk() {
	w := c.w
	extra := w.ring.Pending() - w.off.Cap()
	if extra <= 0 {
		return
	}
	for w.off.Len() > 0 {
		v, _ := w.off.Pop()
		c.evict(v)
	}
	n := w.ring.Release(extra) // only published records; the spill takes the rest
	w.evicted.Add(uint64(n))
	w.sent.Add(uint64(n))
	c.storeBuffered()
}

// trimOffline evicts the oldest offline records while the ring holds more
// than Config.OfflineBytes (always keeping the newest record).
func (c *consumer) trimOffline() {
	limit := c.w.cfg.OfflineBytes
	for limit > 0 && c.offBytes > limit && c.w.off.Len() > 1 {
		v, _ := c.w.off.Pop()
		c.evict(v)
	}
	c.storeBuffered()
}

// evict accounts for an offline record that was dropped to make room.
func (c *consumer) evict(v []byte) {
	c.offBytes -= len(v)
	c.w.evicted.Add(1)
	c.recycle(v)
}

func (c *consumer) buffer(n int) []byte {
	for i := len(c.free) - 1; i >= 0; i-- {
		if b := c.free[i]; cap(b) >= n {
			c.free[i] = c.free[len(c.free)-1]
			c.free = c.free[:len(c.free)-1]
			return b[:0]
		}
	}
	return make([]byte, 0, max(n, 256))
}

// recycle keeps the buffer of a record that left the head of the offline
// ring for reuse, unless the caller preloaded it (it may alias the caller's
// memory: a slice of a file they read, say).
func (c *consumer) recycle(b []byte) {
	if c.foreign > 0 {
		c.foreign--
		return
	}
	if cap(b) > 0 && len(c.free) < c.w.off.Cap() {
		c.free = append(c.free, b[:0])
	}
}

// totals are the drop counts since Open.
func (c *consumer) totals() Drops {
	w := c.w
	var d Drops
	for i := range d.BySeverity {
		d.BySeverity[i] = w.dropped[i].Load()
		d.Full += d.BySeverity[i]
	}
	return Drops{Full: d.Full, BySeverity: d.BySeverity, TooLarge: w.droppedLarge.Load(), Newline: w.droppedNewline.Load(),
		Unsendable: w.droppedUnsendable.Load(), Evicted: w.evicted.Load(), Damaged: w.ring.Damaged(),
		Unconfirmed: w.unconfirmed.Load()}
}

// since returns the counts in t that are not in before.
func (t Drops) since(before Drops) Drops {
	var by [8]uint64
	for i := range by {
		by[i] = t.BySeverity[i] - before.BySeverity[i]
	}
	return Drops{Full: t.Full - before.Full, BySeverity: by, TooLarge: t.TooLarge - before.TooLarge,
		Newline: t.Newline - before.Newline, Unsendable: t.Unsendable - before.Unsendable, Evicted: t.Evicted - before.Evicted,
		Damaged: t.Damaged - before.Damaged, Unconfirmed: t.Unconfirmed - before.Unconfirmed}
}

// answerFlushes answers every Flush whose records have all left the
// Writer, reached the kernel or evicted: nil, or a *LostError counting the
// evictions no Flush has reported yet. When finishing (the consumer is
// exiting) it replies ErrClosed to the others and refuses later ones.
func (c *consumer) answerFlushes(finishing bool) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	released, offline := w.ring.Released(), w.off.Len()+c.resend.len()
	keep := w.flushes[:0]
	var answer error
	answered := false
	for _, r := range w.flushes {
		switch {
		case int32(released-r.target) >= 0 && offline == 0:
			// Every record the Flush covers was sent, or evicted: with a
			// spill directory, records leave the ring by eviction too
			// while the daemon is away.
			if !answered {
				answer, answered = w.evictedSinceFlush(), true
			}
			r.reply <- answer
		case finishing:
			r.reply <- ErrClosed
		default:
			keep = append(keep, r)
		}
	}
	clear(w.flushes[len(keep):])
	w.flushes = keep
	w.hasFlush.Store(len(keep) > 0)
	w.finished = finishing
}

// shutdown sends what it can until the shutdown's bound (Close's
// CloseTimeout, Shutdown's ctx), then keeps what is left (the offline
// ring, or the spill file), closes the socket, answers Flush calls and
// sets Close's error.
func (c *consumer) shutdown() {
	w := c.w
	// From here no Write is accepted, so Pending reaching 0 is the end: every
	// Write that returned nil is in the ring (the byte ring's Close).
	w.ring.Close()
	// A drop notice still due goes out too, while connected: the last
	// drops are reported before Close returns (Close does not wait for a
	// daemon that is away only to report them).
	for idle := 0; w.off.Len() > 0 || c.resend.len() > 0 || w.ring.Pending() > 0 || c.conn != nil && c.noticeDue(); {
		deadline := w.deadline() // re-read: a later Close or a cancelled ctx lowers it
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			break
		}
		if w.dialCtx.Err() != nil {
			break // the bound passed (expire)
		}
		if c.conn == nil {
			if wait := time.Until(c.retry); wait > 0 {
				c.pause(wait, deadline) // the next dial, but not past the deadline
				continue
			}
			ctx, cancel := w.dialCtx, context.CancelFunc(func() {})
			if !deadline.IsZero() {
				ctx, cancel = context.WithDeadline(ctx, deadline)
			}
			c.connect(ctx)
			cancel()
			continue
		}
		// Never wait longer than the deadline for one write.
		c.conn.timeout = w.cfg.WriteTimeout
		if !deadline.IsZero() {
			c.conn.timeout = min(c.conn.timeout, max(time.Until(deadline), time.Millisecond))
		}
		if c.send() {
			idle = 0
		} else if w.ring.Pending() > 0 {
			// A producer is between claim and publish: short sleeps, then
			// longer ones (with a spill file, damage to a record not yet
			// read looks the same and never ends).
			c.pause(min(10*time.Microsecond<<min(idle, 7), time.Millisecond), deadline)
			idle++
		}
	}
	if w.spill != nil {
		c.closeSpill(nil)
		return
	}
	if c.conn != nil {
		c.closeConfirm()
		c.hangUp()
	}
	c.keep()
	w.closeErr = c.lost(nil)
	c.answerFlushes(true)
}

// pause waits for d, or until the deadline, or until the shutdown's bound
// moves (Writer.bound).
func (c *consumer) pause(d time.Duration, deadline time.Time) {
	if !deadline.IsZero() {
		d = min(d, time.Until(deadline))
	}
	if d <= 0 {
		return
	}
	c.timer.Reset(d)
	select {
	case <-c.timer.C:
	case <-c.w.hurry:
		c.timer.Stop()
	}
}

// keep moves what is left into the offline ring at the end of a shutdown
// without a spill directory: the records to send again first (the oldest),
// then the byte ring's, evicting the oldest when the offline ring is full.
func (c *consumer) keep() {
	c.unresend() // oldest: at the head of the offline ring
	c.evictBulk()
	for c.spill(true) > 0 {
	}
}

// lost returns Close's error at the end of a shutdown: a *LostError when
// records were neither sent nor kept (spillLost: those left in a spill
// file the path no longer names), or nil. cause is why the drain stopped;
// nil means the shutdown's bound (Shutdown's ctx.Err(), or
// context.DeadlineExceeded).
func (c *consumer) lost(cause error, spillLost ...int) error {
	w := c.w
	e := &LostError{Evicted: int(w.evicted.Load() - w.evictedAtClose)}
	if w.spill == nil {
		e.Unfinished = w.ring.Pending() // a producer claimed a record and did not publish it in time
		if w.ownOff {
			e.Unkept = w.off.Len()
		}
	}
	for _, n := range spillLost {
		e.SpillLost += n
	}
	if e.Unkept+e.Evicted+e.Unfinished+e.SpillLost == 0 {
		return nil
	}
	e.Err = cause
	if e.Err == nil {
		e.Err = context.DeadlineExceeded
		if p := w.cause.Load(); p != nil {
			e.Err = *p
		}
	}
	if last := w.LastError(); last != nil && last != cause {
		e.Socket = last
	}
	return e
}

// closeSpill ends shutdown with a spill directory: what was not sent stays
// in the ring file, checksummed (and synced, with SpillSync), for the next
// Open. The file is unmapped and unlocked unless a Write may still be
// between its claim and its publish (the ring is not Quiescent: a header
// not yet valid, which damage to a record not yet read looks like too):
// it would store into the mapping after the unmap, so the mapping and the
// lock are kept for it. If the path no longer names the file (spill.gone),
// what is left in it is lost, counted (Stats.SpillLost) and reported as
// such, never as kept. cause is as for lost.
func (c *consumer) closeSpill(cause error) {
	w := c.w
	if c.conn != nil {
		c.closeConfirm()
		c.hangUp()
	}
	w.ring.Seal()
	c.sync(true)
	quiet := w.ring.Quiescent()
	left := w.ring.Pending()
	gone := left > 0 && w.spill.gone()
	w.spill.close(!quiet)
	switch {
	case gone:
		// Out of Pending, into SpillLost: sent counts what left the ring.
		w.spillLost.Add(uint64(left))
		w.sent.Add(uint64(left))
		w.closeErr = c.lost(cause, left)
	case !quiet:
		// The ring stopped at a header it cannot pass: a Write between
		// its claim and its publish, or damage to a record not yet read
		// (internal/ring/durable.go), which look the same. What the file holds is
		// kept; the lock is not released.
		why := cause
		if why == nil {
			why = context.DeadlineExceeded
			if p := w.cause.Load(); p != nil {
				why = *p
			}
		}
		w.closeErr = fmt.Errorf("uds: close: the records left are kept in %s, but the ring stopped at a record whose header is not valid (a Write that never finished it, or damage to the file), so the file stays mapped and locked until the process exits (an Open of the same directory gets ErrSpillInUse until then): %w",
			w.spill.path, why)
	default:
		w.closeErr = c.lost(cause) // what is left is kept in the file for the next Open
	}
	c.answerFlushes(true)
}

// abandon ends a consumer goroutine that is exiting other than by
// returning: the caller's code it runs (Config.Dial, Config.DropNotice,
// Config.Format) called runtime.Goexit (t.FailNow does), which no recover
// stops. Nobody would drain the ring any more, so the Writer closes
// itself: Write and Flush return ErrClosed from now on, waiting
// WriteContext and Flush calls are answered, and what is queued is kept
// as Close keeps it (the offline ring, or the spill file), without
// calling the caller's code again. Close returns an error wrapping
// ErrCallbackPanic that says so (a *LostError if records were lost);
// Stats.Panics counts it.
func (c *consumer) abandon() {
	w := c.w
	w.inCall.Store(0) // a Format's mark has no defer to clear it
	w.panics.Add(1)
	why := fmt.Errorf("%w: a callback on the consumer goroutine (Config.Dial, Config.DropNotice or Config.Format) called runtime.Goexit, which ended it: the Writer is closed", ErrCallbackPanic)
	w.lastErr.Store(&why)
	// Close's first half, if Close has not begun: intake stops, waiting
	// WriteContext calls and dials give up.
	w.expire(why)
	w.begin(time.Time{})
	w.ring.Close()
	w.room.Freed()
	if c.conn != nil {
		c.hangUp()
	}
	if w.spill != nil {
		c.closeSpill(why)
	} else {
		c.keep()
		w.closeErr = c.lost(why)
		c.answerFlushes(true)
	}
	if w.closeErr == nil {
		w.closeErr = why
	}
}
