//go:build linux

package uds

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// peerCredSupported: SO_PEERCRED.
const peerCredSupported = true

// peerCred returns the uid of the process that made the listening socket
// at the other end of a connected stream or seqpacket socket (SO_PEERCRED:
// the credentials the kernel recorded at listen).
func peerCred(rc syscall.RawConn) (uid uint32, err error) {
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		var u *unix.Ucred
		if u, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); cerr == nil {
			uid = u.Uid
		}
	}); err != nil {
		return 0, err
	}
	return uid, cerr
}

// fileUID returns the owner of a file.
func fileUID(fi fs.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}
