//go:build linux && !ringsink_portable

package uds

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr: a msghdr and the bytes sent for it (Go pads
// it to the same size as C on 32- and 64-bit platforms).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// mmsgs is the reused sendmmsg argument: one header and one iovec per
// record, maxIov of each.
type mmsgs struct {
	hdr []mmsghdr
	iov []unix.Iovec
}

// sendAll sends the records as messages with sendmmsg through the runtime
// poller, until all are sent, the deadline passes or the socket fails.
func (c *Conn) sendAll() error {
	if c.mm.hdr == nil {
		c.mm = mmsgs{hdr: make([]mmsghdr, maxIov), iov: make([]unix.Iovec, maxIov)}
	}
	return c.rc.Write(c.writeFn)
}

// sendmsgs is the RawConn callback for message sockets: like write, but
// one message per record. A full receive queue (EAGAIN, ENOBUFS) waits in
// the poller; a record the socket refuses as too large (EMSGSIZE: sendmmsg
// reports it only for the first message of a call) is skipped and counted.
func (c *Conn) sendmsgs(fd uintptr) bool {
	for c.skipEmpty(); c.done < len(c.recs); c.skipEmpty() {
		n := 0
		for k := c.done; k < len(c.recs) && n < maxIov; k++ {
			rec := c.recs[k]
			if len(rec) == 0 && c.noEmpty {
				break // skipped by the next skipEmpty, in order
			}
			h := &c.mm.hdr[n]
			h.hdr = unix.Msghdr{}
			if len(rec) > 0 {
				c.mm.iov[n].Base = &rec[0]
				c.mm.iov[n].SetLen(len(rec))
				h.hdr.Iov = &c.mm.iov[n]
				h.hdr.SetIovlen(1)
			}
			n++
		}
		// RawSyscall for the reason write gives: the socket is non-blocking.
		r, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&c.mm.hdr[0])), uintptr(n), unix.MSG_NOSIGNAL, 0, 0)
		var err error
		if errno != 0 {
			err = errno
		}
		if done, more := c.sent(int(r), err); !more {
			return done
		}
	}
	return true
}

// batchedMessages: message sockets get sendmmsg batches here.
const batchedMessages = true
