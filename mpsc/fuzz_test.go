package mpsc

import (
	"testing"

	"github.com/ringsink/ringsink/internal/model"
)

// FuzzRing decodes ops into pushes, pops and batch pops on a Ring and a
// mutex-and-slice model and checks they agree after every step.
func FuzzRing(f *testing.F) {
	f.Add(uint8(2), []byte{0, 0, 0, 0, 0, 1, 2, 7, 0, 2, 1})
	f.Add(uint8(0), []byte{0, 0, 1, 1, 2, 3})
	f.Fuzz(func(t *testing.T, capExp uint8, ops []byte) {
		r := New[int](1 << (capExp % 6))
		m := model.NewDropNewest[int](r.Cap())
		next := 0
		for i := 0; i < len(ops); i++ {
			switch ops[i] % 3 {
			case 0:
				stored, _, _ := m.Push(next)
				if got := r.TryPush(next); got != stored {
					t.Fatalf("op %d: TryPush(%d) = %v; model %v", i, next, got, stored)
				}
				next++
			case 1:
				want, wok := m.Pop()
				got, ok := r.TryPop()
				if ok != wok || got != want {
					t.Fatalf("op %d: TryPop() = %d, %v; model %d, %v", i, got, ok, want, wok)
				}
			case 2:
				arg := 0
				if i+1 < len(ops) {
					i++
					arg = int(ops[i] % 12)
				}
				want := m.PopN(arg)
				dst := make([]int, arg)
				n := r.TryPopBatch(dst)
				if n != len(want) {
					t.Fatalf("op %d: TryPopBatch(%d) = %d; model %d", i, arg, n, len(want))
				}
				for j := range want {
					if dst[j] != want[j] {
						t.Fatalf("op %d: dst[%d] = %d; model %d", i, j, dst[j], want[j])
					}
				}
			}
			if r.Len() != m.Len() || r.Ready() != (m.Len() > 0) {
				t.Fatalf("op %d: Len() = %d, Ready() = %v; model Len %d", i, r.Len(), r.Ready(), m.Len())
			}
		}
	})
}
