//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package uds

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// bootID returns the boot time (kern.boottime) as the boot's id. Zero if
// unreadable: recovery then trusts only sealed records. (If the clock is
// stepped the boot time may move, and recovery then trusts only sealed
// records, the safe side.)
func bootID() (id [16]byte) {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return id
	}
	binary.LittleEndian.PutUint64(id[:8], uint64(tv.Sec))
	binary.LittleEndian.PutUint64(id[8:], uint64(tv.Usec)|1<<63) // never all zero
	return id
}
