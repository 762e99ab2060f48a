package offline

import (
	"fmt"
	"slices"
	"testing"
)

// TEST_0814, ring-only part, ported from the seed: capacity 3, push a, b,
// drain gives [a, b]; capacity 2, push a, b, c, drain gives [b, c] with one
// drop counted.
func TestSeedOfflineRingFIFO(t *testing.T) {
	r := New[string](3)
	r.Push("a")
	r.Push("b")
	if got := r.Drain(nil); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Drain() = %q; want [a b]", got)
	}
	if r.Dropped() != 0 {
		t.Fatalf("Dropped() = %d; want 0", r.Dropped())
	}
}

func TestSeedOfflineRingEvictsOldest(t *testing.T) {
	r := New[string](2)
	r.Push("a")
	r.Push("b")
	ev, did := r.Push("c")
	if !did || ev != "a" {
		t.Fatalf("Push(c) evicted %q, %v; want a, true", ev, did)
	}
	if got := r.Drain(nil); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("Drain() = %q; want [b c]", got)
	}
	if r.Dropped() != 1 {
		t.Fatalf("Dropped() = %d; want 1", r.Dropped())
	}
}

func TestBoundaries(t *testing.T) {
	const capa = 5
	for _, n := range []int{0, 1, capa - 1, capa, capa + 1, 3*capa + 2} {
		t.Run(fmt.Sprintf("push=%d", n), func(t *testing.T) {
			r := New[int](capa)
			for i := range n {
				r.Push(i)
			}
			wantDropped := max(n-capa, 0)
			if r.Dropped() != uint64(wantDropped) || r.Len() != min(n, capa) {
				t.Fatalf("Dropped %d, Len %d; want %d, %d", r.Dropped(), r.Len(), wantDropped, min(n, capa))
			}
			var want []int
			for i := wantDropped; i < n; i++ {
				want = append(want, i)
			}
			if got := r.Drain(nil); !slices.Equal(got, want) {
				t.Fatalf("Drain() = %v; want %v", got, want)
			}
			if r.Len() != 0 {
				t.Fatalf("Len %d after Drain", r.Len())
			}
		})
	}
}

func TestPeekDiscardKeepsSuffix(t *testing.T) {
	r := New[int](4)
	for i := range 6 { // wraps: holds 2 3 4 5
		r.Push(i)
	}
	dst := make([]int, 3)
	if n := r.Peek(dst); n != 3 || !slices.Equal(dst, []int{2, 3, 4}) {
		t.Fatalf("Peek = %d %v; want 3 [2 3 4]", n, dst)
	}
	if r.Discard(1) != 1 { // only the first was "sent"
		t.Fatal("Discard(1) did not remove one")
	}
	if got := r.Drain(nil); !slices.Equal(got, []int{3, 4, 5}) {
		t.Fatalf("after Discard(1): %v; want [3 4 5]", got)
	}
	if r.Discard(10) != 0 || r.Discard(-1) != 0 {
		t.Fatal("Discard on empty ring removed values")
	}
}

func TestDrainAfterManyWraps(t *testing.T) {
	r := New[int](7)
	for i := range 100_003 {
		r.Push(i)
		if i%5 == 0 {
			r.Pop()
		}
	}
	got := r.Drain(nil)
	for k := 1; k < len(got); k++ {
		if got[k] != got[k-1]+1 {
			t.Fatalf("Drain not contiguous at %d: %v", k, got)
		}
	}
	if got[len(got)-1] != 100_002 {
		t.Fatalf("newest = %d; want 100002", got[len(got)-1])
	}
}

func TestRemovedSlotsZeroed(t *testing.T) {
	r := New[*int](3)
	for range 5 {
		x := 0
		r.Push(&x)
	}
	r.Pop()
	r.Discard(1)
	r.Drain(nil)
	for i, p := range r.buf {
		if p != nil {
			t.Fatalf("slot %d still holds a pointer", i)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	r := New[[]byte](8)
	bufs := make([][]byte, 8)
	for i := range bufs {
		bufs[i] = make([]byte, 64)
	}
	dst := make([][]byte, 4)
	k := 0
	allocs := testing.AllocsPerRun(1000, func() {
		// Push recycled buffers, including evicted ones, and pop them back.
		if ev, ok := r.Push(bufs[k%8]); ok {
			bufs[k%8] = ev
		}
		k++
		r.Peek(dst)
		if v, ok := r.Pop(); ok {
			r.Push(v)
		}
	})
	if allocs != 0 {
		t.Fatalf("allocs per push/pop/peek = %v; want 0", allocs)
	}
}

func TestNewPanicsOnBadCapacity(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(0) did not panic")
		}
	}()
	New[int](0)
}
