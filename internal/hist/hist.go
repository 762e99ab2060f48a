// Package hist is a fixed-size log-linear latency histogram (HDR-style) for
// latbench and the benchmarks: recording is a few arithmetic instructions and
// one increment, allocation-free, with at most 1/64 (1.6%) relative error
// over the whole uint64 range, so p99.9 and max of 10^6+ samples are kept.
//
// A Histogram is not safe for concurrent use: give each goroutine its own and
// Merge them afterwards.
package hist

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
)

const (
	subBits = 6 // 64 linear sub-buckets per power of two
	sub     = 1 << subBits
	buckets = (64 - subBits + 1) * sub
)

// Histogram counts values (nanoseconds, or any unit) in log-linear buckets.
type Histogram struct {
	counts [buckets]uint64
	n      uint64
	sum    float64
	min    uint64
	max    uint64
}

// New returns an empty histogram.
func New() *Histogram { return &Histogram{min: math.MaxUint64} }

func index(v uint64) int {
	if v < sub {
		return int(v)
	}
	exp := bits.Len64(v) - subBits // >= 1
	return exp*sub + int(v>>(exp-1)) - sub
}

// lowest returns the smallest value that maps to bucket i.
func lowest(i int) uint64 {
	if i < sub {
		return uint64(i)
	}
	exp := i / sub
	return uint64(i%sub+sub) << (exp - 1)
}

// Record adds one value.
func (h *Histogram) Record(v uint64) {
	h.counts[index(v)]++
	h.n++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest sample (exact), or 0 if empty.
func (h *Histogram) Max() uint64 { return h.max }

// Mean returns the mean sample, or 0 if empty.
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the value at quantile q in [0, 1]: the lower bound of
// the bucket holding the ceil(q*n)-th smallest sample, clamped to [min, max];
// the top rank returns the exact maximum.
func (h *Histogram) Quantile(q float64) uint64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	if rank >= h.n {
		return h.max // the largest sample is known exactly
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(max(lowest(i), h.min), h.max)
		}
	}
	return h.max
}

// snapshot is the JSON form: non-zero buckets only.
type snapshot struct {
	Buckets map[int]uint64 `json:"buckets"`
	N       uint64         `json:"n"`
	Sum     float64        `json:"sum"`
	Min     uint64         `json:"min"`
	Max     uint64         `json:"max"`
}

// MarshalJSON encodes the histogram (for latbench's daemon process).
func (h *Histogram) MarshalJSON() ([]byte, error) {
	s := snapshot{Buckets: map[int]uint64{}, N: h.n, Sum: h.sum, Min: h.min, Max: h.max}
	for i, c := range h.counts {
		if c != 0 {
			s.Buckets[i] = c
		}
	}
	return json.Marshal(s)
}

// UnmarshalJSON decodes what MarshalJSON encoded.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*h = Histogram{n: s.N, sum: s.Sum, min: s.Min, max: s.Max}
	for i, c := range s.Buckets {
		if i < 0 || i >= buckets {
			return fmt.Errorf("hist: bucket %d out of range", i)
		}
		h.counts[i] = c
	}
	return nil
}
