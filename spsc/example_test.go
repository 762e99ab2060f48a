package spsc_test

import (
	"context"
	"fmt"
	"runtime"

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

// A consumer that parks when the ring is empty, as a channel receive would,
// instead of spinning: Wait returns when the producer's next push lands.
func ExampleRing_Wait() {
	r := spsc.New[int](8)
	go func() {
		for i := 1; i <= 3; i++ {
			for !r.TryPush(i) {
				runtime.Gosched() // full: let the consumer run
			}
		}
	}()
	ctx := context.Background()
	for got := 0; got < 3; {
		v, ok := r.TryPop()
		if !ok {
			_ = r.Wait(ctx) // nil unless ctx ends; pop again either way
			continue
		}
		fmt.Println(v)
		got++
	}
	// Output:
	// 1
	// 2
	// 3
}
