//go:build darwin || freebsd

package uds

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// peerCredSupported: LOCAL_PEERCRED.
const peerCredSupported = true

// peerCred returns the effective uid of the process at the other end of a
// connected stream socket (LOCAL_PEERCRED: the credentials the kernel
// recorded at listen).
func peerCred(rc syscall.RawConn) (uid uint32, err error) {
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		var x *unix.Xucred
		if x, cerr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED); cerr == nil {
			uid = x.Uid
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
