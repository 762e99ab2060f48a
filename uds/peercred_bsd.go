//go:build darwin || freebsd

package uds

import "golang.org/x/sys/unix"

// sockUID is the peer's effective uid by LOCAL_PEERCRED.
func sockUID(fd int) (uint32, error) {
	x, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return 0, err
	}
	return x.Uid, nil
}
