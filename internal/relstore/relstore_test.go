package relstore

import (
	"runtime"
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
