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

// mmsgs is the reused sendmmsg argument: one header per record, maxIov of
// them, and up to three iovecs each (header, record, trailer).
type mmsgs struct {
	hdr []mmsghdr
	iov []unix.Iovec
}

// sendAll sends the records as messages with sendmmsg through the runtime
// poller, until all are sent, the deadline passes or the socket fails.
func (c *conn) sendAll() error {
	if c.mm.hdr == nil {
		c.mm = mmsgs{hdr: make([]mmsghdr, maxIov), iov: make([]unix.Iovec, 3*maxIov)}
	}
	return c.rc.Write(c.writeFn)
}

// sendmsgs is the RawConn callback for message sockets: like write, but
// one message per record. A full receive queue (EAGAIN, ENOBUFS) waits in
// the poller; a record the socket refuses as too large (EMSGSIZE: sendmmsg
// reports it only for the first message of a call) is skipped and counted.
func (c *conn) sendmsgs(fd uintptr) bool {
	for c.skipEmpty(); c.done < len(c.recs); c.skipEmpty() {
		n, v, batch := 0, 0, maxIov
		if c.noMmsg {
			batch = 1
		}
		c.startBatch()
		for k := c.done; k < len(c.recs) && n < batch && c.room(k); k++ {
			if c.unsendableEmpty(c.recs[k]) {
				break // skipped by the next skipEmpty, in order
			}
			hdr, body, trailer, ok := c.format3(c.recs[k])
			if !ok { // the Format panicked on it
				if n > 0 {
					break // the batch ends before it; it is first in the next
				}
				c.skipPanicked()
				continue
			}
			h := &c.mm.hdr[n]
			h.hdr = unix.Msghdr{}
			first := v
			for _, part := range [3][]byte{hdr, body, trailer} {
				if len(part) > 0 {
					c.mm.iov[v].Base = &part[0]
					c.mm.iov[v].SetLen(len(part))
					v++
				}
			}
			if v > first {
				h.hdr.Iov = &c.mm.iov[first]
				h.hdr.SetIovlen(v - first)
			}
			c.flen[k-c.base] = len(hdr) + len(body) + len(trailer)
			n++
		}
		if n == 0 {
			continue // every record left was skipped
		}
		// RawSyscall for the reason write gives: the socket is non-blocking.
		var r uintptr
		var errno unix.Errno
		if !c.noMmsg {
			r, _, errno = unix.RawSyscall6(sysSendmmsg, fd, uintptr(unsafe.Pointer(&c.mm.hdr[0])), uintptr(n), unix.MSG_NOSIGNAL, 0, 0)
			// A sandbox that filters sendmmsg out (seccomp: ENOSYS or
			// EPERM): one sendmsg per message from now on. If sendmsg is
			// refused as well, its error is the one reported.
			if c.noMmsg = errno == unix.ENOSYS || errno == unix.EPERM; c.noMmsg {
				continue // rebuild the batch as one message
			}
		}
		if c.noMmsg {
			r, _, errno = unix.RawSyscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&c.mm.hdr[0].hdr)), unix.MSG_NOSIGNAL)
			if errno == 0 {
				r = 1 // messages sent, not bytes
			}
		}
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

// sysSendmmsg is sendmmsg's system call number; a test sets an unknown one
// to see the fallback a sandbox without sendmmsg gets.
var sysSendmmsg uintptr = unix.SYS_SENDMMSG

// batchedMessages: message sockets get sendmmsg batches here.
const batchedMessages = true
