package uds

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// Framing says how records are delimited on the stream. It is applied with
// extra iovecs, never by copying payloads.
type Framing uint8

const (
	// Raw sends records as they are: they carry their own framing (DLT,
	// RFC 6587 octet counting, ...). The default.
	Raw Framing = iota
	// Newline ends every record with '\n' (syslog-ng and rsyslog
	// unix-stream sources, Vector's newline_delimited): it appends one
	// unless the record already ends with it. A '\n' inside a record would
	// split it into several messages, so Writer refuses such records unless
	// Config.AllowNewlines is set.
	Newline
	// LengthPrefix puts a 4-byte big-endian length before every record
	// (Vector's length_delimited).
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

// overhead returns the framing bytes added to a record.
func (f Framing) overhead() int {
	switch f {
	case Newline:
		return 1
	case LengthPrefix:
		return 4
	}
	return 0
}

// maxIov is the kernel's IOV_MAX: the most iovecs one writev takes.
const maxIov = 1024

var newline = []byte{'\n'}

// Conn is one connection to a Unix stream socket. WriteRecords sends a batch
// of records with writev (at most 1024 iovecs per call, through the runtime
// poller so the write deadline applies) and reports how many records were
// written completely.
//
// Conn is not safe for concurrent use: the uds Writer's consumer goroutine
// owns it.
type Conn struct {
	uc      *net.UnixConn
	rc      syscall.RawConn
	framing Framing
	timeout time.Duration
	limit   *atomic.Int64 // if set and non-zero: no write deadline later than this (unix ns); the Writer's Close sets it

	vec   vectors         // reused iovec array (or buffer list), maxIov entries: writev_unix.go, writev_other.go
	prefs [maxIov][4]byte // length prefixes for one writev: one per record, and a record takes at least one iovec

	// State of the WriteRecords call in progress, read by writeFn.
	recs    [][]byte
	done    int // records written completely
	off     int // bytes of recs[done]'s frame already written
	err     error
	writevs uint64 // writev system calls made, over the Conn's life
	bytes   uint64 // bytes written, over the Conn's life
	writeFn func(fd uintptr) bool
}

// Dial connects to the Unix stream socket at path within ctx. sndbuf, when
// positive, sets SO_SNDBUF; timeout, when positive, is the write deadline of
// every WriteRecords call.
func Dial(ctx context.Context, path string, framing Framing, timeout time.Duration, sndbuf int) (*Conn, error) {
	uc, err := dialUnix(ctx, path)
	if err != nil {
		return nil, err
	}
	return newConn(uc, framing, timeout, sndbuf)
}

// dialUnix connects to a Unix stream socket: the default Config.Dial.
func dialUnix(ctx context.Context, path string) (*net.UnixConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}

func newConn(uc *net.UnixConn, framing Framing, timeout time.Duration, sndbuf int) (*Conn, error) {
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
	c := &Conn{uc: uc, rc: rc, framing: framing, timeout: timeout}
	c.vec.init()
	c.writeFn = c.write // one method value for the Conn's life: no allocation per call (unix)
	return c, nil
}

// WriteRecords writes recs in order and returns how many were written
// completely. On error, recs[n] may have been written in part: the stream is
// then torn and the connection must be closed, never continued (the
// receiver would splice the rest of another record onto the torn one).
// It allocates nothing.
func (c *Conn) WriteRecords(recs [][]byte) (int, error) {
	return c.writeFrom(recs, 0)
}

// writeFrom is WriteRecords for a stream on which the first off bytes of
// recs[0]'s frame were written already (a write that timed out part way:
// the connection is kept and the record continued, never restarted). After
// an error, c.off holds the bytes of recs[n]'s frame written so far.
func (c *Conn) writeFrom(recs [][]byte, off int) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	if err := c.setDeadline(); err != nil {
		return 0, err
	}
	c.recs, c.done, c.off, c.err = recs, 0, off, nil
	err := c.writeAll()
	n := c.done
	if err == nil {
		err = c.err
	}
	c.recs = nil
	return n, err
}

// setDeadline sets the write deadline to now+timeout, but never later than
// c.limit. The limit is re-read after setting: a Close that stored it and
// set the deadline meanwhile either is seen here or set its deadline after
// ours, so the earlier one wins either way.
func (c *Conn) setDeadline() error {
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
// recs[done]'s frame, and returns how many it built.
func (c *Conn) fill() int {
	n := 0
	add := func(b []byte) {
		if len(b) > 0 {
			c.vec.set(n, b)
			n++
		}
	}
	perRec := 1
	if c.framing != Raw {
		perRec = 2
	}
	skip := c.off
	for k := c.done; k < len(c.recs) && n+perRec <= maxIov; k++ {
		rec := c.recs[k]
		var pre, post []byte
		switch c.framing {
		case LengthPrefix:
			// k-c.done < n <= maxIov: every record before k took at least
			// one iovec (its prefix), so each has a slot of its own until
			// the kernel has copied this writev.
			p := &c.prefs[k-c.done]
			binary.BigEndian.PutUint32(p[:], uint32(len(rec)))
			pre = p[:]
		case Newline:
			if !endsLine(rec) {
				post = newline
			}
		}
		for _, part := range [3][]byte{pre, rec, post} {
			if skip >= len(part) {
				skip -= len(part)
				continue
			}
			add(part[skip:])
			skip = 0
		}
	}
	return n
}

// endsLine reports whether rec carries its own line terminator: with
// Newline framing such a record is sent as it is, so a logger's lines
// (slog, zap and zerolog end every line with '\n') are not doubled.
func endsLine(rec []byte) bool { return len(rec) > 0 && rec[len(rec)-1] == '\n' }

// frameLen is the bytes rec takes on the wire.
func (c *Conn) frameLen(rec []byte) int {
	if c.framing == Newline && endsLine(rec) {
		return len(rec)
	}
	return len(rec) + c.framing.overhead()
}

// advance records w more bytes written, completing records.
func (c *Conn) advance(w int) {
	for c.done < len(c.recs) {
		left := c.frameLen(c.recs[c.done]) - c.off
		if w < left {
			c.off += w
			return
		}
		w -= left
		c.done++
		c.off = 0
	}
}

// Writevs returns how many writev system calls the Conn has made.
func (c *Conn) Writevs() uint64 { return c.writevs }

// Close closes the connection.
func (c *Conn) Close() error { return c.uc.Close() }
