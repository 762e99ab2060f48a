package ring

import (
	"bytes"
	"testing"

	"github.com/ringsink/ringsink/internal/model"
)

// FuzzRing decodes ops into pushes, pops, batch pops and Close (0xff) on a
// Ring and a mutex-and-slice model and checks they agree after every step.
func FuzzRing(f *testing.F) {
	f.Add(uint8(2), []byte{0, 0, 0, 0, 0, 1, 2, 7, 0, 2, 1})
	f.Add(uint8(0), []byte{0, 0, 1, 1, 2, 3})
	f.Add(uint8(1), []byte{0, 0, 0xff, 0, 1, 1, 0, 1})
	f.Fuzz(func(t *testing.T, capExp uint8, ops []byte) {
		r := New[int](1 << (capExp % 6))
		m := model.NewDropNewest[int](r.Cap())
		next, closed := 0, false
		for i := 0; i < len(ops); i++ {
			if ops[i] == 0xff {
				r.Close()
				closed = true
				if !r.Closed() {
					t.Fatalf("op %d: Closed() = false after Close", i)
				}
				continue
			}
			switch ops[i] % 3 {
			case 0:
				stored := false
				if !closed {
					stored, _, _ = m.Push(next)
				}
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
			if r.Len() != m.Len() || r.Ready() != (m.Len() > 0) || r.Closed() != closed {
				t.Fatalf("op %d: Len() = %d, Ready() = %v, Closed() = %v; model Len %d, closed %v",
					i, r.Len(), r.Ready(), r.Closed(), m.Len(), closed)
			}
		}
	})
}

// byteModel is the reference for ByteRing: a slice of records plus the byte
// accounting (8-byte headers, 8-byte alignment, padding to the end of the
// buffer when a record would straddle it).
type byteModel struct {
	capa, head, tail int
	recs             [][]byte
	ends             []int // byte position after each record
}

func (m *byteModel) write(p []byte) bool {
	if len(p) > m.capa/2-hdrSize {
		return false
	}
	size := (hdrSize + len(p) + 7) &^ 7
	total := size
	if i := m.tail % m.capa; i+size > m.capa {
		total += m.capa - i
	}
	if m.tail-m.head+total > m.capa {
		return false
	}
	m.tail += total
	m.recs = append(m.recs, append([]byte(nil), p...))
	m.ends = append(m.ends, m.tail)
	return true
}

func (m *byteModel) release(n int) int {
	n = min(n, len(m.recs))
	if n > 0 {
		m.head = m.ends[n-1]
		m.recs, m.ends = m.recs[n:], m.ends[n:]
	}
	return n
}

// FuzzByteRing drives a ByteRing and the model with the same writes (sizes
// 0..max+1), peeks and partial releases, over many wraps and padding at
// every offset the sizes produce.
func FuzzByteRing(f *testing.F) {
	f.Add(uint8(0), []byte{0, 5, 0, 24, 0, 25, 1, 3, 2, 1, 0, 17, 0, 0, 2, 9})
	f.Add(uint8(2), []byte{0, 200, 0, 120, 2, 1, 0, 255, 1, 8, 2, 8})
	f.Add(uint8(0), []byte{0, 5, 0, 24, 0xff, 0, 0, 7, 1, 3, 2, 1, 2, 1})
	f.Fuzz(func(t *testing.T, capExp uint8, ops []byte) {
		r := NewByteRing(64 << (capExp % 4))
		m := &byteModel{capa: r.Cap()}
		dst := make([][]byte, 16)
		seq := byte(0)
		closed := false
		for i := 0; i+1 < len(ops); i += 2 {
			if ops[i] == 0xff { // Close
				r.Close()
				closed = true
			}
			op, arg := ops[i]%3, int(ops[i+1])
			switch op {
			case 0:
				n := arg % (r.MaxRecord() + 2) // up to one byte too large
				p := bytes.Repeat([]byte{seq}, n)
				seq++
				want := !closed && m.write(p)
				if got := r.TryWrite(p); got != want {
					t.Fatalf("op %d: TryWrite(%d bytes) = %v; model %v (Len %d)", i, n, got, want, r.Len())
				}
			case 1:
				k := r.Peek(dst[:arg%len(dst)])
				if want := min(arg%len(dst), len(m.recs)); k != want {
					t.Fatalf("op %d: Peek = %d; model %d", i, k, want)
				}
				for j := range k {
					if !bytes.Equal(dst[j], m.recs[j]) {
						t.Fatalf("op %d: record %d = %q; model %q", i, j, dst[j], m.recs[j])
					}
				}
			case 2:
				want := m.release(arg % 8)
				if got := r.Release(arg % 8); got != want {
					t.Fatalf("op %d: Release(%d) = %d; model %d", i, arg%8, got, want)
				}
			}
			if r.Len() != m.tail-m.head || r.Ready() != (len(m.recs) > 0) || r.Pending() != len(m.recs) || r.Closed() != closed {
				t.Fatalf("op %d: Len %d Ready %v Closed %v; model Len %d, %d records, closed %v",
					i, r.Len(), r.Ready(), r.Closed(), m.tail-m.head, len(m.recs), closed)
			}
		}
	})
}
