package mpsc

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestByteRingSizes(t *testing.T) {
	for _, tc := range []struct{ in, capa, max int }{{1, 64, 24}, {64, 64, 24}, {100, 128, 56}, {4096, 4096, 2040}} {
		r := NewByteRing(tc.in)
		if r.Cap() != tc.capa || r.MaxRecord() != tc.max {
			t.Errorf("NewByteRing(%d): Cap %d, MaxRecord %d; want %d, %d", tc.in, r.Cap(), r.MaxRecord(), tc.capa, tc.max)
		}
	}
}

func TestByteRingRecordBoundaries(t *testing.T) {
	r := NewByteRing(256)
	maxRec := r.MaxRecord()
	for _, tc := range []struct {
		name string
		n    int
		ok   bool
	}{{"empty", 0, true}, {"one", 1, true}, {"max-1", maxRec - 1, true}, {"max", maxRec, true}, {"max+1", maxRec + 1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			p := bytes.Repeat([]byte{'x'}, tc.n)
			if got := r.TryWrite(p); got != tc.ok {
				t.Fatalf("TryWrite(%d bytes) = %v; want %v", tc.n, got, tc.ok)
			}
			dst := make([][]byte, 4)
			n := r.Peek(dst)
			if !tc.ok {
				if n != 0 {
					t.Fatalf("refused record is readable")
				}
				return
			}
			if n != 1 || !bytes.Equal(dst[0], p) {
				t.Fatalf("Peek = %d records, first %d bytes; want 1 record of %d", n, len(dst[0]), tc.n)
			}
			if r.Release(1) != 1 || r.Len() != 0 || r.Peek(make([][]byte, 1)) != 0 {
				t.Fatalf("after Release: Len %d", r.Len())
			}
		})
	}
}

func TestByteRingFullAndPartialRelease(t *testing.T) {
	r := NewByteRing(128) // records of 24 payload bytes take 32 bytes: 4 fit
	rec := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 24) }
	for i := range 4 {
		if !r.TryWrite(rec(i)) {
			t.Fatalf("record %d refused in a ring with room", i)
		}
	}
	if r.TryWrite(rec(4)) {
		t.Fatal("TryWrite accepted a record into a full ring")
	}
	dst := make([][]byte, 8)
	if n := r.Peek(dst); n != 4 {
		t.Fatalf("Peek = %d; want 4", n)
	}
	if r.Release(2) != 2 {
		t.Fatal("Release(2) did not release 2")
	}
	// The unreleased suffix comes back first and intact.
	if n := r.Peek(dst); n != 2 || !bytes.Equal(dst[0], rec(2)) || !bytes.Equal(dst[1], rec(3)) {
		t.Fatalf("Peek after partial release = %d records %q", n, dst[:n])
	}
	// The freed 64 bytes take two more records, at the start of the buffer.
	if !r.TryWrite(rec(4)) || !r.TryWrite(rec(5)) || r.TryWrite(rec(6)) {
		t.Fatal("freed space not reused exactly")
	}
	if n := r.Release(10); n != 4 {
		t.Fatalf("Release(10) = %d; want 4", n)
	}
}

func TestByteRingZeroAllocs(t *testing.T) {
	r := NewByteRing(1 << 12)
	p := make([]byte, 100)
	dst := make([][]byte, 16)
	allocs := testing.AllocsPerRun(1000, func() {
		r.TryWrite(p)
		r.TryWrite(p)
		r.Peek(dst)
		r.Release(2)
	})
	if allocs != 0 {
		t.Fatalf("allocs per write/peek/release = %v; want 0", allocs)
	}
}

// TestByteRingStress: more producers than CPUs write sequence-numbered
// records of varying sizes through a small ring (many wraps, padding at many
// offsets); the consumer checks exactly-once, per-producer order and content,
// releasing in uneven partial batches.
func TestByteRingStress(t *testing.T) {
	const total = 1 << 18
	for _, producers := range []int{1, 4, 16, 64} {
		t.Run(fmt.Sprintf("producers=%d", producers), func(t *testing.T) {
			r := NewByteRing(1 << 12)
			per := total / producers
			var wg sync.WaitGroup
			for p := range producers {
				wg.Go(func() {
					buf := make([]byte, 200)
					for i := 0; i < per; {
						rec := encodeRec(buf, p, i)
						if r.TryWrite(rec) {
							i++
						} else {
							runtime.Gosched()
						}
					}
				})
			}
			next := make([]int, producers)
			dst := make([][]byte, 64)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for got, round := 0, 0; got < per*producers; round++ {
				n := r.Peek(dst)
				if n == 0 {
					if err := r.Wait(ctx); err != nil {
						t.Fatalf("consumer stuck after %d records: %v", got, err)
					}
					continue
				}
				keep := n - round%3 // release fewer than we read, sometimes
				keep = max(keep, 1)
				for _, rec := range dst[:keep] {
					p, i, err := decodeRec(rec)
					if err != nil {
						t.Fatal(err)
					}
					if i != next[p] {
						t.Fatalf("producer %d: got seq %d; want %d", p, i, next[p])
					}
					next[p]++
				}
				if r.Release(keep) != keep {
					t.Fatalf("Release(%d) released fewer", keep)
				}
				got += keep
			}
			wg.Wait()
			if r.Len() != 0 {
				t.Fatalf("Len %d after all records were released", r.Len())
			}
		})
	}
}

// encodeRec writes producer, seq, and a size derived from both, filled with
// a byte pattern the decoder checks.
func encodeRec(buf []byte, p, i int) []byte {
	n := 8 + (p*31+i*7)%(len(buf)-8)
	binary.LittleEndian.PutUint32(buf, uint32(p))
	binary.LittleEndian.PutUint32(buf[4:], uint32(i))
	for k := 8; k < n; k++ {
		buf[k] = byte(p + i + k)
	}
	return buf[:n]
}

func decodeRec(rec []byte) (p, i int, err error) {
	if len(rec) < 8 {
		return 0, 0, fmt.Errorf("record of %d bytes", len(rec))
	}
	p, i = int(binary.LittleEndian.Uint32(rec)), int(binary.LittleEndian.Uint32(rec[4:]))
	for k := 8; k < len(rec); k++ {
		if rec[k] != byte(p+i+k) {
			return p, i, fmt.Errorf("producer %d seq %d: byte %d corrupt", p, i, k)
		}
	}
	return p, i, nil
}
