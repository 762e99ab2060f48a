package spsc

import (
	"context"
	"testing"

	"github.com/ringsink/ringsink/internal/model"
)

// FuzzRing decodes ops into pushes, pops, batches and waits on a Ring and
// a mutex-and-slice model and checks they agree after every step. A wait
// runs with a cancelled context: it must return nil when the model holds a
// value and the context's error when it is empty.
func FuzzRing(f *testing.F) {
	f.Add(uint8(3), []byte{0, 0, 0, 0, 0, 1, 1, 2, 7, 3, 5})
	f.Add(uint8(0), []byte{2, 9, 3, 9, 2, 3, 0, 1})
	f.Add(uint8(2), []byte{4, 0, 4, 1, 4})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	f.Fuzz(func(t *testing.T, capExp uint8, ops []byte) {
		capa := 1 << (capExp % 6)
		r := New[int](capa)
		m := model.NewDropNewest[int](capa)
		next := 0
		for i := 0; i < len(ops); i++ {
			op, arg := ops[i]%5, 0
			if (op == 2 || op == 3) && i+1 < len(ops) {
				i++
				arg = int(ops[i] % 12)
			}
			switch op {
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
				src := make([]int, arg)
				stored := 0
				for j := range src {
					src[j] = next + j
				}
				for _, v := range src {
					if ok, _, _ := m.Push(v); ok {
						stored++
					}
				}
				next += arg
				if n := r.TryPushBatch(src); n != stored {
					t.Fatalf("op %d: TryPushBatch(%d) = %d; model %d", i, arg, n, stored)
				}
			case 3:
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
			case 4:
				err := r.Wait(cancelled)
				if want := m.Len() > 0; (err == nil) != want {
					t.Fatalf("op %d: Wait(cancelled) = %v with %d values in the model", i, err, m.Len())
				}
			}
			if r.Len() != m.Len() {
				t.Fatalf("op %d: Len() = %d; model %d", i, r.Len(), m.Len())
			}
		}
	})
}
