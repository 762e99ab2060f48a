//go:build !unix

package mpsc

import "time"

// cpuTime: not measured here.
func cpuTime() (time.Duration, bool) { return 0, false }
