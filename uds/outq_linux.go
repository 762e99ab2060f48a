//go:build linux

package uds

import "golang.org/x/sys/unix"

// outqKnown: Linux tells a Unix socket's sender how much of what it sent
// the peer has not consumed (SIOCOUTQ).
const outqKnown = true

// outqState is what the rc.Control callbacks of outq and peerGone leave.
type outqState struct {
	outqFn, hupFn func(fd uintptr)
	n             int
	err           error
	hup           bool
	pfd           [1]unix.PollFd
}

func (c *conn) initOutq() {
	c.oq.outqFn = func(fd uintptr) { c.oq.n, c.oq.err = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }
	c.oq.hupFn = func(fd uintptr) {
		c.oq.pfd[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLRDHUP}
		n, err := unix.Poll(c.oq.pfd[:], 0)
		c.oq.hup = err == nil && n == 1 && c.oq.pfd[0].Revents&(unix.POLLHUP|unix.POLLRDHUP|unix.POLLERR) != 0
	}
}

// outq returns the bytes the kernel still charges to the socket for data
// the peer has not consumed (SIOCOUTQ: on a Unix socket, sk_wmem_alloc,
// the buffers' true size, so an upper bound on the unread payload). One
// ioctl, on the consumer goroutine.
func (c *conn) outq() (int, bool) {
	if err := c.rc.Control(c.oq.outqFn); err != nil || c.oq.err != nil {
		return 0, false
	}
	return c.oq.n, true
}

// peerGone reports whether the peer has closed its end of a stream or
// seqpacket connection (poll: HUP). A datagram socket is never told.
func (c *conn) peerGone() bool {
	c.oq.hup = false
	c.rc.Control(c.oq.hupFn)
	return c.oq.hup
}
