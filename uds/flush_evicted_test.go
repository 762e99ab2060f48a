package uds

import (
	"context"
	"testing"
	"time"

	"github.com/ringsink/ringsink/offline"
)

// Flush's doc: it "waits until every record accepted before the call has
// been handed to the kernel", and returns nil once that holds. Records
// evicted from the offline ring while the daemon was away were accepted
// before the Flush and never handed to the kernel, yet the Flush returns
// nil when the daemon comes back: a caller that flushes to know its
// records were delivered is told they were. (sink.Flush returns the
// drain's errors for the same reason: "so a failing drain is not
// hidden".)
func TestFlushDoesNotReportEvictedRecordsAsSent(t *testing.T) {
	path := sockPath(t)
	w := mustOpen(t, Config{Path: path, Offline: offline.New[[]byte](2), ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond})
	for i := range 10 {
		if _, err := w.Write(rN(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "evictions", 5*time.Second, func() bool { return w.Stats().Evicted == 8 })
	flushed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		flushed <- w.Flush(ctx)
	}()
	time.Sleep(10 * time.Millisecond) // the Flush is waiting
	startDaemon(t, path)
	err := <-flushed
	st := w.Stats()
	if err == nil && st.Written < 10 {
		t.Errorf("Flush = nil, but only %d of the 10 records accepted before it were handed to the kernel (Evicted %d)", st.Written, st.Evicted)
	}
	w.Close()
}
