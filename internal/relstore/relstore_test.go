package relstore

import (
	"runtime"
	"sync/atomic"
	"testing"
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

var (
	benchSink  [8]uint64
	benchIndex uint64
)

// BenchmarkStore: what publishing an index costs the writer, with a plain
// store before it as a ring's value write: Store (a call into assembly: a
// MOV on amd64, plus the call and its ABI wrapper), sync/atomic's Store (an
// XCHG) and, for reference, a plain store, which a ring cannot use (the
// compiler would be free to reorder it, and the race detector would flag
// it).
func BenchmarkStore(b *testing.B) {
	b.Run("impl=relstore", func(b *testing.B) {
		b.ReportAllocs()
		var u Uint64
		for i := 0; i < b.N; i++ {
			benchSink[i&7] = uint64(i)
			u.Store(uint64(i))
		}
	})
	b.Run("impl=atomic", func(b *testing.B) {
		b.ReportAllocs()
		var u atomic.Uint64
		for i := 0; i < b.N; i++ {
			benchSink[i&7] = uint64(i)
			u.Store(uint64(i))
		}
	})
	b.Run("impl=plain", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			benchSink[i&7] = uint64(i)
			benchIndex = uint64(i) // a global: stored on every iteration
		}
	})
}
