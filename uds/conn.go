package uds

import (
	"context"
	"encoding/binary"
	"errors"
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

// Conn is one connection to a Unix socket. On a stream socket WriteRecords
// sends a batch of records with writev (at most 1024 iovecs per call,
// through the runtime poller so the write deadline applies) and reports how
// many records were written completely. On a message socket (SOCK_DGRAM, as
// /dev/log and journald use, or SOCK_SEQPACKET) every record is one message,
// sent in batches with sendmmsg on Linux; Framing does not apply, and a
// record is never torn. A record the socket cannot carry is skipped and
// counted (Unsendable), never retried: one it refuses as too large
// (EMSGSIZE), or an empty one on a seqpacket socket, where a zero-length
// message reads as the end of the stream.
//
// Conn is not safe for concurrent use: the uds Writer's consumer goroutine
// owns it.
type Conn struct {
	uc      *net.UnixConn
	rc      syscall.RawConn
	framing Framing
	timeout time.Duration
	limit   *atomic.Int64 // if set and non-zero: no write deadline later than this (unix ns); the Writer's Close sets it
	message bool          // SOCK_DGRAM or SOCK_SEQPACKET: one record per message
	noEmpty bool          // SOCK_SEQPACKET: an empty message would read as end of stream
	maxMsg  int           // largest message the socket takes (from SO_SNDBUF), 0 if unknown
	mm      mmsgs         // sendmmsg headers (Linux), allocated on the first message batch

	vec   vectors         // reused iovec array (or buffer list), maxIov entries: writev_unix.go, writev_other.go
	prefs [maxIov][4]byte // length prefixes for one writev: one per record, and a record takes at least one iovec

	// State of the WriteRecords call in progress, read by writeFn.
	recs       [][]byte
	done       int // records written completely
	off        int // bytes of recs[done]'s frame already written
	err        error
	writevs    uint64 // writev (or sendmmsg) system calls made, over the Conn's life
	bytes      uint64 // bytes written, over the Conn's life
	unsendable uint64 // records a message socket could not carry (EMSGSIZE, or empty on seqpacket), skipped
	writeFn    func(fd uintptr) bool
}

// Dial connects to the Unix socket at path within ctx, whatever its type
// (stream, seqpacket or datagram). sndbuf, when positive, sets SO_SNDBUF;
// timeout, when positive, is the write deadline of every WriteRecords call.
func Dial(ctx context.Context, path string, framing Framing, timeout time.Duration, sndbuf int) (*Conn, error) {
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
	if c.message, c.noEmpty, c.maxMsg, err = socketKind(rc); err != nil {
		uc.Close()
		return nil, err
	}
	c.vec.init()
	c.writeFn = c.write // one method value for the Conn's life: no allocation per call (unix)
	if c.message {
		c.writeFn = c.sendmsgs
	}
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
	var err error
	if c.message {
		err = c.sendAll()
	} else {
		err = c.writeAll()
	}
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

// skipEmpty moves past empty records at c.done on a seqpacket socket,
// counting them as unsendable; the send loops call it before each batch.
func (c *Conn) skipEmpty() {
	for c.noEmpty && c.done < len(c.recs) && len(c.recs[c.done]) == 0 {
		c.unsendable++
		c.done++
	}
}

// Message reports whether the socket is message-oriented (SOCK_DGRAM or
// SOCK_SEQPACKET): one record per message, no framing.
func (c *Conn) Message() bool { return c.message }

// MaxMessage returns the largest record a message socket takes, from its
// send buffer size (0 for a stream socket or when unknown).
func (c *Conn) MaxMessage() int { return c.maxMsg }

// Unsendable returns how many records WriteRecords skipped, counting them
// as done, because the message socket cannot carry them (see Conn).
func (c *Conn) Unsendable() uint64 { return c.unsendable }

// Writevs returns how many writev system calls the Conn has made.
func (c *Conn) Writevs() uint64 { return c.writevs }

// Close closes the connection.
func (c *Conn) Close() error { return c.uc.Close() }
