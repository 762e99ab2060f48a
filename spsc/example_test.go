package spsc_test

import (
	"fmt"

	"github.com/ringsink/ringsink/spsc"
)

func Example() {
	r := spsc.New[string](4)
	r.TryPush("a")
	r.TryPushBatch([]string{"b", "c"})

	dst := make([]string, 8)
	n := r.TryPopBatch(dst)
	fmt.Println(dst[:n], r.Len())
	// Output: [a b c] 0
}

func ExampleRing_TryPush() {
	r := spsc.New[int](2)
	fmt.Println(r.TryPush(1), r.TryPush(2), r.TryPush(3)) // the third finds the ring full
	// Output: true true false
}
