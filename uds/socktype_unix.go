//go:build unix

package uds

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketKind reads the socket's type and, for a message socket, the largest
// message it takes: a Unix datagram longer than the send buffer (less the
// kernel's 32 bytes of overhead) fails with EMSGSIZE.
func socketKind(rc syscall.RawConn) (message, noEmpty bool, maxMsg int, err error) {
	var typ, sndbuf int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		if typ, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TYPE); serr == nil {
			sndbuf, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
		}
	}); err != nil {
		return false, false, 0, err
	}
	if serr != nil {
		return false, false, 0, fmt.Errorf("uds: getsockopt: %w", serr)
	}
	switch typ {
	case unix.SOCK_STREAM:
		return false, false, 0, nil
	case unix.SOCK_DGRAM, unix.SOCK_SEQPACKET:
		return true, typ == unix.SOCK_SEQPACKET, max(sndbuf-32, 0), nil
	}
	return false, false, 0, fmt.Errorf("uds: unsupported socket type %d", typ)
}

// sent accounts for one send call on a message socket that sent n messages
// (err nil) or failed with err, and tells the RawConn callback what to do:
// more to go on; otherwise return done (false: wait in the poller, for a
// full receive queue; true: stop, with c.err set). A message the socket
// refuses as too large is skipped and counted, and sending goes on.
func (c *conn) sent(n int, err error) (done, more bool) {
	switch err {
	case nil:
		c.sends++
		for _, l := range c.flen[c.done-c.base : c.done-c.base+n] {
			c.bytes += uint64(l)
		}
		c.done += n
		c.refilled = c.refilled || c.full && n > 0
	case unix.EINTR:
	case unix.EAGAIN, unix.ENOBUFS:
		c.full = true
		// With early, records the kernel took are reported (and released
		// from a spill file) before the wait: a kill during the wait would
		// otherwise have the next Open send them again.
		return c.early && c.done > 0, false
	case unix.EMSGSIZE:
		c.sends++
		c.skipped = append(c.skipped, c.done)
		c.unsendable++
		c.done++
	default:
		c.sends++
		c.err = err
		return true, false
	}
	return false, true
}
