//go:build !(linux || freebsd || netbsd || dragonfly)

package baseline

import "time"

// nap sleeps d: time.Sleep where x/sys/unix has no Nanosleep (see
// sleep_nanosleep.go for why a raw nanosleep is better).
func nap(d time.Duration) { time.Sleep(d) }
