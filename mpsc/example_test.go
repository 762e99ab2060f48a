package mpsc_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ringsink/ringsink/mpsc"
)

// Many goroutines push; one consumer parks in Wait until values arrive.
func Example() {
	r := mpsc.New[int](1024)
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 100 {
				for !r.TryPush(p*100 + i) { // full: this producer chooses to retry,
					runtime.Gosched() // yielding, so that the consumer gets a processor
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

// The consumer reads records in place, writes them out, and releases only
// what was written; the rest is read again next time.
func ExampleByteRing() {
	r := mpsc.NewByteRing(4096)
	r.TryWrite([]byte("first"))
	r.TryWrite([]byte("second"))
	r.TryWrite([]byte("third"))

	recs := make([][]byte, 16)
	n := r.Peek(recs) // recs[:n] alias the ring: no copy
	fmt.Printf("%d records, first %q\n", n, recs[0])

	written := 2 // say writev took the first two records whole
	r.Release(written)

	n = r.Peek(recs)
	fmt.Printf("%d left: %q\n", n, recs[:n])
	// Output:
	// 3 records, first "first"
	// 1 left: ["third"]
}

// A record above MaxRecord is refused whatever the ring holds; compare with
// MaxRecord to tell "too large" from "full".
func ExampleByteRing_MaxRecord() {
	r := mpsc.NewByteRing(64)
	big := make([]byte, r.MaxRecord()+1)
	fmt.Println(r.MaxRecord(), r.TryWrite(big), len(big) > r.MaxRecord())
	// Output: 24 false true
}

// Wait returns when a value is ready, or with the context's error when the
// context ends first.
func ExampleRing_Wait() {
	r := mpsc.New[int](8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	fmt.Println(r.Wait(ctx)) // nothing pushed: the deadline ends it
	r.TryPush(1)
	fmt.Println(r.Wait(context.Background()))
	// Output:
	// context deadline exceeded
	// <nil>
}
