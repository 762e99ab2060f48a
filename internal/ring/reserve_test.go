package ring

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReserveHoldsAgainstRacingProducersAndPadding: more producers than
// CPUs claim records of mixed sizes (many pad at the buffer's end) with a
// reserve, while the consumer releases a few records at a time; whenever
// every goroutine has stopped, at least the reserve is free. Records are
// at most a quarter of the ring, and so is the reserve, so the empty
// ring's exception (a padded record may then take the reserve) cannot
// apply.
func TestReserveHoldsAgainstRacingProducersAndPadding(t *testing.T) {
	const capa, reserve = 4096, 1024
	r := NewByteRing(capa)
	producers := 4 * runtime.GOMAXPROCS(0)
	rounds := 200
	if testing.Short() {
		rounds = 20
	}
	buf := make([]byte, capa/4-hdrSize)
	batch := make([][]byte, 8)
	var accepted atomic.Uint64
	for round := range rounds {
		var stop atomic.Bool
		var wg sync.WaitGroup
		for g := range producers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				for !stop.Load() {
					n := rng.IntN(len(buf) + 1)
					if r.TryWriteReserve(buf[:min(3, n)], buf[min(3, n):n], reserve) {
						accepted.Add(1)
					} else {
						runtime.Gosched() // GOMAXPROCS=1: let the consumer run
					}
				}
			})
		}
		rng := rand.New(rand.NewPCG(uint64(round), 99))
		for end := time.Now().Add(2 * time.Millisecond); time.Now().Before(end); {
			if k := r.Peek(batch[:1+rng.IntN(len(batch))]); k > 0 {
				r.Release(rng.IntN(k + 1))
			}
			runtime.Gosched()
		}
		stop.Store(true)
		wg.Wait()
		if free := capa - r.Len(); free < reserve {
			t.Fatalf("round %d: %d bytes free after claims with a reserve of %d", round, free, reserve)
		}
	}
	if accepted.Load() == 0 {
		t.Fatal("no record was accepted")
	}
}
