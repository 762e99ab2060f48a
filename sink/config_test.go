package sink

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// TestNewRefusesANilDrain: sink.New(nil, …) used to be accepted, and every
// batch then failed on the consumer goroutine. A nil Drain, or a nil
// DrainFunc, is a programmer error, and New panics on the caller's
// goroutine, saying so.
func TestNewRefusesANilDrain(t *testing.T) {
	for name, d := range map[string]Drain[int]{"nil": nil, "nil DrainFunc": DrainFunc[int](nil)} {
		if got := panicValue(func() { New(d, Config{}) }); got != "sink: New with a nil Drain" {
			t.Errorf("New with a %s drain panicked with %v; want %q", name, got, "sink: New with a nil Drain")
		}
	}
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
			if err := s.Push(context.Background(), uint32(round)*16+i); err != nil {
				t.Fatalf("s.Push(context.Background(), uint32(round)*16+i): %v", err)
			}
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("s.Flush(context.Background()): %v", err)
	}
	closeSink(t, s)
	if got, want := d.count.Load(), uint64(48); got != want {
		t.Fatalf("d.count.Load() = %v; want %v", got, want)
	}
	for _, n := range d.batchSizes() {
		if got := n; got > 16 {
			t.Fatalf("a batch larger than the queue: n = %v; want <= %v", got, 16)
		}
	}
}

// TestNewNamesSinkInTheCapacityPanic: a QueueCapacity above the largest
// ring is a programmer error; New's panic names sink and the field, not
// the ring's package ("mpsc: capacity").
func TestNewNamesSinkInTheCapacityPanic(t *testing.T) {
	got, _ := panicValue(func() { New[uint32](&countingDrain{}, Config{QueueCapacity: math.MaxInt}) }).(string)
	if !strings.HasPrefix(got, "sink: QueueCapacity ") {
		t.Fatalf("New with QueueCapacity math.MaxInt panicked with %q; want it to start with %q", got, "sink: QueueCapacity ")
	}
}

// panicValue calls f and returns what it panicked with, or nil.
func panicValue(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}
