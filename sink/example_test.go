package sink_test

import (
	"bufio"
	"context"
	"errors"
	"expvar"
	"fmt"
	"os"
	"path/filepath"
	"time"

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
	_ = s.Close()

	out, _ := os.ReadFile(path)
	st := s.Stats()
	fmt.Printf("%s%d pushed, %d delivered, %d pending\n", out, st.Pushed, st.Delivered, st.Pending)
	// Output:
	// ann login
	// bob logout
	// 2 pushed, 2 delivered, 0 pending
}

// Shutdown bounds the final drain by its context; messages the sink
// accepted and could not deliver come back as a *LostError.
func ExampleSink_Shutdown() {
	failing := sink.DrainFunc[int](func(context.Context, []int) error { return errors.New("backend down") })
	s := sink.New[int](failing, sink.Config{})
	_ = s.TryPush(1)
	_ = s.TryPush(2)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.Shutdown(ctx)
	var lost *sink.LostError
	if errors.As(err, &lost) {
		fmt.Println(lost.Unwritten, "not written,", lost.Failed, "failed")
	}
	// Output: 0 not written, 2 failed
}

// Stats is a plain struct: publish it with expvar (or any metrics library)
// through a func, so it is read only when scraped.
func ExampleSink_Stats() {
	discard := sink.DrainFunc[string](func(context.Context, []string) error { return nil })
	s := sink.New[string](discard, sink.Config{})
	defer s.Close()
	expvar.Publish("example_sink", expvar.Func(func() any { return s.Stats() }))

	_ = s.TryPush("a")
	_ = s.TryPush("b")
	_ = s.Flush(context.Background())
	fmt.Println(expvar.Get("example_sink"))
	// Output:
	// {"Pushed":2,"Dropped":0,"Delivered":2,"Failed":0,"Writes":1,"WriteErrors":0,"SyncErrors":0,"Panics":0,"OnErrorPanics":0,"Pending":0}
}
