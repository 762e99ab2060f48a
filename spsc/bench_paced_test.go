package spsc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/paced"
	"github.com/ringsink/ringsink/wait"
)

// BenchmarkPaced is mpsc's BenchmarkPaced for spsc.Ring (internal/paced):
// one producer pushes a value every gap through a Ring of capacity 1024
// with each wait policy (park: the default; linger: 1 ms; spin) and
// through a buffered channel of the same capacity, in interleaved rounds.
func BenchmarkPaced(b *testing.B) {
	for _, gap := range paced.Gaps {
		b.Run(fmt.Sprintf("gap=%v", gap), func(b *testing.B) {
			paced.Run(b, gap, []paced.Impl{
				pacedRing("park", wait.Policy{}),
				pacedRing("linger", wait.Linger(time.Millisecond)),
				pacedRing("spin", wait.Spin()),
				paced.Chan(1024),
			})
		})
	}
}

// pacedRing is a Ring of 1024 waiting with p, consumed with TryPop and
// Wait when empty.
func pacedRing(name string, p wait.Policy) paced.Impl {
	r := New[int](1024)
	r.SetWait(p)
	return paced.Impl{
		Name: name,
		Push: r.TryPush,
		Recv: func() int {
			for {
				if v, ok := r.TryPop(); ok {
					return v
				}
				_ = r.Wait(context.Background())
			}
		},
	}
}
