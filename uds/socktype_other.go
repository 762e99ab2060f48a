//go:build !unix

package uds

import "syscall"

// socketKind: off Unix only stream sockets exist (Windows' AF_UNIX).
func socketKind(syscall.RawConn) (message, noEmpty bool, maxMsg int, err error) {
	return false, false, 0, nil
}
