//go:build !linux

package park

// HeavyFenceAvailable reports whether heavyFence works: only on Linux
// (membarrier(2)).
func HeavyFenceAvailable() bool { return false }

// heavyFence is not available here: it orders nothing and says so.
func heavyFence() bool { return false }
