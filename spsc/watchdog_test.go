package spsc

import (
	"fmt"
	"testing"

	"github.com/ringsink/ringsink/internal/watchdog"
)

// TestWatchdogRing hunts lost wake-ups in Wait the way mpsc's watchdog
// tests do (internal/watchdog): a small ring, the one producer in every
// watchdog.Mode (Credit sweeps each push across the consumer's spin, yield
// and park), and a consumer that drains and parks whenever the ring looks
// empty. If it ever sleeps through a publish, nothing else wakes it, the
// consumed count stops while values are pending, and the watchdog fails
// the test after 2 s. Each case runs for RINGSINK_STRESS (default 250 ms;
// .ci/run sets 3 s), in each of waitModes' modes, then checks that every
// accepted value arrived in order. Only the fence-every-park case can catch
// a fence that does not order (New's ring rarely reaches its fence within
// the stress's short pauses); the bounded cases recover within a
// millisecond, so they check liveness and order only.
//
// Every wait policy runs (watchdog.Policies) in every mode; spin has no
// park, so it runs once.
func TestWatchdogRing(t *testing.T) {
	for _, pol := range watchdog.Policies {
		for name, newRing := range waitModes() {
			if pol.Name == "spin" && name != "new" {
				continue
			}
			for _, mode := range watchdog.Modes {
				t.Run(fmt.Sprintf("%s/%s/%v", pol.Name, name, mode), func(t *testing.T) {
					r := newRing(32)
					r.SetWait(pol.Policy)
					watchdog.RunRing(t, r, 1, mode, r.park.IsParked)
				})
			}
		}
	}
}
