package uds

import "time"

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
	for cf.n > 0 && cf.ends[cf.head] <= lb {
		cf.confirmed = cf.cums[cf.head]
		cf.head = (cf.head + 1) % confirmMarks
		cf.n--
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

// lose counts the records of a failed connection that the daemon may not
// have consumed, and forgets the connection's marks.
func (c *consumer) lose() {
	if d := c.cf.written - c.cf.confirmed; d > 0 {
		c.w.unconfirmed.Add(d)
	}
	c.cf = confirm{}
}

// closeConfirm, at Close: a daemon that is still there reads what we sent
// after we close; one that hung up took the open records with it.
func (c *consumer) closeConfirm() {
	if outqKnown && c.cf.open() && (!c.conn.message || c.conn.noEmpty) && c.conn.peerGone() {
		c.lose()
	}
	c.cf = confirm{}
}
