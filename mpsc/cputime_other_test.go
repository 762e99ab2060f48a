//go:build !unix

package mpsc

import "time"

// cpuTime: not measured here (BenchmarkPaced then omits cpu-ns/value).
func cpuTime() (time.Duration, bool) { return 0, false }
