package uds

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// mapFlags: MAP_POPULATE faults the whole ring in at Open, so producers do
// not take the first page faults one page at a time.
const mapFlags = unix.MAP_SHARED | unix.MAP_POPULATE

// preallocate makes sure every block of the file exists before the file is
// mapped: a store into a mapped page without a block behind it (a sparse
// file, a full file system) is a SIGBUS, not an error. A new file was
// written out in full; an existing one may have been made sparse since.
// File systems without fallocate are taken as they are.
func preallocate(f *os.File, size int64) error {
	err := unix.Fallocate(int(f.Fd()), 0, 0, size)
	if err == nil || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return nil
	}
	return fmt.Errorf("allocate %d bytes: %w", size, err)
}

// bootID returns the running boot's id, which changes at every boot: what
// tells recovery that the page cache it trusts is the one that held the
// records. Zero if unreadable: recovery then trusts only sealed records.
func bootID() (id [16]byte) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return id
	}
	h, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(string(b)), "-", ""))
	if err != nil || len(h) != 16 {
		return id
	}
	return [16]byte(h)
}
