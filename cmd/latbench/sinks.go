package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/sink"
)

const sinkCap, sinkBatch = 1 << 14, 256

// countDrain counts what it is given.
type countDrain struct{ n atomic.Uint64 }

func (d *countDrain) WriteBatch(_ context.Context, b []int) error {
	d.n.Add(uint64(len(b)))
	return nil
}

func sinkImpl() impl {
	return impl{name: "sink.Sink", start: func(int) started {
		d := &countDrain{}
		s := sink.New[int](d, sink.Config{QueueCapacity: sinkCap, BatchSize: sinkBatch, FlushInterval: time.Millisecond})
		push := func([]byte) bool { return s.TryPush(1) == nil }
		return started{newPush: func(int) pushFunc { return push }, sofar: d.n.Load, stop: func() uint64 {
			_ = s.Close()
			return d.n.Load()
		}}
	}}
}

func chanSinkImpl() impl {
	return impl{name: "chan sink", baseline: true, start: func(int) started {
		d := &countDrain{}
		s := baseline.NewChanSink(sinkCap, sinkBatch, d.WriteBatch)
		push := func([]byte) bool { return s.TryPush(1) == nil }
		return started{newPush: func(int) pushFunc { return push }, sofar: d.n.Load, stop: func() uint64 { s.Close(); return d.n.Load() }}
	}}
}
