//go:build unix && !ringsink_portable

package uds

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// vectors is the iovec array one writev takes.
type vectors struct{ iov []unix.Iovec }

func (v *vectors) init()               { v.iov = make([]unix.Iovec, maxIov) }
func (v *vectors) set(i int, b []byte) { v.iov[i].Base = &b[0]; v.iov[i].SetLen(len(b)) }

// writeAll runs writev through the runtime poller until every record is
// written, the write deadline passes, or the socket fails.
func (c *conn) writeAll() error { return c.rc.Write(c.writeFn) }

// write is the RawConn callback: it issues writev calls until every record
// is written (true), the socket would block (false: the poller waits for
// room or the deadline), or an error occurs (true, with c.err set).
func (c *conn) write(fd uintptr) bool {
	for c.done < len(c.recs) {
		n := c.fill()
		if c.err != nil { // a Format panic on a torn record
			return true
		}
		if n == 0 { // only empty raw records left, or skipped ones
			c.advance(0)
			continue
		}
		// RawSyscall: the socket is non-blocking (the runtime poller set
		// O_NONBLOCK), so writev never blocks here; a full socket returns
		// EAGAIN and we wait in the poller. A plain Syscall would hand the
		// processor away for the call and, with producers busy on every core,
		// the consumer would wait a scheduler quantum to get it back after
		// each writev (docs/design.md, "Overload").
		w, _, errno := unix.RawSyscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&c.vec.iov[0])), uintptr(n))
		switch errno {
		case 0:
			c.sends++
			c.bytes += uint64(w)
			c.advance(int(w))
			c.wrote = c.wrote || w > 0
			c.refilled = c.refilled || c.full && w > 0
		case unix.EINTR:
		case unix.EAGAIN:
			c.full = true
			// With early, what the kernel took is reported (and released
			// from a spill file) before the wait; a torn record is
			// continued by the next call.
			return c.early && c.wrote
		default:
			c.sends++
			c.err = errno
			return true
		}
	}
	return true
}

// writevAllocFree: this path's writes allocate nothing.
const writevAllocFree = true

// writevEarly: this path returns early (conn.early) when a writev that made
// progress finds the socket full.
const writevEarly = true

// drained is asked when a write deadline expired: did the daemon consume
// anything while this deadline ran? Yes if the socket, once full, took
// bytes again (c.refilled: the poller woke the write because the daemon
// drained the socket to a quarter). A Unix socket reports room to the
// poller only at that quarter (Linux's unix_writable), but it takes bytes
// again as soon as the daemon has consumed one buffer the kernel queued
// (one writev is cut into buffers of up to half the send buffer, 32 KiB at
// most on current kernels); so one more non-blocking writev (or sendmmsg)
// outside the poller tells whether the daemon freed room since the socket
// was last full, and the bytes go out too. It writes what it can, as the
// poller's callback would, and may set c.err.
func (c *conn) drained(uint64) bool {
	before := c.bytes
	if err := c.rc.Control(c.probeFn); err != nil {
		return false
	}
	return c.bytes != before || c.refilled
}

// progressKnown: this path judges a stall by the daemon's progress.
const progressKnown = true
