package relstore

import (
	"runtime"
	"testing"
	"unsafe"
)

// TestPublishesEarlierWrites: a writer fills a payload, then release-stores
// its sequence number; a reader that loads the number must see the payload
// it covers. Without the race detector this runs the amd64 assembly.
func TestPublishesEarlierWrites(t *testing.T) {
	const rounds = 200_000
	var seq, ack Uint64 // seq: writer → reader; ack: reader → writer
	payload := make([]uint64, 8)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint64(1); i <= rounds; i++ {
			for ack.Load() != i-1 { // wait for the reader to check the last one
				runtime.Gosched()
			}
			for k := range payload {
				payload[k] = i
			}
			seq.Store(i)
		}
	}()
	for i := uint64(1); i <= rounds; {
		if seq.Load() != i {
			runtime.Gosched()
			continue
		}
		for k, v := range payload {
			if v != i {
				t.Fatalf("round %d: payload[%d] = %d before its publication", i, k, v)
			}
		}
		ack.Store(i)
		i++
	}
	<-done
}

// slotT is an array element with a Uint64 field between two others, as a
// ring's slot has.
type slotT struct {
	before uint64
	seq    Uint64
	after  [2]uint64
}

// TestStoreRun: the n fields get v, v+step, ..., in elements first to
// first+n-1; no other word of the array changes.
func TestStoreRun(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7} {
		s := make([]slotT, 10)
		for i := range s {
			s[i] = slotT{before: 0xb0 + uint64(i), after: [2]uint64{0xa0, 0xa1}}
		}
		const first = 2
		StoreRun(&s[first].seq, int(unsafe.Sizeof(s[0])), n, 100, 3)
		for i := range s {
			want := uint64(0)
			if i >= first && i < first+n {
				want = 100 + 3*uint64(i-first)
			}
			if got := s[i].seq.Load(); got != want {
				t.Errorf("n=%d: s[%d].seq = %d; want %d", n, i, got, want)
			}
			if s[i].before != 0xb0+uint64(i) || s[i].after != [2]uint64{0xa0, 0xa1} {
				t.Errorf("n=%d: s[%d]'s other fields changed: %+v", n, i, s[i])
			}
		}
	}
}

func TestStore2(t *testing.T) {
	var a, b Uint64
	Store2(&a, 5, &b, 7)
	if a.Load() != 5 || b.Load() != 7 {
		t.Fatalf("Store2: a=%d b=%d; want 5 7", a.Load(), b.Load())
	}
}

// TestStoreRunBackwards: a negative stride and a negative step.
func TestStoreRunBackwards(t *testing.T) {
	s := make([]slotT, 6)
	StoreRun(&s[4].seq, -int(unsafe.Sizeof(s[0])), 3, 20, ^uint64(1)) // 20, 18, 16 into s[4], s[3], s[2]
	for i, want := range []uint64{0, 0, 16, 18, 20, 0} {
		if got := s[i].seq.Load(); got != want {
			t.Errorf("s[%d].seq = %d; want %d", i, got, want)
		}
	}
}

// TestStoreRunPublishes: a writer fills the payload of a run of slots, then
// publishes their sequence numbers with StoreRun (and the last one's index
// with Store2); a reader that sees a slot's number must see its payload.
// Without the race detector this runs the amd64 assembly.
func TestStoreRunPublishes(t *testing.T) {
	const rounds, width = 50_000, 6
	type slot struct {
		seq     Uint64
		payload uint64
	}
	s := make([]slot, width)
	var index, ack Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint64(1); i <= rounds; i++ {
			for ack.Load() != i-1 {
				runtime.Gosched()
			}
			for k := range s {
				s[k].payload = i*width + uint64(k)
			}
			StoreRun(&s[width-2].seq, -int(unsafe.Sizeof(s[0])), width-1, i, 0) // backwards
			Store2(&s[width-1].seq, i, &index, i)
		}
	}()
	for i := uint64(1); i <= rounds; {
		k := int(i % width) // a different slot each round; the last via Store2
		if s[k].seq.Load() != i {
			runtime.Gosched()
			continue
		}
		if p := s[k].payload; p != i*width+uint64(k) {
			t.Fatalf("round %d: slot %d's payload %d before its publication", i, k, p)
		}
		for index.Load() != i {
			runtime.Gosched()
		}
		ack.Store(i)
		i++
	}
	<-done
}
