package offline_test

import (
	"fmt"

	"github.com/ringsink/ringsink/offline"
)

func Example() {
	r := offline.New[string](2)
	r.Push("a")
	r.Push("b")
	evicted, _ := r.Push("c") // full: "a" is evicted and counted
	fmt.Println(evicted, r.Drain(nil), r.Dropped())
	// Output: a [b c] 1
}

// Send a prefix, then remove only what was sent: the unsent suffix stays.
func ExampleRing_Peek() {
	r := offline.New[string](4)
	for _, s := range []string{"r1", "r2", "r3"} {
		r.Push(s)
	}
	batch := make([]string, 4)
	n := r.Peek(batch)
	sent := 1 // say the write failed after the first record
	r.Discard(sent)
	fmt.Println(batch[:n], r.Drain(nil))
	// Output: [r1 r2 r3] [r2 r3]
}
