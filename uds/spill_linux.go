package uds

import (
	"errors"
	"fmt"
	"os"

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
