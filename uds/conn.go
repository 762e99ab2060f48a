package uds

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/ringsink/ringsink/uds/format"
)

// Framing says how records are delimited on the stream. It is applied with
// extra iovecs, never by copying payloads.
type Framing uint8

const (
	// Raw sends records as they are: they carry their own framing (DLT,
	// RFC 6587 octet counting, ...), so their bytes are the framing, and a
	// record from outside can end a message or start another. The default.
	Raw Framing = iota
	// Newline ends every record with '\n' (syslog-ng and rsyslog
	// unix-stream sources, Vector's newline_delimited): it appends one
	// unless the record already ends with it. A '\n' inside a record, or a
	// NUL anywhere in it (syslog-ng ends a message at either), would split
	// it into several messages, so Writer refuses such records
	// (ErrNewline, ErrNUL) unless Config.AllowNewlines is set.
	Newline
	// LengthPrefix puts a 4-byte big-endian length before every record
	// (Vector's length_delimited). A record may hold any bytes: none of
	// them can end it early.
	LengthPrefix
)

func (f Framing) String() string {
	switch f {
	case Raw:
		return "raw"
	case Newline:
		return "newline"
	case LengthPrefix:
		return "length-prefix"
	}
	return fmt.Sprintf("Framing(%d)", uint8(f))
}

// maxIov is the kernel's IOV_MAX: the most iovecs one writev takes.
const maxIov = 1024

var newline = []byte{'\n'}

// conn is one connection to a Unix socket. On a stream socket WriteRecords
// sends a batch of records with writev (at most 1024 iovecs per call,
// through the runtime poller so the write deadline applies) and reports how
// many records were written completely. On a message socket (SOCK_DGRAM, as
// /dev/log and journald use, or SOCK_SEQPACKET) every record is one message,
// sent in batches with sendmmsg on Linux; Framing does not apply, and a
// record is never torn. A record the socket cannot carry is skipped and
// counted (Unsendable), never retried: one it refuses as too large
// (EMSGSIZE), or an empty one on a seqpacket socket, where a zero-length
// message reads as the end of the stream. A record whose Format.Frame
// panics is skipped and counted the same way, on any socket (the panic is
// recovered: a Format is the caller's code); a Format.AppendStamp that
// panics leaves the batch's stamp empty.
//
// conn is not safe for concurrent use: the uds Writer's consumer goroutine
// owns it.
type conn struct {
	uc       *net.UnixConn
	rc       syscall.RawConn
	framing  Framing
	timeout  time.Duration
	limit    *atomic.Int64 // if set and non-zero: no write deadline later than this (unix ns); the Writer's Close sets it
	message  bool          // SOCK_DGRAM or SOCK_SEQPACKET: one record per message
	noEmpty  bool          // SOCK_SEQPACKET: an empty message would read as end of stream
	maxMsg   int           // largest message the socket takes (from SO_SNDBUF), 0 if unknown
	mm       mmsgs         // sendmmsg headers (Linux), allocated on the first message batch
	noMmsg   bool          // sendmmsg was refused (a sandbox): one sendmsg per message
	early    bool          // return what a call sent when the receiver is full, before waiting (Config.SpillDir)
	wrote    bool          // this call has written something (early)
	resume   bool          // the last call returned early: the next one keeps its write deadline
	wasSlow  bool          // the last call ended at its deadline on a daemon that reads slowly (drained)
	full     bool          // the socket refused bytes (EAGAIN) since the write deadline was set
	refilled bool          // and took bytes after that: the daemon consumed some (drained)

	vec   vectors         // reused iovec array (or buffer list), maxIov entries: writev_unix.go, writev_other.go
	prefs [maxIov][4]byte // length prefixes for one writev: one per record, and a record takes at least one iovec

	// State of the WriteRecords call in progress, read by writeFn.
	recs       [][]byte
	done       int // records written completely
	off        int // bytes of recs[done]'s frame already written
	err        error
	sends      uint64 // send system calls made (writev, sendmmsg, write), over the conn's life
	bytes      uint64 // bytes written, over the conn's life
	slow       uint64 // write deadlines that expired while the daemon was reading (slowly), over the conn's life
	unsendable uint64 // records a message socket could not carry (EMSGSIZE, or empty on seqpacket), or the Format panicked on, skipped
	skipped    []int  // the indexes in recs of the last call's skipped records (reused)
	panics     uint64 // Format panics recovered, over the conn's life
	panicked   error  // the last of them
	writeFn    func(fd uintptr) bool
	probeFn    func(fd uintptr) // writeFn for rc.Control: one more try outside the poller (drained)
	oq         outqState        // SIOCOUTQ and the peer's hang-up (outq_linux.go)

	// Format state: the batch's stamp, the arena its headers are rendered
	// into (never grown while iovecs point into it), and the frame length
	// of each record of the batch, from recs[base].
	format  format.Format
	maxOver int
	stamp   []byte
	hdrs    []byte
	flen    [maxIov]int
	base    int
	filled  int
	//lint:ignore U1000 used off Linux, by send_unix.go
	msg []byte // one formatted message, where there is no sendmmsg (send_unix.go)
}

// dialConn connects to the Unix socket at path within ctx, whatever its type
// (stream, seqpacket or datagram). sndbuf, when positive, sets SO_SNDBUF;
// timeout, when positive, is the write deadline of every WriteRecords call.
func dialConn(ctx context.Context, path string, framing Framing, timeout time.Duration, sndbuf int) (*conn, error) {
	uc, err := dialNetwork("")(ctx, path)
	if err != nil {
		return nil, err
	}
	return newConn(uc, framing, timeout, sndbuf)
}

// dialNetwork returns the default Config.Dial for network ("unix",
// "unixpacket", "unixgram", or "" for whichever the socket at path is: a
// connect to a socket of another type fails with EPROTOTYPE, so the types
// are tried in turn).
func dialNetwork(network string) func(ctx context.Context, path string) (*net.UnixConn, error) {
	networks := []string{"unix", "unixpacket", "unixgram"}
	if network != "" {
		networks = []string{network}
	}
	return func(ctx context.Context, path string) (*net.UnixConn, error) {
		var d net.Dialer
		var err error
		for _, nw := range networks {
			var c net.Conn
			if c, err = d.DialContext(ctx, nw, path); err == nil {
				return c.(*net.UnixConn), nil
			}
			if !errors.Is(err, syscall.EPROTOTYPE) {
				return nil, err
			}
		}
		return nil, err
	}
}

func newConn(uc *net.UnixConn, framing Framing, timeout time.Duration, sndbuf int) (*conn, error) {
	if sndbuf > 0 {
		if err := uc.SetWriteBuffer(sndbuf); err != nil {
			uc.Close()
			return nil, fmt.Errorf("uds: set SO_SNDBUF: %w", err)
		}
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		uc.Close()
		return nil, err
	}
	c := &conn{uc: uc, rc: rc, framing: framing, timeout: timeout}
	if c.message, c.noEmpty, c.maxMsg, err = socketKind(rc); err != nil {
		uc.Close()
		return nil, err
	}
	c.vec.init()
	c.writeFn = c.write // one method value for the conn's life: no allocation per call (unix)
	if c.message {
		c.writeFn = c.sendmsgs
	}
	c.probeFn = func(fd uintptr) { c.writeFn(fd) }
	c.initOutq()
	return c, nil
}

// WriteRecords writes recs in order and returns how many were written
// completely. On error, recs[n] may have been written in part: the stream is
// then torn and the connection must be closed, never continued (the
// receiver would splice the rest of another record onto the torn one).
// It allocates nothing.
func (c *conn) WriteRecords(recs [][]byte) (int, error) {
	return c.writeFrom(recs, 0)
}

// writeFrom is WriteRecords for a stream on which the first off bytes of
// recs[0]'s frame were written already (a write that timed out part way:
// the connection is kept and the record continued, never restarted). After
// an error, c.off holds the bytes of recs[n]'s frame written so far.
func (c *conn) writeFrom(recs [][]byte, off int) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	all := len(recs)
	if off > 0 && c.format != nil && (c.early || c.wasSlow) {
		// Finish the torn record alone, under its old stamp; the records
		// after it go in the next call, stamped anew. (Otherwise a slow
		// daemon that makes every call end inside a record would freeze
		// the stamp for good.) Without a Format there is no stamp, and no
		// extra writev.
		recs = recs[:1]
	}
	// After an early return the batch goes on under the deadline it
	// started with; when that expires, drained judges the daemon's
	// progress over the whole deadline.
	if !c.resume {
		if err := c.setDeadline(); err != nil {
			return 0, err
		}
		c.full, c.refilled = false, false // progress is judged per deadline
	}
	c.recs, c.done, c.off, c.err, c.wrote = recs, 0, off, nil, false
	c.skipped = c.skipped[:0]
	if c.format != nil && off == 0 {
		// A torn record is continued with the stamp it started with, so
		// its header renders to the same bytes.
		c.appendStamp()
	}
	start := c.bytes
	var err error
	if c.message {
		err = c.sendAll()
	} else {
		err = c.writeAll()
	}
	slow := false
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if c.drained(start) {
			// The daemon freed room while we waited: it reads, slowly.
			// The call ends with what is done, and the next one starts
			// a new deadline (see drained).
			err, slow = nil, true
			c.slow++
		} else if c.err != nil {
			err = c.err // the probe found the socket failed
		}
	}
	n := c.done
	if err == nil {
		err = c.err
	}
	c.resume = err == nil && n < all && c.early && !slow
	c.wasSlow = slow
	c.recs = nil
	return n, err
}

// setDeadline sets the write deadline to now+timeout, but never later than
// c.limit. The limit is re-read after setting: a Close that stored it and
// set the deadline meanwhile either is seen here or set its deadline after
// ours, so the earlier one wins either way.
func (c *conn) setDeadline() error {
	var d time.Time
	if c.timeout > 0 {
		d = time.Now().Add(c.timeout)
	}
	lim := func() (time.Time, bool) {
		if c.limit == nil {
			return time.Time{}, false
		}
		l := c.limit.Load()
		return time.Unix(0, l), l != 0 && (d.IsZero() || l < d.UnixNano())
	}
	if l, ok := lim(); ok {
		d = l
	}
	if err := c.uc.SetWriteDeadline(d); err != nil {
		return err
	}
	if l, ok := lim(); ok {
		return c.uc.SetWriteDeadline(l)
	}
	return nil
}

// fill builds iovecs for the unwritten part of recs, starting off bytes into
// recs[done]'s frame, and returns how many it built. It records the frame
// length of every record it covers (c.flen, from c.base) for advance.
func (c *conn) fill() int {
	n := 0
	c.startBatch()
	skip := c.off
	perRec := c.framing.parts() + c.formatParts()
	// k-c.base < maxIov: an empty raw record takes no iovec, but a slot in
	// c.flen. The first record is always taken (c.room), so a batch makes
	// progress whatever the Format does.
	for k := c.done; k < len(c.recs) && k-c.base < maxIov && n+perRec <= maxIov && c.room(k); k++ {
		var parts [5][]byte // prefix, header, body, trailer, newline
		var ok bool
		parts[1], parts[2], parts[3], ok = c.format3(c.recs[k])
		if !ok { // the Format panicked on it
			if k > c.done {
				break // the batch ends before it; it is first in the next
			}
			if skip > 0 {
				// Part of its frame is on the wire already: it cannot be
				// skipped without splicing the next record onto it. The
				// connection is closed (a torn record is sent whole on the
				// next, where it is skipped if the Format panics again).
				c.panics++
				c.err = fmt.Errorf("uds: %w: Format.Frame panicked on a record it had rendered before (a Format must be deterministic): %w", ErrCallbackPanic, c.panicked)
				return 0
			}
			c.skipPanicked()
			continue
		}
		size := len(parts[1]) + len(parts[2]) + len(parts[3])
		switch c.framing {
		case LengthPrefix:
			// k-c.done < n <= maxIov: every record before k took at least
			// one iovec (its prefix), so each has a slot of its own until
			// the kernel has copied this writev.
			p := &c.prefs[k-c.done]
			binary.BigEndian.PutUint32(p[:], uint32(size))
			parts[0] = p[:]
		case Newline:
			if !endsLine(parts[1], parts[2], parts[3]) {
				parts[4] = newline
			}
		}
		c.flen[k-c.base] = len(parts[0]) + size + len(parts[4])
		c.filled++
		for _, part := range parts {
			if skip >= len(part) {
				skip -= len(part)
				continue
			}
			c.vec.set(n, part[skip:])
			n++
			skip = 0
		}
	}
	return n
}

// parts is the most iovecs the framing adds to a record.
func (f Framing) parts() int {
	if f == Raw {
		return 1
	}
	return 2
}

// formatParts is the most iovecs the Format adds to a record.
func (c *conn) formatParts() int {
	if c.format == nil {
		return 0
	}
	return 2
}

// startBatch starts a batch of records at c.done: the header arena is
// reused and the frame lengths recorded afresh.
func (c *conn) startBatch() {
	c.base, c.filled = c.done, 0
	c.hdrs = c.hdrs[:0]
}

// room reports whether record k may join the batch: the batch's first
// always may; a later one only if its header fits the arena without growing
// it (iovecs point into it until the kernel has copied the batch).
func (c *conn) room(k int) bool {
	return c.format == nil || k == c.base || cap(c.hdrs)-len(c.hdrs) >= c.maxOver
}

// format3 returns rec's header, body and trailer: rec alone without a
// Format. A Format that returns its header other than as dst extended (only
// the new bytes, or a slice of its own) has it copied into the arena, so
// the bytes on the wire stay right and the arena keeps its place. ok is
// false if the Format panicked (c.panicked says how): the caller skips the
// record (skipPanicked) or ends the batch before it.
func (c *conn) format3(rec []byte) (hdr, body, trailer []byte, ok bool) {
	if c.format == nil {
		return nil, rec, nil, true
	}
	start := len(c.hdrs)
	h, body, trailer, ok := c.frame(rec)
	if !ok {
		c.hdrs = c.hdrs[:start] // whatever it appended before it panicked
		return nil, nil, nil, false
	}
	extended := len(h) >= start && cap(h) > 0 && (unsafe.SliceData(h) == unsafe.SliceData(c.hdrs) || cap(h) > cap(c.hdrs))
	if extended {
		// dst extended, as the contract says; if it appended more than
		// MaxOverhead, append grew it: the iovecs built so far keep the old
		// arena alive, and later batches use the larger one.
		c.hdrs = h
	} else {
		c.hdrs = append(c.hdrs, h...) // overlapping bytes of the arena copy onto themselves
	}
	return c.hdrs[start:], body, trailer, true
}

// frame calls Format.Frame, recovering a panic: the Format is the caller's
// code, and a panic on the consumer goroutine would end the process.
func (c *conn) frame(rec []byte) (hdr, body, trailer []byte, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			c.panicked = fmt.Errorf("%w: Format.Frame: %v", ErrCallbackPanic, v)
			ok = false
		}
	}()
	hdr, body, trailer = c.format.Frame(c.hdrs, rec, c.stamp)
	return hdr, body, trailer, true
}

// appendStamp renders the batch's stamp; a Format.AppendStamp that panics
// is counted and leaves it empty.
func (c *conn) appendStamp() {
	defer func() {
		if v := recover(); v != nil {
			c.panics++
			c.panicked = fmt.Errorf("%w: Format.AppendStamp: %v", ErrCallbackPanic, v)
			c.stamp = c.stamp[:0]
		}
	}()
	c.stamp = c.format.AppendStamp(c.stamp[:0], time.Now())
}

// skipPanicked skips the record at c.done, the first of the batch being
// built, on which the Format panicked: it is counted as unsendable, and
// the batch starts again after it (no iovec points into the arena yet).
func (c *conn) skipPanicked() {
	c.panics++
	c.unsendable++
	c.done++
	c.off = 0
	c.startBatch()
}

// endsLine reports whether a frame whose parts are given carries its own
// line terminator: with Newline framing such a record is sent as it is, so
// a logger's lines (slog, zap and zerolog end every line with '\n') are not
// doubled.
func endsLine(parts ...[]byte) bool {
	for i := len(parts) - 1; i >= 0; i-- {
		if p := parts[i]; len(p) > 0 {
			return p[len(p)-1] == '\n'
		}
	}
	return false
}

// advance records w more bytes written, completing records.
func (c *conn) advance(w int) {
	for c.done < c.base+c.filled {
		left := c.flen[c.done-c.base] - c.off
		if w < left {
			c.off += w
			return
		}
		w -= left
		c.done++
		c.off = 0
	}
}

// skipEmpty moves past empty records at c.done on a seqpacket socket,
// counting them as unsendable; the send loops call it before each batch.
func (c *conn) skipEmpty() {
	for c.done < len(c.recs) && c.unsendableEmpty(c.recs[c.done]) {
		c.skipped = append(c.skipped, c.done)
		c.unsendable++
		c.done++
	}
}

// unsendableEmpty reports whether rec would be an empty message on a
// seqpacket socket (a Format gives every record a header).
func (c *conn) unsendableEmpty(rec []byte) bool {
	return c.noEmpty && c.format == nil && len(rec) == 0
}

// SetFormat makes the conn send every record inside f's header and trailer
// (nil: records as they are). Set it before the first write. A
// MaxOverhead outside [0, 64 KiB] is taken as the nearer bound (a Format
// that appends more makes the consumer allocate, never fail).
func (c *conn) SetFormat(f format.Format) {
	over := 0
	if f != nil {
		over = f.MaxOverhead()
	}
	c.setFormat(f, over)
}

// setFormat is SetFormat with f's MaxOverhead already known (the Writer
// asks once, at Open).
func (c *conn) setFormat(f format.Format, maxOver int) {
	c.format, c.maxOver, c.hdrs = f, 0, nil
	if f != nil {
		// Room for a typical header per record of a full batch, and never
		// less than a worst-case one. Open refuses a MaxOverhead out of
		// range; SetFormat's caller is clamped, so a huge one cannot
		// allocate gigabytes, or panic in make, at every connect.
		c.maxOver = min(max(maxOver, 0), maxFormatOverhead)
		c.hdrs = make([]byte, 0, maxIov*128+c.maxOver)
	}
}

// Message reports whether the socket is message-oriented (SOCK_DGRAM or
// SOCK_SEQPACKET): one record per message, no framing.
func (c *conn) Message() bool { return c.message }

// MaxMessage returns the largest record a message socket takes, from its
// send buffer size (0 for a stream socket or when unknown).
func (c *conn) MaxMessage() int { return c.maxMsg }

// Unsendable returns how many records WriteRecords skipped, counting them
// as done, because the message socket cannot carry them or the Format
// panicked on them (see conn).
func (c *conn) Unsendable() uint64 { return c.unsendable }

// Sends returns how many send system calls (writev, sendmmsg, write) the conn has made.
func (c *conn) Sends() uint64 { return c.sends }

// Close closes the connection.
func (c *conn) Close() error { return c.uc.Close() }
