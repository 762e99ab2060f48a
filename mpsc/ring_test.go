package mpsc

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/pow2"
)

func TestNewRoundsCapacity(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{1, 2}, {2, 2}, {3, 4}, {5, 8}, {1024, 1024}, {1025, 2048}} {
		if got := New[int](tc.in).Cap(); got != tc.want {
			t.Errorf("New(%d).Cap() = %d; want %d", tc.in, got, tc.want)
		}
	}
	// Above pow2.Max (2^62 on 64-bit) the rounding loop used to overflow to 0
	// and spin forever.
	for _, c := range []int{0, -1, pow2.Max + 1, math.MaxInt} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%d) did not panic", c)
				}
			}()
			New[int](c)
		}()
	}
}

func TestBoundaries(t *testing.T) {
	const capa = 8
	for _, n := range []int{0, 1, capa - 1, capa, capa + 1} {
		t.Run(fmt.Sprintf("push=%d", n), func(t *testing.T) {
			r := New[int](capa)
			accepted := 0
			for i := range n {
				if r.TryPush(i) {
					accepted++
				}
			}
			if want := min(n, capa); accepted != want {
				t.Fatalf("accepted %d; want %d", accepted, want)
			}
			if r.Len() != accepted {
				t.Fatalf("Len() = %d; want %d", r.Len(), accepted)
			}
			for i := range accepted {
				if v, ok := r.TryPop(); !ok || v != i {
					t.Fatalf("TryPop() = %d, %v; want %d, true", v, ok, i)
				}
			}
			if v, ok := r.TryPop(); ok {
				t.Fatalf("TryPop() on empty ring = %d, true", v)
			}
		})
	}
}

func TestWrapAroundManyTimes(t *testing.T) {
	r := New[int](4)
	dst := make([]int, 3)
	next, want := 0, 0
	for round := range 10_000 {
		k := round%4 + 1
		for range k {
			if !r.TryPush(next) {
				t.Fatalf("round %d: push refused with Len %d", round, r.Len())
			}
			next++
		}
		for want < next {
			n := r.TryPopBatch(dst)
			for _, v := range dst[:n] {
				if v != want {
					t.Fatalf("round %d: got %d; want %d", round, v, want)
				}
				want++
			}
		}
		if r.TryPopBatch(dst) != 0 {
			t.Fatal("TryPopBatch on empty ring moved values")
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	r := New[int](64)
	dst := make([]int, 16)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		r.TryPush(1)
		r.TryPush(2)
		r.TryPop()
		_ = r.Wait(ctx) // one value is ready: returns at once
		r.TryPopBatch(dst)
	})
	if allocs != 0 {
		t.Fatalf("allocs per push/pop/wait = %v; want 0", allocs)
	}
}

// TestStress checks exactly-once delivery and per-producer order with more
// producers than CPUs, many laps of a small ring, and a consumer that parks.
func TestStress(t *testing.T) {
	const total = 1 << 19
	for _, producers := range []int{1, 2, 4, 16, 64} {
		t.Run(fmt.Sprintf("producers=%d", producers), func(t *testing.T) {
			r := New[uint64](64)
			per := total / producers
			var wg sync.WaitGroup
			for p := range producers {
				wg.Go(func() {
					for i := 0; i < per; {
						if r.TryPush(uint64(p)<<32 | uint64(i)) {
							i++
						} else {
							runtime.Gosched()
						}
					}
				})
			}
			next := make([]int, producers)
			dst := make([]uint64, 32)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for got := 0; got < per*producers; {
				n := r.TryPopBatch(dst)
				if n == 0 {
					if err := r.Wait(ctx); err != nil {
						t.Fatalf("consumer stuck after %d of %d values: %v", got, per*producers, err)
					}
					continue
				}
				for _, v := range dst[:n] {
					p, i := int(v>>32), int(v&0xffffffff)
					if i != next[p] {
						t.Fatalf("producer %d: got seq %d; want %d", p, i, next[p])
					}
					next[p]++
				}
				got += n
			}
			wg.Wait()
			if v, ok := r.TryPop(); ok {
				t.Fatalf("extra value %x after all were received", v)
			}
		})
	}
}

// TestFullOnlyWhenFull: with the ring never more than cap-1 full, no push
// may fail, however hard producers race each other for the CAS.
func TestFullOnlyWhenFull(t *testing.T) {
	const producers, per = 8, 20_000
	r := New[int](producers * 2)
	var wg sync.WaitGroup
	var popped sync.WaitGroup
	tokens := make(chan struct{}, producers) // at most `producers` values in flight
	popped.Go(func() {
		for range producers * per {
			for {
				if _, ok := r.TryPop(); ok {
					break
				}
				runtime.Gosched()
			}
			<-tokens
		}
	})
	failures := make(chan int, producers)
	for range producers {
		wg.Go(func() {
			for i := range per {
				tokens <- struct{}{}
				if !r.TryPush(i) {
					failures <- i
					return
				}
			}
		})
	}
	wg.Wait()
	close(failures)
	for i := range failures {
		t.Fatalf("TryPush(%d) reported full with at most %d of %d slots used", i, producers, r.Cap())
	}
	popped.Wait()
}
