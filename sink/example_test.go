package sink_test

import (
	"bufio"
	"context"
	"expvar"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ringsink/ringsink/sink"
)

// event is a typed message, e.g. an audit row.
type event struct {
	User   string
	Action string
}

// fileDrain appends each batch to a file as lines, and fsyncs at Flush.
type fileDrain struct {
	f *os.File
	w *bufio.Writer
}

func (d *fileDrain) WriteBatch(_ context.Context, batch []event) error {
	for _, e := range batch { // batch is reused after return: use it, don't keep it
		fmt.Fprintf(d.w, "%s %s\n", e.User, e.Action)
	}
	return d.w.Flush()
}

func (d *fileDrain) Sync(context.Context) error  { return d.f.Sync() }
func (d *fileDrain) Close(context.Context) error { return d.f.Close() }

func Example() {
	dir, _ := os.MkdirTemp("", "sink-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.log")
	f, _ := os.Create(path)

	s := sink.New[event](&fileDrain{f: f, w: bufio.NewWriter(f)}, sink.Config{BatchSize: 64})

	// Hot path: never blocks, never allocates.
	if err := s.TryPush(event{"ann", "login"}); err != nil {
		fmt.Println("dropped:", err) // ErrOverflow when full: counted in Stats
	}
	_ = s.TryPush(event{"bob", "logout"})

	// Barrier: both events are written and fsynced, or the error says why not.
	if err := s.Flush(context.Background()); err != nil {
		fmt.Println("flush:", err)
	}
	_ = s.Close(context.Background())

	out, _ := os.ReadFile(path)
	st := s.Stats()
	fmt.Printf("%s%d pushed, %d delivered, %d pending\n", out, st.Pushed, st.Delivered, st.Pending)
	// Output:
	// ann login
	// bob logout
	// 2 pushed, 2 delivered, 0 pending
}

// In Block mode TryPush is refused, so callers must choose Push, which waits
// for room (bounded by its context) instead of dropping.
func ExampleOverflow() {
	discard := sink.DrainFunc[int](func(context.Context, []int) error { return nil })
	s := sink.New[int](discard, sink.Config{Overflow: sink.Block})
	defer s.Close(context.Background())
	fmt.Println(s.TryPush(1))
	fmt.Println(s.Push(context.Background(), 1))
	// Output:
	// sink: TryPush in Block mode, use Push: sink: queue full
	// <nil>
}

// Stats is a plain struct: publish it with expvar (or any metrics library)
// through a func, so it is read only when scraped.
func ExampleSink_Stats() {
	discard := sink.DrainFunc[string](func(context.Context, []string) error { return nil })
	s := sink.New[string](discard, sink.Config{})
	defer s.Close(context.Background())
	expvar.Publish("example_sink", expvar.Func(func() any { return s.Stats() }))

	_ = s.TryPush("a")
	_ = s.TryPush("b")
	_ = s.Flush(context.Background())
	fmt.Println(expvar.Get("example_sink"))
	// Output:
	// {"Pushed":2,"Dropped":0,"Rejected":0,"Delivered":2,"Failed":0,"Writes":1,"WriteErrors":0,"SyncErrors":0,"Panics":0,"OnErrorPanics":0,"Pending":0}
}
