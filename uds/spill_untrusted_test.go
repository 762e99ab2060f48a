//go:build unix

package uds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The spill directory against files planted by someone else (issue 27):
// symbolic links, files of other users or open to them, a lock deleted by
// a temp cleaner, several spellings of one directory, a ring file removed
// from under its Writer, and who can truncate the mapped file.

// nobody is the uid (and gid) the tests give to another user's files.
const nobody = 65534

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to plant files of another user (chown)")
	}
}

// spillWith leaves a ring file holding n records in dir (the daemon is
// absent, so Close keeps them), and returns the ring file's path.
func spillWith(t *testing.T, path, dir string, n int) string {
	t.Helper()
	w := mustOpen(t, spillConfig(path, dir))
	writeNumbered(t, w, 0, n)
	if err := w.Close(); err != nil || w.Stats().Pending != uint64(n) {
		t.Fatalf("Close = %v, Pending %d; want nil and %d records kept for the next Open", err, w.Stats().Pending, n)
	}
	return filepath.Join(dir, "ring")
}

// snapshot is what a refused Open must leave as it was.
type snapshot struct {
	mode     os.FileMode
	uid, gid uint32
	data     []byte
}

func snap(t *testing.T, p string) snapshot {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	s := snapshot{mode: fi.Mode(), uid: st.Uid, gid: st.Gid}
	if fi.Mode().IsRegular() {
		s.data, _ = os.ReadFile(p)
	}
	return s
}

func (s snapshot) same(o snapshot) bool {
	return s.mode == o.mode && s.uid == o.uid && s.gid == o.gid && bytes.Equal(s.data, o.data)
}

// TestSpillNeverFollowsSymlinks: a symbolic link planted as the ring file,
// the old lock file or the directory itself is never followed: nothing is
// created or changed where it points.
func TestSpillNeverFollowsSymlinks(t *testing.T) {
	for _, tc := range []struct {
		name string
		// plant makes base's spill directory (base/spill unless it says
		// otherwise) and returns it, and the file the link points at.
		plant func(t *testing.T, base string) (dir, target string)
		// refused: Open must fail with ErrSpillUnsafe. Otherwise it may
		// succeed; either way the target must not change.
		refused bool
	}{
		{"dangling ring", func(t *testing.T, base string) (string, string) {
			dir, target := filepath.Join(base, "spill"), filepath.Join(base, "elsewhere")
			mkdir(t, dir)
			symlink(t, target, filepath.Join(dir, "ring"))
			return dir, target
		}, true},
		{"ring to an existing file", func(t *testing.T, base string) (string, string) {
			dir, target := filepath.Join(base, "spill"), filepath.Join(base, "precious")
			mkdir(t, dir)
			if err := os.WriteFile(target, []byte("not yours to overwrite\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			symlink(t, target, filepath.Join(dir, "ring"))
			return dir, target
		}, true},
		{"ring to an existing empty file", func(t *testing.T, base string) (string, string) {
			dir, target := filepath.Join(base, "spill"), filepath.Join(base, "empty")
			mkdir(t, dir)
			if err := os.WriteFile(target, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			symlink(t, target, filepath.Join(dir, "ring"))
			return dir, target
		}, true},
		{"dangling lock", func(t *testing.T, base string) (string, string) {
			dir, target := filepath.Join(base, "spill"), filepath.Join(base, "nologin")
			mkdir(t, dir)
			symlink(t, target, filepath.Join(dir, "lock"))
			return dir, target
		}, false},
		{"dangling directory", func(t *testing.T, base string) (string, string) {
			dir, target := filepath.Join(base, "spill"), filepath.Join(base, "nowhere")
			symlink(t, target, dir)
			return dir, target
		}, true},
		{"directory with a trailing slash", func(t *testing.T, base string) (string, string) {
			real, dir := filepath.Join(base, "real"), filepath.Join(base, "spill")
			mkdir(t, real)
			symlink(t, real, dir)
			return dir + "/", filepath.Join(real, "ring")
		}, true},
		{"directory", func(t *testing.T, base string) (string, string) {
			real, dir := filepath.Join(base, "real"), filepath.Join(base, "spill")
			mkdir(t, real)
			symlink(t, real, dir)
			return dir, filepath.Join(real, "ring")
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, base := sockPath(t), t.TempDir()
			dir, target := tc.plant(t, base)
			before, _ := os.ReadFile(target)
			_, statErr := os.Lstat(target)
			w, err := Open(spillConfig(path, dir))
			if err == nil {
				writeNumbered(t, w, 0, 10)
				w.Close()
			}
			switch {
			case tc.refused && !errors.Is(err, ErrSpillUnsafe):
				t.Errorf("Open = %v; want ErrSpillUnsafe", err)
			case tc.refused && !strings.Contains(err.Error(), dir):
				t.Errorf("Open = %v; want the path %s in it", err, dir)
			case !tc.refused && err != nil:
				t.Errorf("Open = %v; want nil (a stray link named lock is not used)", err)
			}
			after, err := os.ReadFile(target)
			_, statAfter := os.Lstat(target)
			switch {
			case os.IsNotExist(statErr) && !os.IsNotExist(statAfter):
				t.Errorf("the link's target %s was created (%d bytes); want it never made", target, len(after))
			case statErr == nil && !bytes.Equal(before, after):
				t.Errorf("the link's target %s: %d bytes, starting %q (err %v); want it unchanged, %q", target, len(after), after[:min(len(after), 16)], err, before)
			}
		})
	}
}

// TestSpillLinkSpelledAsDirIsRefused: the directory itself is never a
// symbolic link, however the path spells it: with "/." or "/./" after
// the link (which once made the kernel follow it: only trailing slashes
// were dropped), Open refuses it and creates nothing in the target.
func TestSpillLinkSpelledAsDirIsRefused(t *testing.T) {
	for _, tail := range []string{"/.", "/./", "//.//", "/"} {
		t.Run(tail, func(t *testing.T) {
			base := t.TempDir()
			real, link := filepath.Join(base, "real"), filepath.Join(base, "spill")
			mkdir(t, real)
			symlink(t, real, link)
			w, err := Open(spillConfig(sockPath(t), link+tail))
			if err == nil {
				w.Close()
			}
			if !errors.Is(err, ErrSpillUnsafe) || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("Open(%s%s) = %v; want ErrSpillUnsafe: a symbolic link", link, tail, err)
			}
			if ents, _ := os.ReadDir(real); len(ents) != 0 {
				t.Errorf("the link's target %s holds %d files; want none", real, len(ents))
			}
		})
	}
}

// TestSpillAncestorsOthersControlAreRefused: a directory on the way to
// SpillDir that another user controls (owns, or can write without the
// sticky bit), or a symbolic link on the way that another user owns,
// could steer where the Writer writes and which ring file it recovers as
// its own: Open refuses it with ErrSpillUnsafe naming it, and nothing is
// created or recovered where it points. A sticky directory of root's (as
// /tmp) and links of this user's are taken. (Through uid 65534's link,
// Open once recovered and would have sent another application's spill
// file.)
func TestSpillAncestorsOthersControlAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		root bool
		// plant returns the SpillDir to open and the path the error must
		// name ("" if Open must succeed).
		plant func(t *testing.T, base, victim string) (dir, named string)
	}{
		{"link of another user in a directory of theirs", true, func(t *testing.T, base, victim string) (string, string) {
			att := filepath.Join(base, "shared")
			mkdir(t, att)
			chmod(t, att, 0o777)
			chown(t, att)
			symlink(t, victim, filepath.Join(att, "app"))
			chown(t, filepath.Join(att, "app"))
			return filepath.Join(att, "app", "spill"), att
		}},
		{"link of another user in a sticky directory of root's", true, func(t *testing.T, base, victim string) (string, string) {
			att := filepath.Join(base, "tmp")
			mkdir(t, att)
			chmod(t, att, 0o1777)
			symlink(t, victim, filepath.Join(att, "app"))
			chown(t, filepath.Join(att, "app"))
			return filepath.Join(att, "app", "spill"), filepath.Join(att, "app")
		}},
		{"directory of another user", true, func(t *testing.T, base, victim string) (string, string) {
			att := filepath.Join(base, "theirs")
			mkdir(t, att)
			chmod(t, att, 0o755)
			chown(t, att)
			return filepath.Join(att, "app", "spill"), att
		}},
		{"directory others can write", false, func(t *testing.T, base, victim string) (string, string) {
			att := filepath.Join(base, "open")
			mkdir(t, att)
			chmod(t, att, 0o777)
			return filepath.Join(att, "app", "spill"), att
		}},
		{"sticky directory others can write", false, func(t *testing.T, base, victim string) (string, string) {
			att := filepath.Join(base, "tmp")
			mkdir(t, att)
			chmod(t, att, 0o1777)
			return filepath.Join(att, "app", "spill"), ""
		}},
		{"link of this user's", false, func(t *testing.T, base, victim string) (string, string) {
			symlink(t, victim, filepath.Join(base, "mine"))
			return filepath.Join(base, "mine", "spill"), ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				needRoot(t)
			}
			base := t.TempDir()
			chmod(t, base, 0o755)
			// Another application of this uid, with records in its spill file.
			victim := filepath.Join(base, "otherapp")
			path := sockPath(t)
			ring := spillWith(t, path, filepath.Join(victim, "spill"), 5)
			before := snap(t, ring)
			dir, named := tc.plant(t, base, victim)
			w, err := Open(spillConfig(path, dir))
			if named == "" {
				if err != nil {
					t.Fatalf("Open(%s) = %v; want nil", dir, err)
				}
				w.Close()
				return
			}
			if err == nil {
				rec := w.recovery.Records
				w.Close()
				t.Fatalf("Open(%s) = nil, recovered %d records; want ErrSpillUnsafe", dir, rec)
			}
			if !errors.Is(err, ErrSpillUnsafe) || !strings.Contains(err.Error(), named) {
				t.Errorf("Open(%s) = %v; want ErrSpillUnsafe naming %s", dir, err, named)
			}
			if after := snap(t, ring); !before.same(after) {
				t.Errorf("%s changed under a refused Open", ring)
			}
			if _, err := os.Lstat(filepath.Join(base, "theirs", "app")); err == nil {
				t.Errorf("Open created a directory in one of another user's")
			}
		})
	}
}

// TestSpillRefusesFilesOthersCanReach: a directory of another user, or one
// group or others have any permission on, and a ring file that is not a
// regular file of this user's, private, with one link, are refused with
// ErrSpillUnsafe and an error naming the path and the fix; nothing about
// them changes. (A directory others may only read was taken once: whoever
// can open it can flock it, and its flock is the Writer's lock.)
func TestSpillRefusesFilesOthersCanReach(t *testing.T) {
	for _, tc := range []struct {
		name   string
		root   bool                                        // needs root (chown)
		damage func(t *testing.T, dir, ring string) string // returns the path the error must name
		want   string                                      // and the fix it must say ("" for a directory that is taken)
	}{
		{"directory 0777", false, func(t *testing.T, dir, _ string) string { chmod(t, dir, 0o777); return dir }, "chmod 0700 %s"},
		{"directory 0770", false, func(t *testing.T, dir, _ string) string { chmod(t, dir, 0o770); return dir }, "chmod 0700 %s"},
		{"directory 1777", false, func(t *testing.T, dir, _ string) string { chmod(t, dir, 0o1777); return dir }, "chmod 0700 %s"},
		{"directory of another user", true, func(t *testing.T, dir, _ string) string { chown(t, dir); return dir }, "chown"},
		{"ring 0666", false, func(t *testing.T, _, ring string) string { chmod(t, ring, 0o666); return ring }, "chmod 0600 %s"},
		{"ring 0640", false, func(t *testing.T, _, ring string) string { chmod(t, ring, 0o640); return ring }, "chmod 0600 %s"},
		{"ring of another user", true, func(t *testing.T, _, ring string) string { chown(t, ring); return ring }, "owned by uid 65534"},
		{"ring with a second link", false, func(t *testing.T, dir, ring string) string {
			if err := os.Link(ring, filepath.Join(filepath.Dir(dir), "copy")); err != nil {
				t.Fatal(err)
			}
			return ring
		}, "2 links"},
		{"ring a named pipe", false, func(t *testing.T, _, ring string) string {
			os.Remove(ring)
			if err := unix.Mkfifo(ring, 0o600); err != nil {
				t.Fatal(err)
			}
			return ring
		}, "named pipe"},
		{"directory 0755", false, func(t *testing.T, dir, _ string) string { chmod(t, dir, 0o755); return dir }, "chmod 0700 %s"},
		{"directory 0750", false, func(t *testing.T, dir, _ string) string { chmod(t, dir, 0o750); return dir }, "chmod 0700 %s"},
		{"directory 0701", false, func(t *testing.T, dir, _ string) string { chmod(t, dir, 0o701); return dir }, "chmod 0700 %s"},
		{"directory 0700", false, func(t *testing.T, dir, _ string) string { chmod(t, dir, 0o700); return dir }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				needRoot(t)
			}
			path, dir := sockPath(t), filepath.Join(t.TempDir(), "spill")
			ring := spillWith(t, path, dir, 20)
			named := tc.damage(t, dir, ring)
			before := [2]snapshot{snap(t, dir), snap(t, ring)}
			done := make(chan struct{})
			var w *Writer
			var err error
			go func() { w, err = Open(spillConfig(path, dir)); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Open still blocked after 10 s")
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Open = %v; want nil", err)
				}
				if got := w.recovery.Records; got != 20 {
					t.Errorf("recovered %d records; want 20", got)
				}
				w.Close()
				return
			}
			if err == nil {
				w.Close()
				t.Fatalf("Open = nil; want ErrSpillUnsafe (%s)", tc.name)
			}
			want := strings.ReplaceAll(tc.want, "%s", named)
			if !errors.Is(err, ErrSpillUnsafe) || !strings.Contains(err.Error(), named) || !strings.Contains(err.Error(), want) {
				t.Errorf("Open = %v; want ErrSpillUnsafe naming %s and saying %q", err, named, want)
			}
			if after := [2]snapshot{snap(t, dir), snap(t, ring)}; !before[0].same(after[0]) || !before[1].same(after[1]) {
				t.Errorf("after the refused Open: %+v; want it unchanged, %+v", after, before)
			}
		})
	}
}

// TestSpillOtherUserCannotHoldTheLock: the directory's flock is the
// Writer's lock, so another user who could open the directory could keep
// every Open out (ErrSpillInUse). A directory others can open is refused
// (ErrSpillUnsafe, naming chmod 0700); in one Open takes, uid 65534's
// flock fails and the Writer opens.
func TestSpillOtherUserCannotHoldTheLock(t *testing.T) {
	needRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not found")
	}
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock (util-linux) not found")
	}
	for _, mode := range []os.FileMode{0o755, 0o700} {
		t.Run(fmt.Sprintf("%#o", mode), func(t *testing.T) {
			parent, err := os.MkdirTemp("", "spill")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(parent)
			chmod(t, parent, 0o755)
			dir := filepath.Join(parent, "spill")
			mkdir(t, dir)
			chmod(t, dir, mode)
			locker := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "flock", "-n", "-x", dir, "sh", "-c", "echo locked; sleep 10")
			out, err := locker.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := locker.Start(); err != nil {
				t.Skip(err)
			}
			defer func() { locker.Process.Kill(); locker.Wait() }()
			buf := make([]byte, 16)
			n, _ := out.Read(buf) // "locked", or EOF when flock could not open the directory
			locked := strings.HasPrefix(string(buf[:n]), "locked")
			w, err := Open(spillConfig(sockPath(t), dir))
			if err == nil {
				w.Close()
			}
			switch {
			case mode&0o077 != 0 && (!errors.Is(err, ErrSpillUnsafe) || !strings.Contains(err.Error(), "chmod 0700 "+dir)):
				t.Errorf("Open = %v (uid 65534 locked it: %v); want ErrSpillUnsafe naming chmod 0700 %s", err, locked, dir)
			case mode&0o077 == 0 && (err != nil || locked):
				t.Errorf("Open = %v, uid 65534 locked it: %v; want nil, false", err, locked)
			}
		})
	}
}

// TestSpillCreatesPrivateFiles: a directory Open creates is 0700, its ring
// file 0600, whatever the umask lets through.
func TestSpillCreatesPrivateFiles(t *testing.T) {
	path, dir := sockPath(t), filepath.Join(t.TempDir(), "a", "spill") // before the umask: a 0777 parent is refused
	old := unix.Umask(0)
	defer unix.Umask(old)
	w := mustOpen(t, spillConfig(path, dir))
	w.Close()
	for p, want := range map[string]os.FileMode{dir: os.ModeDir | 0o700, filepath.Dir(dir): os.ModeDir | 0o700, filepath.Join(dir, "ring"): 0o600} {
		if fi, err := os.Lstat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v); want %v", p, fi.Mode(), err, want)
		}
	}
}

// TestSpillLockOutlivesCleaner: a temp cleaner deletes every file in the
// spill directory under a running Writer; a second Open of the directory
// must still find it in use.
func TestSpillLockOutlivesCleaner(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	defer w.Close()
	writeNumbered(t, w, 0, 10)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	w2, err := Open(spillConfig(path, dir))
	if err == nil {
		w2.Close()
	}
	if !errors.Is(err, ErrSpillInUse) {
		t.Fatalf("second Open after the cleaner = %v; want ErrSpillInUse", err)
	}
}

// TestSpillOldLockFile: the lock file an earlier version kept in the
// directory is removed when no Writer holds it, and a directory whose old
// lock file is held (a Writer of that version) is in use.
func TestSpillOldLockFile(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	lock := filepath.Join(dir, "lock")
	if err := os.WriteFile(lock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(lock)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if w, err := Open(spillConfig(path, dir)); !errors.Is(err, ErrSpillInUse) {
		if err == nil {
			w.Close()
		}
		t.Errorf("Open with the old lock file held = %v; want ErrSpillInUse", err)
	}
	if _, err := os.Lstat(lock); err != nil {
		t.Errorf("a held old lock file was touched: %v", err)
	}
	f.Close() // the old Writer is gone
	w := mustOpen(t, spillConfig(path, dir))
	w.Close()
	if _, err := os.Lstat(lock); !os.IsNotExist(err) {
		t.Errorf("old lock file after Open: %v; want it removed", err)
	}
}

// TestSpillSpellingsOfOneDir: every spelling of one directory (through a
// symbolic link and "..", a trailing slash, "." and "//") reaches the same
// directory, the one the kernel resolves, and the same lock; "L/../x",
// with L a link, is the x beside L's target, not the x beside L.
func TestSpillSpellingsOfOneDir(t *testing.T) {
	path, base := sockPath(t), t.TempDir()
	mkdir(t, filepath.Join(base, "a", "b"))
	symlink(t, filepath.Join(base, "a", "b"), filepath.Join(base, "L"))
	symlink(t, filepath.Join(base, "a"), filepath.Join(base, "L2"))
	decoy := filepath.Join(base, "x") // where "L/../x" would be as text
	mkdir(t, decoy)
	real := filepath.Join(base, "a", "x") // where the kernel finds it

	dotdot := filepath.Join(base, "L") + "/../x"
	w := mustOpen(t, spillConfig(path, dotdot))
	writeNumbered(t, w, 0, 7)
	w.Close()
	if ents, _ := os.ReadDir(decoy); len(ents) != 0 {
		t.Errorf("%s holds %d files; want none (the directory is %s)", decoy, len(ents), real)
	}
	w = mustOpen(t, spillConfig(path, real))
	if got := w.recovery.Records; got != 7 {
		t.Errorf("Open of %s recovered %d records written through %s; want 7", real, got, dotdot)
	}
	defer w.Close()

	for _, spelling := range []string{dotdot, real + "/", filepath.Join(base, "a") + "/./x", filepath.Join(base, "a") + "//x", filepath.Join(base, "L2", "x")} {
		w2, err := Open(spillConfig(path, spelling))
		if err == nil {
			w2.Close()
		}
		if !errors.Is(err, ErrSpillInUse) {
			t.Errorf("Open(%s) with %s open = %v; want ErrSpillInUse", spelling, real, err)
		}
	}
}

// TestSpillCloseReportsRingGone: when the ring file is removed, renamed or
// replaced under a running Writer (or its directory renamed), Close does
// not say the unsent records were kept: it returns a *LostError counting
// them (wrapping ErrSpillLost), and Stats counts them in SpillLost. With SpillSync the consumer
// notices before Close (LastError).
func TestSpillCloseReportsRingGone(t *testing.T) {
	const n = 40
	for _, tc := range []struct {
		name   string
		sync   bool
		mutate func(t *testing.T, dir string) // what happens to the file
	}{
		{"removed", false, func(t *testing.T, dir string) { rm(t, filepath.Join(dir, "ring")) }},
		{"renamed", false, func(t *testing.T, dir string) { mv(t, filepath.Join(dir, "ring"), filepath.Join(dir, "ring.old")) }},
		{"replaced", false, func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "new"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			mv(t, filepath.Join(dir, "new"), filepath.Join(dir, "ring"))
		}},
		{"directory renamed", false, func(t *testing.T, dir string) { mv(t, dir, dir+".old") }},
		{"removed, with SpillSync", true, func(t *testing.T, dir string) { rm(t, filepath.Join(dir, "ring")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, dir := sockPath(t), filepath.Join(t.TempDir(), "spill")
			cfg := spillConfig(path, dir)
			if tc.sync {
				cfg.SpillSync = time.Millisecond
			}
			w := mustOpen(t, cfg)
			writeNumbered(t, w, 0, n)
			tc.mutate(t, dir)
			if tc.sync {
				waitFor(t, "LastError to say the file is gone", 5*time.Second, func() bool { return errors.Is(w.LastError(), ErrSpillLost) })
			}
			err := w.Close()
			var lost *LostError
			if !errors.As(err, &lost) || lost.SpillLost != n || lost.Unkept+lost.Evicted+lost.Unfinished != 0 ||
				!errors.Is(err, ErrSpillLost) || !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "kept") {
				t.Errorf("Close = %v; want a *LostError of %d records lost with the file, wrapping ErrSpillLost and the deadline, not a claim they were kept", err, n)
			}
			st := w.Stats()
			if st.SpillLost != n || st.Pending != 0 {
				t.Errorf("SpillLost %d, Pending %d; want %d, 0", st.SpillLost, st.Pending, n)
			}
			checkConservation(t, st)
			// The next Open of the same path, with nothing removed: the
			// records were in the file that moved, so it finds none.
			w = mustOpen(t, spillConfig(path, dir))
			if got := w.recovery.Records; got != 0 {
				t.Errorf("the next Open of %s recovered %d records; want 0, as Close said", dir, got)
			}
			w.Close()
		})
	}
}

// TestSpillRelativeDirSurvivesChdir: a relative SpillDir is the directory
// it named at Open; a chdir after (a daemon that moves to / once started)
// does not make Close count the records it left in the ring file as lost
// (they were counted lost by one Writer, then recovered and sent by the
// next).
func TestSpillRelativeDirSurvivesChdir(t *testing.T) {
	const n = 10
	base := t.TempDir()
	t.Chdir(base)
	path := sockPath(t) // no daemon: the records stay in the file
	w := mustOpen(t, spillConfig(path, "spill"))
	writeNumbered(t, w, 0, n)
	if err := os.Chdir(t.TempDir()); err != nil { // elsewhere; t.Chdir's cleanup restores it
		t.Fatal(err)
	}
	err := w.Close()
	st := w.Stats()
	if errors.Is(err, ErrSpillLost) || st.SpillLost != 0 || st.Pending != n {
		t.Errorf("Close = %v; SpillLost %d, Pending %d; want the %d records kept, none lost", err, st.SpillLost, st.Pending, n)
	}
	if err := os.Chdir(base); err != nil {
		t.Fatal(err)
	}
	w = mustOpen(t, spillConfig(path, "spill"))
	if got := w.recovery.Records; got != n {
		t.Errorf("the next Open from %s recovered %d records; want %d", base, got, n)
	}
	w.Close()
}

// TestSpillOthersCannotTruncate: truncating the mapped file kills the
// Writer's process with SIGBUS, so no other user may be able to: where
// Open takes a directory, another uid cannot truncate the ring file in
// it; a directory and file opened up to others are refused.
func TestSpillOthersCannotTruncate(t *testing.T) {
	needRoot(t)
	truncate, err := exec.LookPath("truncate")
	if err != nil {
		t.Skip("truncate (coreutils) not found")
	}
	for _, tc := range []struct {
		name string
		open func(t *testing.T, dir, ring string)
	}{
		{"as Open makes it", func(*testing.T, string, string) {}},
		{"opened up to others", func(t *testing.T, dir, ring string) { chmod(t, dir, 0o777); chmod(t, ring, 0o666) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, dir := sockPath(t), filepath.Join(t.TempDir(), "spill")
			// The test's own directories, open to others, so that only the
			// spill directory's own modes stand in their way.
			for p := filepath.Dir(dir); p != filepath.Dir(p) && strings.HasPrefix(p, os.TempDir()+"/"); p = filepath.Dir(p) {
				if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
					chmod(t, p, 0o755)
				}
			}
			ring := spillWith(t, path, dir, 10)
			tc.open(t, dir, ring)
			w, err := Open(spillConfig(path, dir))
			if err != nil {
				if !errors.Is(err, ErrSpillUnsafe) {
					t.Fatalf("Open = %v; want nil or ErrSpillUnsafe", err)
				}
				return // refused: nothing mapped
			}
			fi, _ := os.Stat(ring)
			cmd := exec.Command(truncate, "-s", "0", ring)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
			out, terr := cmd.CombinedOutput()
			if after, _ := os.Stat(ring); after != nil && after.Size() != fi.Size() {
				os.Truncate(ring, fi.Size()) // before a store can fault: back to zero pages, not SIGBUS
				t.Errorf("uid %d truncated the mapped ring file to %d bytes (%v %s); want it refused", nobody, after.Size(), terr, out)
			} else if terr == nil {
				t.Errorf("truncate as uid %d succeeded; want it refused", nobody)
			} else {
				t.Logf("truncate as uid %d: %v: %s", nobody, terr, bytes.TrimSpace(out))
			}
			w.Close()
		})
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := unix.Chmod(p, uint32(mode)); err != nil { // os.Chmod maps 01000 to ModeSticky, not the bit
		t.Fatal(err)
	}
}

func chown(t *testing.T, p string) {
	t.Helper()
	if err := os.Lchown(p, nobody, nobody); err != nil {
		t.Fatal(err)
	}
}

func rm(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

func mv(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}
