package uds

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFlags: MAP_POPULATE faults the whole ring in at Open, so producers do
// not take the first page faults one page at a time.
const mapFlags = unix.MAP_SHARED | unix.MAP_POPULATE

// preallocate gives a new ring file its blocks up front: on a disk file
// system the first store to each page of a sparse file would otherwise
// allocate one, inside a producer's Write. Best effort: tmpfs and some
// file systems have nothing to allocate or refuse, and the file works
// either way.
func preallocate(f *os.File, size int) { unix.Fallocate(int(f.Fd()), 0, 0, int64(size)) }
