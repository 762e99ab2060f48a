package benchmarks

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	diodes "code.cloudfoundry.org/go-diodes"
	"github.com/Workiva/go-datastructures/queue"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/mpsc"
)

const queueCap = 1 << 12

// queueImpl moves values from producers to one consumer. push may fail
// (full); pop returns how many values it took (0: empty).
type queueImpl struct {
	name string
	make func() queueOps
}

type queueOps struct {
	push func(*int) bool
	pop  func(dst []*int) int
}

func queueImpls() []queueImpl {
	return []queueImpl{
		{"ringsink-mpsc", func() queueOps {
			r := mpsc.New[*int](queueCap)
			return queueOps{r.TryPush, r.TryPopBatch}
		}},
		{"chan", func() queueOps {
			ch := make(chan *int, queueCap)
			push := func(v *int) bool {
				select {
				case ch <- v:
					return true
				default:
					return false
				}
			}
			pop := func(dst []*int) int {
				n := 0
				for n < len(dst) {
					select {
					case dst[n] = <-ch:
						n++
						continue
					default:
					}
					break
				}
				return n
			}
			return queueOps{push, pop}
		}},
		{"go-diodes-manytoone", func() queueOps {
			// Drop-oldest: a push never fails; overwritten values (and, with
			// several producers, "set collisions", which it only logs) are
			// lost.
			d := diodes.NewManyToOne(queueCap, diodes.AlertFunc(func(int) {}))
			push := func(v *int) bool { d.Set(diodes.GenericDataType(unsafe.Pointer(v))); return true }
			pop := func(dst []*int) int {
				n := 0
				for n < len(dst) {
					v, ok := d.TryNext()
					if !ok {
						break
					}
					dst[n] = (*int)(unsafe.Pointer(v))
					n++
				}
				return n
			}
			return queueOps{push, pop}
		}},
		{"workiva-ringbuffer", func() queueOps {
			r := queue.NewRingBuffer(queueCap)
			push := func(v *int) bool { ok, _ := r.Offer(v); return ok }
			pop := func(dst []*int) int {
				n := 0
				for n < len(dst) && r.Len() > 0 {
					v, err := r.Poll(time.Millisecond)
					if err != nil {
						break
					}
					dst[n] = v.(*int)
					n++
				}
				return n
			}
			return queueOps{push, pop}
		}},
	}
}

// BenchmarkQueue: b.N values from 1, 4 and 16 producers to one consumer;
// a producer retries (yielding) when the queue is full. ns/op is per value.
// go-diodes never refuses (it overwrites the oldest): its lost/op metric
// says how much of its speed was bought with lost values.
func BenchmarkQueue(b *testing.B) {
	vals := make([]int, 1024)
	for _, producers := range []int{1, 4, 16} {
		for _, q := range queueImpls() {
			b.Run(fmt.Sprintf("impl=%s/producers=%d", q.name, producers), func(b *testing.B) {
				b.ReportAllocs()
				ops := q.make()
				var producing atomic.Bool
				producing.Store(true)
				got := make(chan int)
				go func() {
					dst := make([]*int, 256)
					n := 0
					for {
						if k := ops.pop(dst); k > 0 {
							n += k
							continue
						}
						if !producing.Load() {
							// Producers are done: one last look, counted.
							k := ops.pop(dst)
							if n += k; k == 0 {
								break
							}
							continue
						}
						runtime.Gosched()
					}
					got <- n
				}()
				baseline.Run(nil, b.N, producers, func(_, i int) {
					for !ops.push(&vals[i%len(vals)]) {
						runtime.Gosched()
					}
				})
				producing.Store(false)
				b.ReportMetric(float64(b.N-<-got)/float64(b.N), "lost/op")
			})
		}
	}
}
