package hist

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestIndexRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<40 + 12345, 1<<63 + 1, ^uint64(0)} {
		i := index(v)
		lo := lowest(i)
		if lo > v {
			t.Fatalf("lowest(index(%d)) = %d > value", v, lo)
		}
		if i+1 < buckets && lowest(i+1) <= v {
			t.Fatalf("value %d belongs above bucket %d (next starts at %d)", v, i, lowest(i+1))
		}
		if v >= sub && float64(v-lo)/float64(v) > 1.0/sub {
			t.Fatalf("value %d in bucket starting %d: error above 1/%d", v, lo, sub)
		}
	}
}

func TestQuantilesAgainstSort(t *testing.T) {
	h := New()
	vals := make([]uint64, 100_000)
	for i := range vals {
		vals[i] = uint64(rand.ExpFloat64() * 1000)
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if got > exact || float64(exact-got) > float64(exact)/sub+1 {
			t.Errorf("Quantile(%v) = %d; exact %d", q, got, exact)
		}
	}
	if h.Max() != vals[len(vals)-1] || h.Quantile(1) != vals[len(vals)-1] {
		t.Errorf("Max() = %d, Quantile(1) = %d; want %d", h.Max(), h.Quantile(1), vals[len(vals)-1])
	}
	o := New()
	o.Record(1 << 30)
	h.Merge(o)
	if h.Count() != uint64(len(vals))+1 || h.Max() != 1<<30 {
		t.Errorf("after Merge: Count %d, Max %d", h.Count(), h.Max())
	}
}

func TestEmpty(t *testing.T) {
	h := New()
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("empty histogram reports samples")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	h := New()
	for v := range uint64(5000) {
		h.Record(v * v)
	}
	b, err := h.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var g Histogram
	if err := g.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	for _, q := range []float64{0, .5, .99, .999, 1} {
		if g.Quantile(q) != h.Quantile(q) {
			t.Fatalf("Quantile(%v) = %d after round trip; want %d", q, g.Quantile(q), h.Quantile(q))
		}
	}
	if g.Count() != h.Count() || g.Mean() != h.Mean() {
		t.Fatal("count or mean changed in the round trip")
	}
}
