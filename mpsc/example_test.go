package mpsc_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/ringsink/ringsink/mpsc"
)

// Many goroutines push; one consumer parks in Wait until values arrive.
func Example() {
	r := mpsc.New[int](1024)
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 100 {
				for !r.TryPush(p*100 + i) { // full: this producer chooses to retry
				}
			}
		})
	}

	sum, got := 0, 0
	batch := make([]int, 64)
	for got < 400 {
		n := r.TryPopBatch(batch)
		if n == 0 {
			_ = r.Wait(context.Background()) // parks; a push wakes it
			continue
		}
		for _, v := range batch[:n] {
			sum += v
		}
		got += n
	}
	wg.Wait()
	fmt.Println(got, sum)
	// Output: 400 79800
}

func ExampleRing_TryPush() {
	r := mpsc.New[string](2)
	fmt.Println(r.TryPush("a"), r.TryPush("b"), r.TryPush("c")) // full: drop-newest
	v, _ := r.TryPop()
	fmt.Println(v, r.Len())
	// Output:
	// true true false
	// a 1
}
