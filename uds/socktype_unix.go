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
