package mpsc

import (
	"strconv"

	"github.com/ringsink/ringsink/internal/park"
)

// WaitReason tells why WaitChan or WaitUnsealed returned.
type WaitReason uint8

const (
	// WaitReady: a value (record) is ready to read.
	WaitReady WaitReason = iota
	// WaitWoken: Wake, Close or a producer's wake-up token ended the wait;
	// the ring may still be empty (re-check).
	WaitWoken
	// WaitDone: the done channel was closed.
	WaitDone
	// WaitTimeout: the timer channel fired.
	WaitTimeout
)

// The reasons are park's, converted (WaitChan returns WaitReason(r)): a
// constant index out of range, or a negative one, fails the build if they
// drift apart.
var _ = [1]struct{}{}[WaitReady-WaitReason(park.Ready)+
	WaitWoken-WaitReason(park.Woken)+
	WaitDone-WaitReason(park.Done)+
	WaitTimeout-WaitReason(park.Timeout)]

// String names the reason, e.g. "ready".
func (w WaitReason) String() string {
	switch w {
	case WaitReady:
		return "ready"
	case WaitWoken:
		return "woken"
	case WaitDone:
		return "done"
	case WaitTimeout:
		return "timeout"
	}
	return "WaitReason(" + strconv.Itoa(int(w)) + ")"
}
