//go:build unix

package uds

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ringsink/ringsink/mpsc"
)

// spillName is the ring file's name in Config.SpillDir; lockName the file
// whose flock says which Writer has the directory.
const (
	spillName = "ring"
	lockName  = "lock"
)

// spill is a byte ring kept in a memory-mapped file (Config.SpillDir),
// locked for one Writer at a time.
type spill struct {
	path string
	f    *os.File // the ring file
	lock *os.File // holds the flock while open
	mem  []byte   // the MAP_SHARED mapping the ring lives in
}

// openSpill locks dir's ring file (creating dir and the file as needed),
// maps it, and recovers the ring it holds, or formats a new one of
// ringBytes. Nothing in an existing file is changed when it fails.
func openSpill(dir string, ringBytes int) (*spill, *mpsc.ByteRing, mpsc.Recovery, error) {
	var rec mpsc.Recovery
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, rec, fmt.Errorf("uds: Config.SpillDir: %w", err)
	}
	s := &spill{path: filepath.Join(dir, spillName)}
	// The lock is on a file of its own, never mapped: a mapping holds the
	// file it maps open, so a flock on the ring file would outlive a
	// killed process for as long as anything holds its address space (seen:
	// the next Open, right after the kill, found it locked).
	lockPath := filepath.Join(dir, lockName)
	lock, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, rec, fmt.Errorf("uds: Config.SpillDir: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, nil, rec, fmt.Errorf("%w: %s", ErrSpillInUse, lockPath)
		}
		return nil, nil, rec, fmt.Errorf("uds: lock %s: %w", lockPath, err)
	}
	s.lock = lock
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		lock.Close()
		return nil, nil, rec, fmt.Errorf("uds: Config.SpillDir: %w", err)
	}
	s.f = f
	want := mpsc.DurableSize(ringBytes)
	ring, rec, err := s.mapRing(want)
	if errors.Is(err, mpsc.ErrDurableDamaged) && s.blank() {
		// All zeros, of the wrong size: an Open killed while it wrote the
		// file out. Nothing was ever in it; write it out again.
		s.unmap()
		if err = f.Truncate(0); err == nil {
			ring, rec, err = s.mapRing(want)
		}
	}
	if err == nil && rec.Records == 0 && len(s.mem) != want {
		skipped := rec
		// Empty, and of another size than Config.RingBytes asks for now:
		// start afresh at the new size. (A file holding records keeps its
		// size until they are sent.)
		s.unmap()
		if err = f.Truncate(0); err == nil {
			ring, rec, err = s.mapRing(want)
			rec.Unfinished, rec.Damaged, rec.Unverified = skipped.Unfinished, skipped.Damaged, skipped.Unverified
		}
	}
	if err != nil {
		s.unmap()
		f.Close()
		lock.Close()
		if errors.Is(err, mpsc.ErrDurableDamaged) {
			return nil, nil, rec, fmt.Errorf("uds: spill file %s: %w (nothing in it was changed; move it away to start afresh)", s.path, err)
		}
		return nil, nil, rec, fmt.Errorf("uds: spill file %s: %w", s.path, err)
	}
	return s, ring, rec, nil
}

// mapRing maps the file, sizing a new (empty) one to size, and opens the
// ring in it.
func (s *spill) mapRing(size int) (*mpsc.ByteRing, mpsc.Recovery, error) {
	fi, err := s.f.Stat()
	if err != nil {
		return nil, mpsc.Recovery{}, err
	}
	n := fi.Size()
	if n == 0 {
		// Written, not truncated: every block is allocated now, so a full
		// file system is an error here, never a SIGBUS in a store to the
		// mapping later.
		zeros := make([]byte, min(size, 1<<20))
		for off := 0; off < size; off += len(zeros) {
			if _, err := s.f.WriteAt(zeros[:min(len(zeros), size-off)], int64(off)); err != nil {
				s.f.Truncate(0)
				return nil, mpsc.Recovery{}, err
			}
		}
		// The new file's name reaches the disk with the directory.
		if d, err := os.Open(filepath.Dir(s.path)); err == nil {
			d.Sync()
			d.Close()
		}
		n = int64(size)
	}
	if n < mpsc.DurableHeader || n > int64(mpsc.DurableHeader)+1<<30 {
		return nil, mpsc.Recovery{}, fmt.Errorf("%w: %d bytes", mpsc.ErrDurableDamaged, n)
	}
	if err := preallocate(s.f, n); err != nil {
		return nil, mpsc.Recovery{}, err
	}
	s.mem, err = unix.Mmap(int(s.f.Fd()), 0, int(n), unix.PROT_READ|unix.PROT_WRITE, mapFlags)
	if err != nil {
		return nil, mpsc.Recovery{}, fmt.Errorf("mmap: %w", err)
	}
	// Store to every page once (adding 0), so that producers do not take
	// the write faults of a file mapping's first store to each page (on a
	// disk file system, a page_mkwrite per page). The kernel write-protects
	// a page again when it writes it back, so a producer may still take one
	// fault per page per writeback (every 30 s or so by default); a spill
	// directory on tmpfs has no writeback at all.
	for i := 0; i < len(s.mem); i += os.Getpagesize() {
		atomic.AddUint64((*uint64)(unsafe.Pointer(&s.mem[i])), 0)
	}
	return mpsc.NewDurableByteRing(s.mem, bootID())
}

// blank reports whether the file holds nothing but zeros.
func (s *spill) blank() bool {
	buf := make([]byte, 1<<20)
	for off := int64(0); ; off += int64(len(buf)) {
		n, err := s.f.ReadAt(buf, off)
		for _, b := range buf[:n] {
			if b != 0 {
				return false
			}
		}
		if err != nil {
			return errors.Is(err, io.EOF)
		}
	}
}

func (s *spill) unmap() {
	if s.mem != nil {
		unix.Munmap(s.mem)
		s.mem = nil
	}
}

// sync writes the mapping back to the disk and waits for it.
func (s *spill) sync() error { return msync(s.mem, unix.MS_SYNC) }

// msync is unix.Msync; a test counts the calls.
var msync = unix.Msync

// close unmaps the file and releases the lock. With live false (a producer
// may still store into the mapping) it keeps both: the mapping stays valid
// for that producer, and no other Writer can open the file under it.
func (s *spill) close(live bool) {
	if live {
		return
	}
	s.unmap()
	s.f.Close()
	s.lock.Close()
}
