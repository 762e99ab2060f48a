package watchdog

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Mode is how stress producers push.
type Mode uint8

const (
	// BackToBack pushes without pause and retries (yielding) on a full ring.
	BackToBack Mode = iota
	// Bursty pushes 64 records, dropping those that find the ring full,
	// then pauses for 20 µs.
	Bursty
	// Credit keeps one record in flight per producer: after a random pause
	// (log-uniform, from nothing to tens of microseconds) it pushes, then waits (spinning first) until the consumer has taken
	// it. The ring runs empty between pushes, so the consumer parks as often
	// as it can, and the random pause sweeps the push across the consumer's
	// spin, yield and park steps. One missed wake-up strands every producer.
	Credit
	// Blocking calls a push that waits for room (sink.Push,
	// uds.Writer.WriteContext): the producer side of park.Room.
	Blocking
)

// Modes are all the modes, for table-driven tests.
var Modes = []Mode{BackToBack, Bursty, Credit, Blocking}

func (m Mode) String() string {
	return [...]string{"back-to-back", "bursty", "credit", "blocking"}[m]
}

// Stress is one watchdog stress case: producers push sequence numbers
// through the component under test while a watchdog checks that the
// consumer keeps making progress whenever anything is pending.
type Stress struct {
	Producers int
	Mode      Mode
	// Push offers producer p's record seq and reports whether it was
	// accepted. In Blocking mode it waits for room; false means ctx ended.
	Push func(ctx context.Context, p int, seq uint64) bool
	// Consume, if set, is the consumer loop (for bare rings); it must
	// return when ctx is done. Components with their own consumer leave it
	// nil.
	Consume func(ctx context.Context) error
	// Consumed counts records the consumer has taken.
	Consumed func() uint64
	// Pending reports records waiting for the consumer.
	Pending func() bool
	// Wake unwedges a stalled consumer so the test can end.
	Wake func()
	// Diag describes the component's state for a failure message.
	Diag func() string
	// Order is fed by the consumer (Order.See) and gives credit.
	Order *Order
	// Taken, if set, is what Credit producers wait for instead of the
	// consumer's Order.See: it reports that the consumer has taken every
	// record pushed so far (for a pipeline whose far end acknowledges too
	// late to race the consumer's park).
	Taken func() bool
}

// Run drives the case for Duration(250 ms), then waits up to 10 s for the
// consumer to take every accepted record, and fails t on a stall, a lost
// record or an order violation.
func (s Stress) Run(t testing.TB) {
	t.Helper()
	var stop atomic.Bool
	var blocked atomic.Int64 // producers inside a Blocking push
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pushCtx, cancelPush := context.WithCancel(ctx)
	defer cancelPush()
	consumerDone := make(chan error, 1)
	if s.Consume != nil {
		go func() { consumerDone <- s.Consume(ctx) }()
	} else {
		consumerDone <- nil
	}
	dog := Start(Config{
		Progress: s.Consumed,
		Pending:  func() bool { return s.Pending() || blocked.Load() > 0 },
		OnStall: func(d time.Duration) {
			t.Errorf("lost wake-up: no progress for %v with work pending (%s, %d producers blocked)",
				d.Round(time.Millisecond), s.Diag(), blocked.Load())
			cancelPush()
			s.Wake()
		},
	})
	accepted := make([]uint64, s.Producers)
	var wg sync.WaitGroup
	for p := range s.Producers {
		wg.Go(func() {
			push := func(seq uint64) bool {
				if s.Mode != Blocking {
					return s.Push(pushCtx, p, seq)
				}
				blocked.Add(1)
				defer blocked.Add(-1)
				return s.Push(pushCtx, p, seq)
			}
			accepted[p] = s.produce(&stop, p, push)
		})
	}
	time.Sleep(Duration(250 * time.Millisecond))
	stop.Store(true)
	wg.Wait()
	var want uint64
	for _, n := range accepted {
		want += n
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Consumed() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-consumerDone; err != nil {
		t.Error(err)
	}
	if stalls := dog.Stop(); stalls > 0 {
		t.Errorf("%d stalls", stalls)
	}
	if got := s.Consumed(); got != want {
		t.Errorf("consumed %d records; want %d accepted (%s)", got, want, s.Diag())
	}
	if err := s.Order.Err(); err != nil {
		t.Error(err)
	}
}

// produce runs one producer until stop is set and returns how many records
// were accepted.
func (s Stress) produce(stop *atomic.Bool, p int, push func(seq uint64) bool) uint64 {
	var seq uint64
	for !stop.Load() {
		switch s.Mode {
		case Bursty:
			for range 64 {
				if push(seq) {
					seq++
				}
			}
			time.Sleep(20 * time.Microsecond)
		case Credit:
			spin(rand.IntN(1 << rand.IntN(15))) // log-uniform: every time scale
			if !push(seq) {
				runtime.Gosched()
				continue
			}
			seq++
			taken := func() bool { return s.Order.acked[p].Load() >= seq }
			if s.Taken != nil {
				taken = s.Taken
			}
			for i := 0; !taken() && !stop.Load(); i++ {
				if i > 1000 { // spin first: yielding at once would hide the race
					runtime.Gosched()
				}
			}
		case Blocking:
			if !push(seq) {
				return seq // gave up: the stall was reported
			}
			seq++
		default:
			for !push(seq) {
				if stop.Load() {
					return seq
				}
				runtime.Gosched()
			}
			seq++
		}
	}
	return seq
}

var spinSink atomic.Int64

//go:noinline
func spin(n int) {
	x := 0
	for i := range n {
		x += i
	}
	spinSink.Store(int64(x))
}

// Order checks per-producer FIFO on the consumer side (producer p's records
// arrive as 0, 1, 2, ...) and acknowledges records to Credit producers.
// See must be called from one goroutine at a time.
type Order struct {
	next  []uint64
	acked []atomic.Uint64
	mu    sync.Mutex
	err   error
}

// NewOrder returns an Order for the given number of producers.
func NewOrder(producers int) *Order {
	return &Order{next: make([]uint64, producers), acked: make([]atomic.Uint64, producers)}
}

// See records that producer p's record seq reached the consumer.
func (o *Order) See(p int, seq uint64) {
	if p < 0 || p >= len(o.next) {
		o.fail(fmt.Errorf("record from unknown producer %d", p))
		return
	}
	if seq != o.next[p] {
		o.fail(fmt.Errorf("producer %d: got seq %d; want %d", p, seq, o.next[p]))
	}
	o.next[p] = seq + 1
	o.acked[p].Store(seq + 1)
}

func (o *Order) fail(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		o.err = err
	}
}

// Err returns the first order violation seen, if any.
func (o *Order) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Buffers returns a Record buffer per producer.
func Buffers(producers int) [][]byte {
	b := make([][]byte, producers)
	for p := range b {
		b[p] = make([]byte, 128)
	}
	return b
}

// Record fills buf with producer p's record seq for the byte paths: 2 bytes
// of producer, 8 of sequence, padded to a length that varies with seq
// (10..109 bytes). buf must hold 109 bytes.
func Record(buf []byte, p int, seq uint64) []byte {
	b := buf[:10+int(seq%100)]
	binary.LittleEndian.PutUint16(b, uint16(p))
	binary.LittleEndian.PutUint64(b[2:], seq)
	return b
}

// ParseRecord reverses Record, checking the length.
func ParseRecord(b []byte) (p int, seq uint64, err error) {
	if len(b) < 10 {
		return 0, 0, fmt.Errorf("record of %d bytes", len(b))
	}
	p, seq = int(binary.LittleEndian.Uint16(b)), binary.LittleEndian.Uint64(b[2:])
	if want := 10 + int(seq%100); len(b) != want {
		return p, seq, fmt.Errorf("record seq %d has %d bytes; want %d", seq, len(b), want)
	}
	return p, seq, nil
}

// Ring is a bare ring of uint64, as RunRing drives it (mpsc.Ring,
// spsc.Ring).
type Ring interface {
	TryPush(v uint64) bool
	TryPopBatch(dst []uint64) int
	Wait(ctx context.Context) error
	Wake()
	Len() int
}

// RunRing runs a Stress case on a bare ring: the producers push their
// records packed as p<<48|seq (retrying with Retry in Blocking mode), and
// the consumer moves batches of 16 and parks in Wait whenever it finds
// nothing. parked reports the consumer's park flag, for the failure
// message.
func RunRing(t testing.TB, r Ring, producers int, mode Mode, parked func() bool) {
	t.Helper()
	var consumed atomic.Uint64
	order := NewOrder(producers)
	Stress{
		Producers: producers, Mode: mode, Order: order,
		Push: func(ctx context.Context, p int, seq uint64) bool {
			v := uint64(p)<<48 | seq
			if mode == Blocking {
				return Retry(ctx, func() bool { return r.TryPush(v) })
			}
			return r.TryPush(v)
		},
		Consume: func(ctx context.Context) error {
			dst := make([]uint64, 16)
			for {
				n := r.TryPopBatch(dst)
				for _, v := range dst[:n] {
					order.See(int(v>>48), v&(1<<48-1))
				}
				consumed.Add(uint64(n))
				if n == 0 && r.Wait(ctx) != nil {
					return nil
				}
			}
		},
		Consumed: consumed.Load,
		Pending:  func() bool { return r.Len() > 0 },
		Wake:     r.Wake,
		Diag:     func() string { return fmt.Sprintf("len %d, parked %v", r.Len(), parked()) },
	}.Run(t)
}

// Retry is a "blocking" push for a bare ring (Mode Blocking): it calls try
// until it is accepted, yielding between attempts, and reports false if
// ctx ends first.
func Retry(ctx context.Context, try func() bool) bool {
	for !try() {
		if ctx.Err() != nil {
			return false
		}
		runtime.Gosched()
	}
	return true
}
