//go:build linux || freebsd || netbsd || dragonfly

package baseline

import (
	"time"

	"golang.org/x/sys/unix"
)

// nap sleeps d in a raw nanosleep: time.Sleep waits in the runtime's
// poller, whose timer a socket event can end early or late (about a
// millisecond's resolution when nothing else wakes it), so a reader paced
// by it would read at a pace the writer's own traffic sets.
func nap(d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
