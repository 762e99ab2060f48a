//go:build linux

package park

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// membarrier(2) commands: MEMBARRIER_CMD_PRIVATE_EXPEDITED and its
// registration (Linux 4.14).
const (
	membarrierPrivateExpedited         = 1 << 3
	membarrierRegisterPrivateExpedited = 1 << 4
)

// The registration's state: heavyFence answers false (and the consumer
// stays on its timed steps) until it is heavyOK. Nothing registers until
// the first heavyFence or HeavyFenceAvailable.
const (
	heavyUnknown int32 = iota
	heavyRegistering
	heavyOK
	heavyRefused
)

var (
	heavyOnce  sync.Once
	heavyState atomic.Int32
)

func register() {
	_, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierRegisterPrivateExpedited, 0, 0)
	if e == 0 {
		heavyState.Store(heavyOK)
	} else {
		heavyState.Store(heavyRefused)
	}
}

// HeavyFenceAvailable reports whether heavyFence works in this process,
// registering for it first if nobody has: membarrier(2)'s private
// expedited command, which a kernel before 4.14 or a seccomp filter may
// refuse. The registration waits for an RCU grace period in a process with
// more than one thread (every Go process), which can take milliseconds.
func HeavyFenceAvailable() bool {
	heavyOnce.Do(register)
	return heavyState.Load() == heavyOK
}

// heavyFence runs a full memory barrier on every CPU that is running a
// thread of this process, and returns once they all have (membarrier(2),
// an IPI to each). After it, every store another goroutine made before its
// CPU's barrier is visible here, and every load that goroutine makes after
// the barrier sees what this goroutine stored before the call. It reports
// false, having ordered nothing, while the registration is not done, and
// for good once the kernel has refused.
//
// The first call starts the registration, in a goroutine of its own that
// ends with it (milliseconds), so that the consumer's park does not wait for
// it: nothing registers before a park needs the fence.
func heavyFence() bool {
	switch heavyState.Load() {
	case heavyOK:
	case heavyUnknown:
		if heavyState.CompareAndSwap(heavyUnknown, heavyRegistering) {
			go heavyOnce.Do(register)
		}
		return false
	default:
		return false
	}
	_, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierPrivateExpedited, 0, 0)
	if e != 0 {
		heavyState.Store(heavyRefused)
		return false
	}
	return true
}
