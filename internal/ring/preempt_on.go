//go:build ringsink_preempt

package ring

import "runtime"

// preemptWindow yields between a producer's claim and its publish, widening
// the window in which the consumer finds a claimed but unpublished record.
// Only the ringsink_preempt test build has it.
func preemptWindow() { runtime.Gosched() }
