//go:build unix

package uds

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ringsink/ringsink/internal/ring"
)

// spillName is the ring file's name in Config.SpillDir. oldLockName is
// the lock file earlier versions kept beside it (now the directory itself
// is locked): Open removes one it can lock, and leaves anything else of
// that name alone.
const (
	spillName   = "ring"
	oldLockName = "lock"
)

// spill is a byte ring kept in a memory-mapped file (Config.SpillDir),
// locked for one Writer at a time.
type spill struct {
	path    string   // dir/ring as the caller spelled dir, for messages
	dirPath string   // Config.SpillDir as given, made absolute from the working directory at Open (gone)
	dir     int      // the directory, opened once: every file is found relative to it; holds the flock
	dirID   fileID   // the directory's device and inode
	id      fileID   // the ring file's device and inode
	f       *os.File // the ring file
	mem     []byte   // the MAP_SHARED mapping the ring lives in
}

// fileID is a file's device and inode.
type fileID struct{ dev, ino uint64 }

func idOf(st *unix.Stat_t) fileID { return fileID{uint64(st.Dev), uint64(st.Ino)} }

// openSpill opens dir once (creating it 0700 if missing), checks that it
// and its ring file can be trusted (checkDir, checkFile), locks it, maps
// the ring file (creating it 0600), and recovers the ring it holds, or
// formats a new one of ringBytes. Nothing in an existing file is changed
// when it fails.
//
// dir is resolved once, here, a component at a time (resolveDir): no
// directory on the way may be another user's to change, no link on the
// way another user's, and its last component must not be a symbolic link
// at all. Everything after is relative to the directory's descriptor
// (openat, fstatat, fsync), so no later rename or symlink along the path
// can steer a file operation elsewhere, and every spelling of one
// directory takes the same lock.
func openSpill(dir string, ringBytes int) (*spill, *ring.ByteRing, ring.Recovery, error) {
	var rec ring.Recovery
	abs, err := absoluteAtOpen(dir)
	if err != nil {
		return nil, nil, rec, err
	}
	dfd, err := resolveDir(dir, abs)
	if err != nil {
		return nil, nil, rec, err
	}
	s := &spill{path: under(dir, spillName), dirPath: abs, dir: dfd}
	fail := func(err error) (*spill, *ring.ByteRing, ring.Recovery, error) {
		s.unmap()
		if s.f != nil {
			s.f.Close()
		}
		unix.Close(dfd)
		return nil, nil, rec, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		return fail(fmt.Errorf("uds: Config.SpillDir: stat %s: %w", dir, err))
	}
	if err := checkDir(dir, &st); err != nil {
		return fail(err)
	}
	s.dirID = idOf(&st)
	// The lock is on the directory: a temp cleaner can delete a file from
	// under its holder (systemd-tmpfiles did that to Fluentd's lock files),
	// and then a second Writer would lock a new file and map the same ring;
	// it cannot remove a directory that is not empty, nor give a new one
	// the same inode while this descriptor holds it. Nor is the directory
	// mapped: a mapping keeps its file open, so a flock on the ring file
	// would outlive a killed process for as long as anything holds its
	// address space (seen: the next Open, right after the kill, found it
	// locked). The flock belongs to this open file description, so a second
	// Open in the same process is refused as well.
	if err := unix.Flock(dfd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return fail(fmt.Errorf("%w: %s", ErrSpillInUse, dir))
		}
		return fail(fmt.Errorf("uds: lock %s: %w", dir, err))
	}
	if err := s.dropOldLock(); err != nil {
		return fail(err)
	}
	if s.f, err = s.openRing(); err != nil {
		return fail(err)
	}
	f := s.f
	want := ring.DurableSize(ringBytes)
	r, rec, err := s.mapRing(want)
	if errors.Is(err, ring.ErrDurableDamaged) && s.blank() {
		// All zeros, of the wrong size: an Open killed while it wrote the
		// file out. Nothing was ever in it; write it out again.
		s.unmap()
		if err = f.Truncate(0); err == nil {
			r, rec, err = s.mapRing(want)
		}
	}
	if err == nil && rec.Records == 0 && len(s.mem) != want {
		skipped := rec
		// Empty, and of another size than Config.RingBytes asks for now:
		// start afresh at the new size. (A file holding records keeps its
		// size until they are sent.)
		s.unmap()
		if err = f.Truncate(0); err == nil {
			r, rec, err = s.mapRing(want)
			rec.Unfinished, rec.Damaged, rec.Unverified = skipped.Unfinished, skipped.Damaged, skipped.Unverified
		}
	}
	if err != nil {
		if errors.Is(err, ring.ErrDurableDamaged) {
			return fail(fmt.Errorf("%w: %s: %w (nothing in it was changed; move it away to start afresh)", ErrSpillDamaged, s.path, err))
		}
		return fail(fmt.Errorf("uds: spill file %s: %w", s.path, err))
	}
	return s, r, rec, nil
}

// openRing opens (or creates, 0600) the ring file relative to the
// directory, never following a symbolic link, and checks it (checkFile)
// before and after: a file that is not trusted is not even opened, so a
// named pipe or a device there cannot block or act on the open.
func (s *spill) openRing() (*os.File, error) {
	var st unix.Stat_t
	err := unix.Fstatat(s.dir, spillName, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case err == nil:
		if err := checkFile(s.path, &st); err != nil {
			return nil, err
		}
	case !errors.Is(err, unix.ENOENT):
		return nil, fmt.Errorf("uds: spill file %s: %w", s.path, err)
	}
	fd, err := unix.Openat(s.dir, spillName, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		if isSymlink(s.dir, spillName) { // planted since the fstatat
			return nil, fmt.Errorf("%w: %s is a symbolic link, which is never followed (remove it)", ErrSpillUnsafe, s.path)
		}
		return nil, fmt.Errorf("uds: spill file %s: %w", s.path, err)
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("uds: spill file %s: %w", s.path, err)
	}
	if err := checkFile(s.path, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	s.id = idOf(&st)
	return os.NewFile(uintptr(fd), s.path), nil
}

// dropOldLock removes the lock file an earlier version of this package
// kept in the directory, once its flock shows that no Writer of that
// version holds it (if one does, the directory is in use). It is opened
// relative to the directory, never following a link; anything named lock
// that is not a regular file is left alone, never opened. Called with the
// directory locked.
func (s *spill) dropOldLock() error {
	var st unix.Stat_t
	if err := unix.Fstatat(s.dir, oldLockName, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || uint32(st.Mode)&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	fd, err := unix.Openat(s.dir, oldLockName, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &st); err != nil || uint32(st.Mode)&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s (its %s is locked by a Writer of an earlier version)", ErrSpillInUse, s.dirPath, oldLockName)
		}
		return nil
	}
	unix.Unlinkat(s.dir, oldLockName, 0) // never follows a link
	return nil
}

// checkDir refuses a spill directory that another user owns or that
// group or others have any permission on: with write they could replace
// the ring file, or plant one whose records this process would send as
// its own; with read or search they could open the directory and flock
// it, and its flock is the Writer's lock (Open would fail with
// ErrSpillInUse for as long as they hold it).
func checkDir(path string, st *unix.Stat_t) error {
	mode := uint32(st.Mode)
	euid := os.Geteuid()
	switch {
	case mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("uds: Config.SpillDir %s is not a directory", path)
	case int(st.Uid) != euid:
		return fmt.Errorf("%w: directory %s is owned by uid %d, not by this process's effective uid %d (chown %d %s, or use a directory of your own)",
			ErrSpillUnsafe, path, st.Uid, euid, euid, path)
	case mode&0o022 != 0:
		return fmt.Errorf("%w: directory %s has mode %#o: group or others can write it (chmod 0700 %s)",
			ErrSpillUnsafe, path, mode&0o7777, path)
	case mode&0o077 != 0:
		return fmt.Errorf("%w: directory %s has mode %#o: group or others can open it, and whoever opens it can flock it and hold the Writer's lock (chmod 0700 %s)",
			ErrSpillUnsafe, path, mode&0o7777, path)
	}
	return nil
}

// checkFile refuses a ring file that is not a regular file of this user's
// with no group or other permission and one link: records may hold
// secrets, and a file another user can read, write, or reach by another
// name would leak them or send theirs as this process's own.
func checkFile(path string, st *unix.Stat_t) error {
	mode := uint32(st.Mode)
	euid := os.Geteuid()
	switch {
	case mode&unix.S_IFMT == unix.S_IFLNK:
		return fmt.Errorf("%w: %s is a symbolic link, which is never followed (remove it)", ErrSpillUnsafe, path)
	case mode&unix.S_IFMT != unix.S_IFREG:
		return fmt.Errorf("%w: %s is %s, not a regular file (remove it)", ErrSpillUnsafe, path, kindOf(mode))
	case int(st.Uid) != euid:
		return fmt.Errorf("%w: %s is owned by uid %d, not by this process's effective uid %d: its records would be sent as this process's own (remove it; chown %d it only if its records are yours)",
			ErrSpillUnsafe, path, st.Uid, euid, euid)
	case mode&0o077 != 0:
		return fmt.Errorf("%w: %s has mode %#o: group or others can reach its records (chmod 0600 %s)",
			ErrSpillUnsafe, path, mode&0o7777, path)
	case uint64(st.Nlink) != 1:
		return fmt.Errorf("%w: %s has %d links: its records can be reached by another name (remove the other links, or the file)",
			ErrSpillUnsafe, path, uint64(st.Nlink))
	}
	return nil
}

// kindOf names a file type (the S_IFMT bits of mode) for an error message.
func kindOf(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a named pipe"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFLNK:
		return "a symbolic link"
	}
	return fmt.Sprintf("of type %#o", mode&unix.S_IFMT)
}

// isSymlink reports whether name, relative to dirfd, is a symbolic link.
func isSymlink(dirfd int, name string) bool {
	var st unix.Stat_t
	return unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && uint32(st.Mode)&unix.S_IFMT == unix.S_IFLNK
}

// under names a file in dir for messages, as the caller spelled dir:
// filepath.Join would clean "L/../x" into "x", which is not where the
// kernel finds it when L is a symbolic link.
func under(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// absoluteAtOpen makes a relative path absolute from the working
// directory of now (Open's), as text: no cleaning, so "L/../x" stays what
// the kernel resolves, and a later chdir changes nothing.
func absoluteAtOpen(path string) (string, error) {
	if strings.HasPrefix(path, "/") {
		return path, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("uds: Config.SpillDir %s is relative, and the working directory is unknown: %w", path, err)
	}
	return strings.TrimRight(wd, "/") + "/" + path, nil
}

// maxSymlinks is how many symbolic links resolveDir follows for one path,
// as Linux's path walk (40) before ELOOP.
const maxSymlinks = 40

// resolveDir opens the directory abs names (Config.SpillDir, spelled dir
// by the caller, made absolute), one component at a time from the root,
// as the kernel would resolve it, creating missing components 0700, and
// returns its descriptor. Every directory on the way must be one no other
// user controls (checkAncestor: owned by root or this user, and writable
// by group or others only with the sticky bit, as /tmp); a symbolic link
// on the way is followed only if root or this user owns it (its directory
// passed the check); the last component (with only "." after it, or a
// trailing slash) must not be a link at all. ".." is the parent of the
// directory reached so far, as the kernel takes it. The directory itself
// is checked by the caller (checkDir). Each step is openat with
// O_NOFOLLOW|O_DIRECTORY from the descriptor before, so nothing on the
// way is resolved twice. (openssh's secure_path and StrictModes, and
// systemd's chase() with CHASE_SAFE, draw the same line.)
func resolveDir(dir, abs string) (int, error) {
	const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	root := func() (int, error) {
		fd, err := unix.Open("/", dirFlags, 0)
		if err != nil {
			return -1, fmt.Errorf("uds: Config.SpillDir %s: open /: %w", dir, err)
		}
		if err := checkAncestorFd(dir, "/", fd); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}
	fd, err := root()
	if err != nil {
		return -1, err
	}
	fail := func(err error) (int, error) {
		unix.Close(fd)
		return -1, err
	}
	at, rest, links := "", abs, 0 // at: the directory reached so far, as text for messages
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			return fd, nil
		}
		var name string
		name, rest, _ = strings.Cut(rest, "/")
		if name == "." {
			continue
		}
		last := onlyDots(rest)
		here := at + "/" + name
		if name != ".." {
			var st unix.Stat_t
			err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
			switch {
			case errors.Is(err, unix.ENOENT):
				if err := unix.Mkdirat(fd, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
					return fail(fmt.Errorf("uds: Config.SpillDir %s: %w", dir, &os.PathError{Op: "mkdir", Path: here, Err: err}))
				}
			case err != nil:
				return fail(fmt.Errorf("uds: Config.SpillDir %s: %w", dir, &os.PathError{Op: "stat", Path: here, Err: err}))
			case uint32(st.Mode)&unix.S_IFMT == unix.S_IFLNK:
				if last {
					return fail(fmt.Errorf("%w: %s is a symbolic link, which is never followed (name the directory itself)", ErrSpillUnsafe, dir))
				}
				if uid := int(st.Uid); uid != 0 && uid != os.Geteuid() {
					return fail(fmt.Errorf("%w: %s, on the way to Config.SpillDir %s, is a symbolic link owned by uid %d, neither root nor this process's effective uid %d: it could steer where the Writer writes (name the directory it should lead to)",
						ErrSpillUnsafe, here, dir, uid, os.Geteuid()))
				}
				if links++; links > maxSymlinks {
					return fail(fmt.Errorf("uds: Config.SpillDir %s: %w", dir, &os.PathError{Op: "resolve", Path: here, Err: unix.ELOOP}))
				}
				target, err := readlinkAt(fd, name)
				if err != nil {
					return fail(fmt.Errorf("uds: Config.SpillDir %s: %w", dir, &os.PathError{Op: "readlink", Path: here, Err: err}))
				}
				rest = target + "/" + rest
				if strings.HasPrefix(target, "/") {
					unix.Close(fd)
					if fd, err = root(); err != nil {
						return -1, err
					}
					at = ""
				}
				continue
			}
		}
		nfd, err := unix.Openat(fd, name, dirFlags, 0)
		if err != nil {
			if isSymlink(fd, name) { // planted since the fstatat
				return fail(fmt.Errorf("%w: %s became a symbolic link while Open resolved Config.SpillDir %s", ErrSpillUnsafe, here, dir))
			}
			return fail(fmt.Errorf("uds: Config.SpillDir %s: %w", dir, &os.PathError{Op: "open", Path: here, Err: err}))
		}
		unix.Close(fd)
		fd, at = nfd, here
		if !last { // the directory itself gets checkDir, which is stricter
			if err := checkAncestorFd(dir, here, fd); err != nil {
				return fail(err)
			}
		}
	}
}

// onlyDots reports whether a rest of a path names nothing more: only
// slashes and "." components.
func onlyDots(rest string) bool {
	for _, c := range strings.Split(rest, "/") {
		if c != "" && c != "." {
			return false
		}
	}
	return true
}

// checkAncestorFd is checkAncestor for an open directory.
func checkAncestorFd(dir, here string, fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("uds: Config.SpillDir %s: %w", dir, &os.PathError{Op: "stat", Path: here, Err: err})
	}
	return checkAncestor(dir, here, &st)
}

// checkAncestor refuses a directory on the way to the spill directory
// that another user controls: one owned by a uid other than root or this
// process's effective uid, or one group or others can write without the
// sticky bit. Whoever controls it can rename what is in it and put a
// link or a directory of theirs in its place, steering where the Writer
// writes and which ring file it recovers as its own. (A sticky directory
// such as /tmp lets others add entries but not replace this user's;
// what is found in it is checked in turn.)
func checkAncestor(dir, here string, st *unix.Stat_t) error {
	const sticky = 0o1000
	mode := uint32(st.Mode)
	switch uid := int(st.Uid); {
	case uid != 0 && uid != os.Geteuid():
		return fmt.Errorf("%w: directory %s, on the way to Config.SpillDir %s, is owned by uid %d, neither root nor this process's effective uid %d: it could steer where the Writer writes (use a directory whose ancestors only root and this user control)",
			ErrSpillUnsafe, here, dir, uid, os.Geteuid())
	case mode&0o022 != 0 && mode&sticky == 0:
		return fmt.Errorf("%w: directory %s, on the way to Config.SpillDir %s, has mode %#o: group or others can write it, and without the sticky bit they can replace what is in it (chmod go-w %s, or chmod +t)",
			ErrSpillUnsafe, here, dir, mode&0o7777, here)
	}
	return nil
}

// gone reports whether the ring file can no longer be found where the next
// Open will look: the directory this Writer locked was removed (no links
// left), or Config.SpillDir no longer names it (renamed; the path is the
// one Open resolved, made absolute from the working directory at Open, so
// a later chdir changes nothing), or its ring no longer names the mapped
// file (removed, renamed, replaced). The records still in the mapping then
// reach no later Open. A stat error other than "not there" answers false:
// nothing says the file moved.
func (s *spill) gone() bool {
	var st unix.Stat_t
	if err := unix.Fstatat(s.dir, spillName, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return errors.Is(err, unix.ENOENT)
	}
	if idOf(&st) != s.id {
		return true
	}
	if err := unix.Fstat(s.dir, &st); err == nil && st.Nlink == 0 {
		return true
	}
	if err := unix.Fstatat(unix.AT_FDCWD, s.dirPath, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)
	}
	return idOf(&st) != s.dirID
}

// mapRing maps the file, sizing a new (empty) one to size, and opens the
// ring in it.
func (s *spill) mapRing(size int) (*ring.ByteRing, ring.Recovery, error) {
	fi, err := s.f.Stat()
	if err != nil {
		return nil, ring.Recovery{}, err
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
				return nil, ring.Recovery{}, err
			}
		}
		// The new file's name reaches the disk with the directory.
		unix.Fsync(s.dir)
		n = int64(size)
	}
	if n < ring.DurableHeader || n > int64(ring.DurableHeader)+1<<30 {
		return nil, ring.Recovery{}, fmt.Errorf("%w: %d bytes", ring.ErrDurableDamaged, n)
	}
	if err := preallocate(s.f, n); err != nil {
		return nil, ring.Recovery{}, err
	}
	s.mem, err = unix.Mmap(int(s.f.Fd()), 0, int(n), unix.PROT_READ|unix.PROT_WRITE, mapFlags)
	if err != nil {
		return nil, ring.Recovery{}, fmt.Errorf("mmap: %w", err)
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
	return ring.NewDurableByteRing(s.mem, bootID())
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

// close unmaps the file and releases the lock (closing the directory).
// With live true (a producer may still store into the mapping) it keeps
// both: the mapping stays valid for that producer, and no other Writer can
// open the file under it.
func (s *spill) close(live bool) {
	if live {
		return
	}
	s.unmap()
	s.f.Close()
	unix.Close(s.dir)
}
