package wait_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ringsink/ringsink/mpsc"
	"github.com/ringsink/ringsink/wait"
)

// A consumer chooses how it waits once: here it lingers up to a
// millisecond, so a producer pushing a value every few microseconds pays
// no wake-up; the zero Policy (or wait.Park()) would make it wait like a
// channel receive, wait.Spin() would keep its core busy.
func Example() {
	r := mpsc.New[string](1024)
	r.SetWait(wait.Linger(time.Millisecond))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for got := 0; got < 3; {
			v, ok := r.TryPop()
			if !ok {
				_ = r.Wait(context.Background()) // lingers, then parks
				continue
			}
			fmt.Println(v)
			got++
		}
	}()
	for _, v := range []string{"a", "b", "c"} {
		r.TryPush(v)
	}
	<-done
	fmt.Println(wait.Linger(time.Millisecond), wait.Park(), wait.Spin(), wait.Policy{})
	// Output:
	// a
	// b
	// c
	// linger(1ms) park spin default
}
