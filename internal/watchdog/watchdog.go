// Package watchdog supports the stress tests that hunt lost wake-ups: it
// watches a progress counter and reports when it stops moving while work is
// pending, so a wedged consumer fails a test in seconds instead of hanging
// it. Test support, not API.
package watchdog

import (
	"os"
	"sync"
	"time"

	"github.com/ringsink/ringsink/wait"
)

// Config says what to watch.
type Config struct {
	// Stall is how long Progress may stay unchanged while Pending reports
	// true before the watchdog reports a stall; defaults to 2 s.
	Stall time.Duration
	// Progress returns a counter that grows while the consumer works
	// (records popped, written, released).
	Progress func() uint64
	// Pending reports whether records are waiting for the consumer.
	Pending func() bool
	// OnStall is called once per stall, on the watchdog's goroutine, with
	// how long progress stood still. It should record the failure and may
	// unwedge the consumer (a Wake) so the test can finish.
	OnStall func(stalled time.Duration)
}

// Dog is a running watchdog.
type Dog struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	stalls int
}

// Start begins watching; call Stop when the test's work is done.
func Start(cfg Config) *Dog {
	if cfg.Stall <= 0 {
		cfg.Stall = 2 * time.Second
	}
	d := &Dog{stop: make(chan struct{})}
	d.wg.Go(func() {
		tick := time.NewTicker(cfg.Stall / 20)
		defer tick.Stop()
		last, since := cfg.Progress(), time.Now()
		for {
			select {
			case <-d.stop:
				return
			case <-tick.C:
			}
			now := cfg.Progress()
			if now != last || !cfg.Pending() {
				last, since = now, time.Now()
				continue
			}
			if stalled := time.Since(since); stalled >= cfg.Stall {
				d.mu.Lock()
				d.stalls++
				d.mu.Unlock()
				cfg.OnStall(stalled)
				since = time.Now() // report again only after another full stall
			}
		}
	})
	return d
}

// Stop ends the watch and returns how many stalls were reported.
func (d *Dog) Stop() int {
	close(d.stop)
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stalls
}

// Duration is how long each stress case runs: RINGSINK_STRESS (a Go
// duration, for example "20s" in CI) or def.
func Duration(def time.Duration) time.Duration {
	if v := os.Getenv("RINGSINK_STRESS"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	return def
}

// Policies are the consumer wait policies every stress test runs: the
// linger is short (it lasts about a millisecond on Linux's timers), so
// that the stress crosses from the linger to the park as often as it can.
var Policies = []struct {
	Name   string
	Policy wait.Policy
}{
	{"park", wait.Park()},
	{"linger", wait.Linger(50 * time.Microsecond)},
	{"spin", wait.Spin()},
}

// Case is one wait policy and producer count a stress test runs with.
type Case struct {
	Name      string // "default", or the name in Policies
	Policy    wait.Policy
	Producers int
}

// LingerDefaultCases are the cases for a consumer whose default is a
// linger (sink.Sink, uds.Writer): the default with 1, 2, 3 and 8
// producers, park and spin with 1 and 3 (the short linger of Policies
// would repeat the default).
func LingerDefaultCases() []Case {
	var cs []Case
	for _, n := range []int{1, 2, 3, 8} {
		cs = append(cs, Case{"default", wait.Policy{}, n})
	}
	for _, pol := range Policies {
		if pol.Name == "linger" {
			continue
		}
		for _, n := range []int{1, 3} {
			cs = append(cs, Case{pol.Name, pol.Policy, n})
		}
	}
	return cs
}
