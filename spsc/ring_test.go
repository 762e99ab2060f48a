package spsc

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"testing"
	"unsafe"

	"github.com/ringsink/ringsink/internal/pow2"
)

func TestNewRoundsCapacity(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {1000, 1024}, {1024, 1024}} {
		if got := New[int](tc.in).Cap(); got != tc.want {
			t.Errorf("New(%d).Cap() = %d; want %d", tc.in, got, tc.want)
		}
	}
}

func TestNewPanicsOnBadCapacity(t *testing.T) {
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
				v, ok := r.TryPop()
				if !ok || v != i {
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
	next, want := 0, 0
	for round := range 10_000 {
		k := round%4 + 1
		for range k {
			if !r.TryPush(next) {
				t.Fatalf("round %d: push %d refused with Len %d", round, next, r.Len())
			}
			next++
		}
		for range k {
			v, ok := r.TryPop()
			if !ok || v != want {
				t.Fatalf("round %d: TryPop() = %d, %v; want %d, true", round, v, ok, want)
			}
			want++
		}
	}
}

func TestBatchWrapsAndIsPartial(t *testing.T) {
	r := New[int](8)
	src := []int{0, 1, 2, 3, 4, 5}
	if n := r.TryPushBatch(src); n != 6 {
		t.Fatalf("TryPushBatch = %d; want 6", n)
	}
	dst := make([]int, 5)
	if n := r.TryPopBatch(dst); n != 5 {
		t.Fatalf("TryPopBatch = %d; want 5", n)
	}
	// Head at 5, tail at 6: a batch of 10 wraps and only 7 fit.
	big := []int{6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if n := r.TryPushBatch(big); n != 7 {
		t.Fatalf("TryPushBatch = %d; want 7", n)
	}
	dst = make([]int, 16)
	n := r.TryPopBatch(dst)
	if n != 8 {
		t.Fatalf("TryPopBatch = %d; want 8", n)
	}
	for i, v := range dst[:n] {
		if v != 5+i {
			t.Fatalf("dst[%d] = %d; want %d", i, v, 5+i)
		}
	}
	if r.TryPushBatch(nil) != 0 || r.TryPopBatch(nil) != 0 {
		t.Fatal("empty batches moved values")
	}
}

func TestPopZeroesSlots(t *testing.T) {
	r := New[*int](4)
	for range 3 {
		x := 1
		r.TryPush(&x)
	}
	r.TryPop()
	r.TryPopBatch(make([]*int, 2))
	for i, p := range r.buf {
		if p != nil {
			t.Fatalf("slot %d still holds a pointer after pop", i)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	r := New[int](64)
	buf := make([]int, 16)
	allocs := testing.AllocsPerRun(1000, func() {
		r.TryPush(1)
		r.TryPushBatch(buf)
		r.TryPop()
		r.TryPopBatch(buf)
	})
	if allocs != 0 {
		t.Fatalf("allocs per push/pop = %v; want 0", allocs)
	}
}

// TestStress runs one producer and one consumer on separate goroutines,
// mixing single and batch operations, across many laps of a small ring.
func TestStress(t *testing.T) {
	const total = 1 << 20
	for _, capa := range []int{1, 2, 64} {
		t.Run(fmt.Sprintf("cap=%d", capa), func(t *testing.T) {
			r := New[uint64](capa)
			go func() {
				batch := make([]uint64, 7)
				for next := uint64(0); next < total; {
					pushed := 0
					if next%3 == 0 {
						n := min(len(batch), int(total-next))
						for i := range n {
							batch[i] = next + uint64(i)
						}
						pushed = r.TryPushBatch(batch[:n])
					} else if r.TryPush(next) {
						pushed = 1
					}
					next += uint64(pushed)
					if pushed == 0 {
						// Full: yield, so the consumer runs even at
						// GOMAXPROCS=1.
						runtime.Gosched()
					}
				}
			}()
			dst := make([]uint64, 5)
			for want := uint64(0); want < total; {
				if want%2 == 0 {
					n := r.TryPopBatch(dst)
					for _, v := range dst[:n] {
						if v != want {
							t.Fatalf("got %d; want %d", v, want)
						}
						want++
					}
					if n == 0 {
						runtime.Gosched()
					}
				} else if v, ok := r.TryPop(); ok {
					if v != want {
						t.Fatalf("got %d; want %d", v, want)
					}
					want++
				} else {
					runtime.Gosched()
				}
			}
		})
	}
}

// TestHasPointers: slots are zeroed exactly for the types the garbage
// collector scans (a miss would keep popped values alive).
func TestHasPointers(t *testing.T) {
	// The fields are read only through reflect.
	type plain struct {
		a int64             //lint:ignore U1000 read through reflect
		b [4]float64        //lint:ignore U1000 read through reflect
		c struct{ d uint8 } //lint:ignore U1000 read through reflect
	}
	type withString struct {
		a int    //lint:ignore U1000 read through reflect
		s string //lint:ignore U1000 read through reflect
	}
	for _, c := range []struct {
		typ  reflect.Type
		want bool
	}{
		{reflect.TypeFor[int](), false},
		{reflect.TypeFor[plain](), false},
		{reflect.TypeFor[[0]*int](), false},
		{reflect.TypeFor[[3]uintptr](), false},
		{reflect.TypeFor[*int](), true},
		{reflect.TypeFor[string](), true},
		{reflect.TypeFor[[]byte](), true},
		{reflect.TypeFor[withString](), true},
		{reflect.TypeFor[[2]withString](), true},
		{reflect.TypeFor[any](), true},
		{reflect.TypeFor[map[int]int](), true},
		{reflect.TypeFor[chan int](), true},
		{reflect.TypeFor[func()](), true},
		{reflect.TypeFor[unsafe.Pointer](), true},
	} {
		if got := hasPointers(c.typ); got != c.want {
			t.Errorf("hasPointers(%v) = %v; want %v", c.typ, got, c.want)
		}
	}
	if New[plain](4).clear || !New[withString](4).clear {
		t.Error("New chose the wrong zeroing")
	}
}
