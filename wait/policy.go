package wait

import (
	"strconv"
	"time"

	"github.com/ringsink/ringsink/internal/park"
)

// Policy is how a consumer waits when it finds nothing to read. Make one
// with Park, Linger or Spin; the zero Policy means the component's default
// (Park for the rings, a short Linger for sink and uds, as their docs say).
// A Policy is a small value, safe to copy and to compare.
type Policy struct {
	p park.Policy
}

// Park returns the Policy of a consumer that blocks like a channel
// receive: the next push wakes it.
func Park() Policy { return Policy{park.Policy{Kind: park.KindPark}} }

// Linger returns the Policy of a consumer that sleeps for up to d before it
// parks, woken earlier only by a push that fills a quarter to half of the
// ring (package doc), a record refused for want of room (after which its
// next wait parks, so that a ring full of records the consumer keeps does
// not wake it at every refusal), Wake or its context. Linger(d) with d <= 0
// is Park().
func Linger(d time.Duration) Policy {
	if d <= 0 {
		return Park()
	}
	return Policy{park.Policy{Kind: park.KindLinger, Linger: d}}
}

// Spin returns the Policy of a consumer that never blocks: it polls until
// a value comes, Wake is called or its context ends.
func Spin() Policy { return Policy{park.Policy{Kind: park.KindSpin}} }

// String names the policy: "park", "linger(1ms)", "spin", or "default" for
// the zero Policy.
func (p Policy) String() string {
	switch p.p.Kind {
	case park.KindPark:
		return "park"
	case park.KindLinger:
		return "linger(" + p.p.Linger.String() + ")"
	case park.KindSpin:
		return "spin"
	case park.KindDefault:
		return "default"
	}
	return "Policy(" + strconv.Itoa(int(p.p.Kind)) + ")"
}

// The rings and components read a Policy through internal/park, which
// cannot import this package (this package imports it): it gets the
// conversion here, before any of them can run (each imports this package).
func init() {
	park.PolicyOf = func(v any) park.Policy { return v.(Policy).p }
}
