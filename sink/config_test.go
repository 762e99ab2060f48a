package sink

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNewRefusesANilDrain: sink.New(nil, …) used to be accepted, and every
// batch then failed on the consumer goroutine. A nil Drain, or a nil
// DrainFunc, is a programmer error, and New panics on the caller's
// goroutine, saying so.
func TestNewRefusesANilDrain(t *testing.T) {
	require.PanicsWithValue(t, "sink: New with a nil Drain", func() { New[int](nil, Config{}) })
	require.PanicsWithValue(t, "sink: New with a nil Drain", func() { New[int](DrainFunc[int](nil), Config{}) })
}

// TestHugeBatchSizeIsCapped: a BatchSize whose buffer cannot be allocated
// used to panic on the consumer goroutine (makeslice), ending the process
// after New had returned. New caps it at the queue's capacity and
// allocates the batch itself; batches never exceed the queue.
func TestHugeBatchSizeIsCapped(t *testing.T) {
	d := &countingDrain{}
	s := New[uint32](d, Config{QueueCapacity: 16, BatchSize: math.MaxInt, FlushInterval: time.Hour})
	for round := range 3 {
		for i := range uint32(16) {
			require.NoError(t, s.Push(context.Background(), uint32(round)*16+i))
		}
	}
	require.NoError(t, s.Flush(context.Background()))
	closeSink(t, s)
	require.Equal(t, uint64(48), d.count.Load())
	for _, n := range d.batchSizes() {
		require.LessOrEqual(t, n, 16, "a batch larger than the queue")
	}
}
