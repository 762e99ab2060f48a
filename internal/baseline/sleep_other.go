//go:build !unix

package baseline

import "time"

// nap sleeps d (off Unix: time.Sleep; see sleep_unix.go for the reason to
// prefer a raw nanosleep).
func nap(d time.Duration) { time.Sleep(d) }
