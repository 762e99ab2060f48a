package pow2

import (
	"math"
	"strings"
	"testing"
)

func TestRound(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {1023, 1024}, {1024, 1024}, {1025, 2048},
		{Max/2 + 1, Max}, {Max, Max},
	} {
		if got := Round(tc.in, "x"); got != tc.want {
			t.Errorf("Round(%d) = %d; want %d", tc.in, got, tc.want)
		}
	}
}

func TestRoundPanics(t *testing.T) {
	for _, in := range []int{0, -1, math.MinInt, Max + 1, math.MaxInt} {
		func() {
			defer func() {
				v := recover()
				msg, _ := v.(string)
				if !strings.HasPrefix(msg, "ring: capacity") {
					t.Errorf("Round(%d) panicked with %v; want a message naming the capacity", in, v)
				}
			}()
			Round(in, "ring: capacity")
			t.Errorf("Round(%d) did not panic", in)
		}()
	}
}
