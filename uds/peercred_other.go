//go:build !linux && !darwin && !freebsd

package uds

import (
	"errors"
	"io/fs"
	"syscall"
)

// peerCredSupported: no peer credentials here (Config.RequirePeerUID fails
// Open).
const peerCredSupported = false

func peerCred(syscall.RawConn) (uint32, error) {
	return 0, errors.ErrUnsupported
}

func fileUID(fs.FileInfo) (uint32, bool) { return 0, false }
