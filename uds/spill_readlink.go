//go:build linux || darwin || freebsd || netbsd || openbsd

package uds

import "golang.org/x/sys/unix"

// readlinkAt returns the target of the symbolic link name in dirfd.
func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
