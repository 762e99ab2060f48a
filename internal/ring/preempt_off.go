//go:build !ringsink_preempt

package ring

// preemptWindow is a no-op in normal builds; the compiler removes the call.
// Build with -tags ringsink_preempt to yield between claim and publish.
func preemptWindow() {}
