package uds

import (
	"math"
	"time"
)

// confirmMarks bounds the batch marks kept per connection; past it the
// newest mark absorbs the next batch (coarser, never optimistic).
const confirmMarks = 64

// confirm tracks, per connection, the records the kernel took (Written)
// that the daemon may not have consumed yet, so that a connection that
// fails counts them (Stats.Unconfirmed) instead of losing them silently.
//
// What the kernel tells (Linux, SIOCOUTQ): the bytes it still charges to
// our socket for buffers queued at the peer, by their true size, so an
// upper bound on the unread payload; every byte before sent-outq has been
// consumed. When the peer's socket dies its receive queue is purged and the
// value drops to 0, so a sample is trusted only if it was taken before the
// death: when a later write took bytes (a write to a dead peer fails), or a
// poll right after it saw no hang-up (a stream or seqpacket peer's close
// sets the hang-up before it purges; a datagram peer's does not, so there
// only a later write confirms).
//
// It is the consumer's: one ioctl after each write batch that leaves
// records unconfirmed, and while idle with records unconfirmed, re-checks
// at 1 ms doubling to 1 s; none once everything is confirmed.
type confirm struct {
	ends      [confirmMarks]uint64 // byte offset on the connection where a batch's last record ends
	cums      [confirmMarks]uint64 // records written on the connection up to that batch's end
	head, n   int
	written   uint64 // records Written on this connection
	confirmed uint64 // of those, known consumed by the daemon
	pending   bool   // a sample waits for a later write to confirm it
	at, lb    uint64 // the pending sample: the connection's bytes when taken, and all before lb consumed
	wait      time.Duration
	due       time.Time // next idle re-check, zero if none
	keep      bool      // Config.AtLeastOnce: held has a copy of every open record
	held      recQueue  // with keep: the open records, oldest first (written - confirmed of them)
}

// reset forgets a connection's marks, keeping held's memory for the next.
func (cf *confirm) reset() {
	held, keep := cf.held, cf.keep
	held.clear()
	*cf = confirm{held: held, keep: keep}
}

func (cf *confirm) push(end, cum uint64) {
	if cf.n == confirmMarks {
		last := (cf.head + cf.n - 1) % confirmMarks
		cf.ends[last], cf.cums[last] = end, cum
		return
	}
	i := (cf.head + cf.n) % confirmMarks
	cf.ends[i], cf.cums[i] = end, cum
	cf.n++
}

// upTo confirms every batch that ends at or before byte lb.
func (cf *confirm) upTo(lb uint64) {
	before := cf.confirmed
	for cf.n > 0 && cf.ends[cf.head] <= lb {
		cf.confirmed = cf.cums[cf.head]
		cf.head = (cf.head + 1) % confirmMarks
		cf.n--
	}
	if cf.keep {
		cf.held.drop(int(cf.confirmed - before))
	}
}

// open reports whether some written records are not known consumed.
func (cf *confirm) open() bool { return cf.written != cf.confirmed }

// settled reports whether the pending sample, once confirmed, would leave
// nothing open: idle re-checks can stop.
func (cf *confirm) settled() bool {
	return !cf.open() || cf.pending && cf.n > 0 && cf.ends[(cf.head+cf.n-1)%confirmMarks] <= cf.lb
}

// track accounts for a write on the connection that completed k records
// (Written) and, unless it failed, samples what the daemon has not
// consumed.
func (c *consumer) track(k uint64, failed bool) {
	if !outqKnown {
		return
	}
	cf := &c.cf
	if cf.pending && c.conn.bytes > cf.at {
		// This write took bytes after the sample: the peer was alive
		// then, so the sample was taken before any purge.
		cf.pending = false
		cf.upTo(cf.lb)
	}
	if k > 0 {
		cf.written += k
		cf.push(c.conn.bytes-uint64(c.conn.off), cf.written)
		cf.wait, cf.due = 0, time.Time{}
	}
	if !failed && cf.open() {
		c.sample()
	}
}

// sample reads SIOCOUTQ into a pending sample.
func (c *consumer) sample() bool {
	q, ok := c.conn.outq()
	if !ok {
		return false
	}
	cf := &c.cf
	b := c.conn.bytes
	cf.at, cf.lb, cf.pending = b, b-min(uint64(q), b), true
	return true
}

// confirmIdle is called when the consumer is about to wait with the
// connection up: it samples, confirms what it can (for a stream or
// seqpacket: a poll shows the peer alive, so the sample stands), and
// returns when to check again (zero: nothing open). A peer that hung up
// costs the connection, and its open records are counted.
func (c *consumer) confirmIdle() time.Time {
	cf := &c.cf
	if !outqKnown || !cf.open() {
		return time.Time{}
	}
	now := time.Now()
	if !cf.due.IsZero() && now.Before(cf.due) {
		return cf.due
	}
	if c.sample() && (!c.conn.message || c.conn.noEmpty) {
		if c.conn.peerGone() {
			c.lose()
			c.hangUp()
			c.backoff = c.w.cfg.ReconnectMin // the daemon was there a moment ago
			c.fail(errDaemonClosed(c.w.cfg.Path))
			return time.Time{}
		}
		cf.pending = false
		cf.upTo(cf.lb)
	}
	if cf.settled() {
		cf.wait, cf.due = 0, time.Time{}
		return time.Time{}
	}
	cf.wait = min(max(2*cf.wait, time.Millisecond), time.Second)
	cf.due = now.Add(cf.wait)
	return cf.due
}

// lose accounts for the records of a failed connection that the daemon
// may not have consumed: counted (Unconfirmed), or with AtLeastOnce queued
// to be sent first on the next connection (Resent). It forgets the
// connection's marks.
func (c *consumer) lose() {
	d := c.cf.written - c.cf.confirmed
	switch {
	case d == 0:
	case c.cf.keep:
		// Oldest first: the open records, then what was already queued
		// for resending (the torn record of this connection, if any, is
		// at the head of its own queue, after them).
		c.cf.held.appendFrom(&c.resend)
		c.resend, c.cf.held = c.cf.held, c.resend
		c.w.resent.Add(d)
		c.storeBuffered()
	default:
		c.w.unconfirmed.Add(d)
	}
	c.cf.reset()
}

// keepSent keeps a copy of the records of recs a write sent (not those the
// socket skipped), with AtLeastOnce, until the daemon is known to have
// consumed them.
func (c *consumer) keepSent(recs [][]byte) {
	if !c.cf.keep {
		return
	}
	skipped := c.conn.skipped
	for i, rec := range recs {
		if len(skipped) > 0 && skipped[0] == i {
			skipped = skipped[1:]
			continue
		}
		c.cf.held.add(rec)
	}
}

// storeBuffered publishes Stats.Buffered: the offline ring and the records
// queued to be sent again.
func (c *consumer) storeBuffered() {
	c.w.buffered.Store(uint64(c.w.off.Len() + c.resend.len()))
}

// unresend, at Close, moves the records queued to be sent again to the
// head of the offline ring, where the caller finds what was not sent,
// oldest first (the ring evicts its oldest, counted, if they do not fit).
func (c *consumer) unresend() {
	if c.resend.len() == 0 {
		return
	}
	w := c.w
	// The caller's preloaded records no longer sit at the head of the
	// offline ring, which is what c.foreign counts: recycle no buffer from
	// here on (only the end of keep runs after this), so none of theirs is
	// ever written into.
	c.foreign = math.MaxInt
	rest := w.off.Drain(nil)
	recs := make([][]byte, c.resend.len())
	for _, rec := range recs[:c.resend.peek(recs)] {
		c.offer(append(c.buffer(len(rec)), rec...))
	}
	c.resend.clear()
	for _, rec := range rest {
		c.offer(rec)
	}
	c.trimOffline()
}

// offer pushes a buffer the consumer owns onto the offline ring,
// accounting for what it evicts.
func (c *consumer) offer(buf []byte) {
	c.offBytes += len(buf)
	if ev, did := c.w.off.Push(buf); did {
		c.evict(ev)
	}
}

// recQueue is a FIFO of record copies in one buffer that grows to the
// largest backlog and is then reused: no allocation in a steady state.
type recQueue struct {
	buf   []byte
	lens  []int
	off   int // bytes of buf before the first record
	first int // index in lens of the first record
}

func (q *recQueue) len() int { return len(q.lens) - q.first }

func (q *recQueue) add(rec []byte) {
	q.buf = append(q.buf, rec...)
	q.lens = append(q.lens, len(rec))
}

func (q *recQueue) clear() { q.buf, q.lens, q.off, q.first = q.buf[:0], q.lens[:0], 0, 0 }

// drop removes the n oldest records.
func (q *recQueue) drop(n int) {
	for range n {
		q.off += q.lens[q.first]
		q.first++
	}
	switch {
	case q.first == len(q.lens):
		q.clear()
	case q.first >= 1024 && q.first > len(q.lens)/2:
		// Compact: the records left move to the front.
		q.buf = q.buf[:copy(q.buf, q.buf[q.off:])]
		q.lens = q.lens[:copy(q.lens, q.lens[q.first:])]
		q.off, q.first = 0, 0
	}
}

// peek fills dst with the oldest records (aliasing the queue's buffer,
// valid until it next changes) and returns how many.
func (q *recQueue) peek(dst [][]byte) int {
	n, o := 0, q.off
	for i := q.first; i < len(q.lens) && n < len(dst); i++ {
		l := q.lens[i]
		dst[n] = q.buf[o : o+l : o+l]
		o += l
		n++
	}
	return n
}

// appendFrom appends src's records after q's.
func (q *recQueue) appendFrom(src *recQueue) {
	q.buf = append(q.buf, src.buf[src.off:]...)
	q.lens = append(q.lens, src.lens[src.first:]...)
}

// closeConfirm, at Close: a daemon that is still there reads what we sent
// after we close; one that hung up took the open records with it.
func (c *consumer) closeConfirm() {
	if outqKnown && c.cf.open() && (!c.conn.message || c.conn.noEmpty) && c.conn.peerGone() {
		c.lose()
	}
	c.cf.reset()
}
