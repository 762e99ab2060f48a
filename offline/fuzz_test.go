package offline

import (
	"slices"
	"testing"

	"github.com/ringsink/ringsink/internal/model"
)

// FuzzRing drives a Ring and the mutex-and-slice drop-oldest model with the
// same pushes, pops, peeks, discards and drains.
func FuzzRing(f *testing.F) {
	f.Add(uint8(2), []byte{0, 0, 0, 0, 1, 2, 3, 3, 4})
	f.Add(uint8(0), []byte{0, 0, 1, 0, 4, 0})
	f.Fuzz(func(t *testing.T, capa uint8, ops []byte) {
		c := int(capa%9) + 1
		r := New[int](c)
		m := model.NewDropOldest[int](c)
		next := 0
		for i, op := range ops {
			arg := int(op >> 3)
			switch op % 5 {
			case 0:
				_, mev, mdid := m.Push(next)
				ev, did := r.Push(next)
				if did != mdid || ev != mev {
					t.Fatalf("op %d: Push(%d) evicted %d, %v; model %d, %v", i, next, ev, did, mev, mdid)
				}
				next++
			case 1:
				v, ok := r.Pop()
				mv, mok := m.Pop()
				if ok != mok || v != mv {
					t.Fatalf("op %d: Pop() = %d, %v; model %d, %v", i, v, ok, mv, mok)
				}
			case 2:
				dst := make([]int, arg)
				k := r.Peek(dst)
				if want := m.Peek(arg); !slices.Equal(dst[:k], want) {
					t.Fatalf("op %d: Peek(%d) = %v; model %v", i, arg, dst[:k], want)
				}
			case 3:
				want := len(m.PopN(arg))
				if got := r.Discard(arg); got != want {
					t.Fatalf("op %d: Discard(%d) = %d; model %d", i, arg, got, want)
				}
			case 4:
				if got, want := r.Drain(nil), m.PopN(c); !slices.Equal(got, want) {
					t.Fatalf("op %d: Drain() = %v; model %v", i, got, want)
				}
			}
			if r.Len() != m.Len() || r.Dropped() != m.Dropped {
				t.Fatalf("op %d: Len %d Dropped %d; model %d, %d", i, r.Len(), r.Dropped(), m.Len(), m.Dropped)
			}
		}
	})
}
