package benchmarks

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
)

// TestEquivalence: every compared queue delivers 0..N-1 in order, and
// every compared socket writer delivers the same byte stream, so a
// benchmark never compares against a broken or lossy peer.
func TestEquivalence(t *testing.T) {
	const n = 20_000
	vals := make([]int, n)
	for i := range vals {
		vals[i] = i
	}
	for _, q := range queueImpls() {
		t.Run("queue="+q.name, func(t *testing.T) {
			ops := q.make()
			var consumed atomic.Int64
			var got []int
			done := make(chan struct{})
			go func() {
				defer close(done)
				dst := make([]*int, 64)
				deadline := time.Now().Add(time.Minute)
				for len(got) < n && time.Now().Before(deadline) {
					k := ops.pop(dst)
					for _, p := range dst[:k] {
						got = append(got, *p)
					}
					consumed.Add(int64(k))
					if k == 0 {
						runtime.Gosched()
					}
				}
			}()
			for i := range n {
				for !ops.push(&vals[i]) {
					runtime.Gosched()
				}
				// Stay well inside the capacity, so a drop-oldest queue
				// never has a reason to overwrite.
				for int64(i)-consumed.Load() > queueCap/2 {
					runtime.Gosched()
				}
			}
			<-done
			if len(got) != n {
				t.Fatalf("delivered %d of %d values", len(got), n)
			}
			for i, v := range got {
				if v != i {
					t.Fatalf("value %d is %d: order or content wrong", i, v)
				}
			}
		})
	}
	var want bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&want, "record %05d %s\n", i, bytes.Repeat([]byte{'x'}, i%200))
	}
	for _, sw := range socketWriters() {
		t.Run("writer="+sw.name, func(t *testing.T) {
			var mu sync.Mutex
			var got bytes.Buffer
			r, err := baseline.StartReader(baseline.Fast, func(b []byte) { mu.Lock(); got.Write(b); mu.Unlock() })
			if err != nil {
				t.Fatal(err)
			}
			w, closeFn, dropped := sw.open(t, r.Path)
			for _, line := range bytes.SplitAfter(want.Bytes(), []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				if _, err := w.Write(line); err != nil {
					t.Fatalf("Write: %v", err)
				}
				time.Sleep(time.Microsecond) // a pace every writer keeps up with
			}
			closeFn()
			deadline := time.Now().Add(30 * time.Second)
			for {
				mu.Lock()
				k := got.Len()
				mu.Unlock()
				if k >= want.Len() || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			r.Close()
			if dropped != nil && dropped() != 0 {
				t.Fatalf("%s dropped %d records at a gentle pace", sw.name, dropped())
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("%s delivered %d bytes; want %d identical bytes", sw.name, got.Len(), want.Len())
			}
		})
	}
}
