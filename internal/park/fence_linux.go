//go:build linux

package park

import (
	"sync"

	"golang.org/x/sys/unix"
)

// membarrier(2) commands: MEMBARRIER_CMD_PRIVATE_EXPEDITED and its
// registration (Linux 4.14).
const (
	membarrierPrivateExpedited         = 1 << 3
	membarrierRegisterPrivateExpedited = 1 << 4
)

var (
	heavyOnce sync.Once
	heavyOK   bool
)

// HeavyFenceAvailable reports whether heavyFence works in this process,
// registering for it on the first call: membarrier(2)'s private expedited
// command, which a kernel before 4.14 or a seccomp filter may refuse. The
// registration waits for an RCU grace period in a process with more than
// one thread (every Go process): 5-25 ms measured here.
func HeavyFenceAvailable() bool {
	heavyOnce.Do(func() {
		_, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierRegisterPrivateExpedited, 0, 0)
		heavyOK = e == 0
	})
	return heavyOK
}

// heavyFence runs a full memory barrier on every CPU that is running a
// thread of this process, and returns once they all have (membarrier(2),
// an IPI to each). After it, every store another goroutine made before its
// CPU's barrier is visible here, and every load that goroutine makes after
// the barrier sees what this goroutine stored before the call. It reports
// false if the kernel refused, in which case nothing is ordered.
// The first call registers (HeavyFenceAvailable), which can take
// milliseconds.
func heavyFence() bool {
	if !HeavyFenceAvailable() {
		return false
	}
	_, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierPrivateExpedited, 0, 0)
	return e == 0
}
