//go:build linux || darwin || freebsd

package uds

import (
	"io/fs"
	"syscall"
)

// peerCredSupported: the kernel records the listener's credentials
// (sockUID).
const peerCredSupported = true

// peerCred returns the uid of the process that made the listening socket
// at the other end of a connected stream or seqpacket socket: the
// credentials the kernel recorded at listen (sockUID).
func peerCred(rc syscall.RawConn) (uid uint32, err error) {
	var cerr error
	if err := rc.Control(func(fd uintptr) { uid, cerr = sockUID(int(fd)) }); err != nil {
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
