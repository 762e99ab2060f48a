package spsc

import (
	"testing"

	"github.com/ringsink/ringsink/internal/paced"
)

// BenchmarkPaced is mpsc's BenchmarkPaced for spsc.Ring (internal/paced):
// one producer pushes a value every gap through a Ring of capacity 1024
// with each wait policy (park: the default; linger: 1 ms; spin) and
// through a buffered channel of the same capacity, in interleaved rounds.
func BenchmarkPaced(b *testing.B) {
	paced.Rings(b, func(capacity int) paced.Ring { return New[int](capacity) })
}
