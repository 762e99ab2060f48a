// Package pow2 rounds ring capacities up to a power of two.
package pow2

import (
	"fmt"
	"math/bits"
)

// Max is the largest capacity Round accepts: the largest power of two an
// int holds (2^62 on 64-bit platforms), so rounding up cannot overflow.
const Max = 1 << (bits.UintSize - 2)

// Round returns the smallest power of two >= capacity. It panics, naming
// what (for example "spsc: capacity"), when capacity < 1 or > Max: both are
// programmer errors.
func Round(capacity int, what string) int {
	if capacity < 1 {
		panic(fmt.Sprintf("%s must be at least 1, got %d", what, capacity))
	}
	if capacity > Max {
		panic(fmt.Sprintf("%s %d is above the maximum %d (2^%d)", what, capacity, Max, bits.UintSize-2))
	}
	return 1 << bits.Len(uint(capacity-1))
}
