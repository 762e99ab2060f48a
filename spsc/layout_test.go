package spsc

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/ringsink/ringsink/internal/pad"
	"github.com/ringsink/ringsink/internal/relstore"
)

// tailRing is the layout Ring had before issue 12: values alone in the
// array, and a shared tail (rigtorp's SPSCQueue with cached indices). The
// consumer learns of new values by loading the producer's tail, so when it
// keeps up, every push costs a transfer of the tail's line as well as the
// slot's. It is a benchmark-only alternative (BenchmarkLayout), kept so that
// the measurement in docs/benchmarks.md can be repeated.
type tailRing[T any] struct {
	_         pad.Line
	tail      relstore.Uint64 // next position to write; stored by the producer
	headCache uint64          // producer's copy of head
	_         pad.Line
	head      relstore.Uint64 // next position to read; stored by the consumer
	tailCache uint64          // consumer's copy of tail
	_         pad.Line
	mask      uint64
	buf       []T
}

func newTail[T any](capacity int) *tailRing[T] {
	return &tailRing[T]{mask: uint64(capacity - 1), buf: make([]T, capacity)}
}

func (r *tailRing[T]) TryPush(v T) bool {
	tail := r.tail.Load()
	if tail-r.headCache == uint64(len(r.buf)) {
		if r.headCache = r.head.Load(); tail-r.headCache == uint64(len(r.buf)) {
			return false
		}
	}
	r.buf[tail&r.mask] = v
	r.tail.Store(tail + 1) // publish
	return true
}

func (r *tailRing[T]) TryPop() (T, bool) {
	head := r.head.Load()
	if head == r.tailCache {
		if r.tailCache = r.tail.Load(); head == r.tailCache {
			var zero T
			return zero, false
		}
	}
	v := r.buf[head&r.mask]
	r.head.Store(head + 1) // release
	return v, true
}

func (r *tailRing[T]) TryPopBatch(dst []T) int {
	head := r.head.Load()
	if int(r.tailCache-head) < len(dst) {
		r.tailCache = r.tail.Load()
	}
	n := min(int(r.tailCache-head), len(dst))
	if n <= 0 {
		return 0
	}
	i := int(head & r.mask)
	c := copy(dst[:n], r.buf[i:])
	copy(dst[c:n], r.buf)
	r.head.Store(head + uint64(n)) // release
	return n
}

// TestTailRing checks the benchmark-only layout, so that BenchmarkLayout
// measures a correct queue: values arrive in order, none twice or lost.
func TestTailRing(t *testing.T) {
	r := newTail[int](8)
	const n = 200_000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; {
			if r.TryPush(i) {
				i++
			} else {
				runtime.Gosched()
			}
		}
	}()
	dst := make([]int, 5)
	for want := 0; want < n; {
		var got []int
		if want%3 == 0 {
			if v, ok := r.TryPop(); ok {
				got = []int{v}
			}
		} else {
			got = dst[:r.TryPopBatch(dst)]
		}
		if len(got) == 0 {
			runtime.Gosched()
		}
		for _, v := range got {
			if v != want {
				t.Fatalf("popped %d, want %d", v, want)
			}
			want++
		}
	}
	<-done
	if _, ok := r.TryPop(); ok {
		t.Fatal("a value after the last one")
	}
}

type intRing interface {
	TryPush(int) bool
	TryPop() (int, bool)
	TryPopBatch([]int) int
}

// BenchmarkLayout compares Ring's per-slot sequence numbers ("slots") with
// the shared tail it had before ("tail"), in the consumer styles of
// BenchmarkPushPop; ns/op is per value. Run it in interleaved rounds
// (docs/bench/rings.sh).
func BenchmarkLayout(b *testing.B) {
	for _, capa := range []int{1024, 16384} {
		for _, impl := range []struct {
			name string
			make func() intRing
		}{{"tail", func() intRing { return newTail[int](capa) }}, {"slots", func() intRing { return New[int](capa) }}} {
			for _, style := range []string{"spin", "pop", "drain"} {
				b.Run(fmt.Sprintf("impl=%s/style=%s/cap=%d", impl.name, style, capa), func(b *testing.B) {
					b.ReportAllocs()
					r := impl.make()
					go func() {
						for i := 0; i < b.N; {
							if r.TryPush(i) {
								i++
							} else {
								runtime.Gosched()
							}
						}
					}()
					dst := make([]int, 256)
					for got := 0; got < b.N; {
						n := 0
						switch style {
						case "drain":
							n = r.TryPopBatch(dst)
						default:
							if _, ok := r.TryPop(); ok {
								n = 1
							}
						}
						if n == 0 && style != "spin" {
							runtime.Gosched()
						}
						got += n
					}
				})
			}
		}
	}
}
