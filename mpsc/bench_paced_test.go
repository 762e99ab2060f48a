package mpsc

import (
	"testing"

	"github.com/ringsink/ringsink/internal/paced"
)

// BenchmarkPaced is the paced-delivery benchmark (internal/paced): one
// producer pushes a value every gap through a Ring of capacity 1024 with
// each wait policy (park: the default, as New makes it; linger: 1 ms;
// spin) and through a buffered channel of the same capacity, in
// interleaved rounds, and reports each one's push p99 and delivery
// p50/p99 with their ratios to the channel's. Run it with -benchtime 100x
// or more (docs/benchmarks.md has the command).
func BenchmarkPaced(b *testing.B) {
	paced.Rings(b, func(capacity int) paced.Ring { return New[int](capacity) })
}
