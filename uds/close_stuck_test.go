package uds

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ringsink/ringsink/offline"
)

// blockingDial returns a Config.Dial that ignores its ctx: it blocks until
// release is closed, then fails. entered gets a value at its first call.
func blockingDial(release <-chan struct{}, entered chan<- struct{}) func(context.Context, string) (*net.UnixConn, error) {
	return func(ctx context.Context, path string) (*net.UnixConn, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return nil, errors.New("no daemon")
	}
}

// A Close that gives up on a consumer stuck in Config.Dial says so
// (ErrStuck, the deadline) and counts the record the consumer holds; the
// caller's Config.Offline is not read then. Once the Dial returns, a
// Shutdown waits for the consumer and returns the final result: nil, the
// record kept in Config.Offline.
func TestStuckCloseCountsHeldRecordsAndShutdownGetsTheResult(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	off := offline.New[[]byte](16)
	w := mustOpen(t, Config{Path: sockPath(t), Dial: blockingDial(release, entered), Offline: off, CloseTimeout: 50 * time.Millisecond})
	if _, err := w.Write([]byte("r0")); err != nil {
		t.Fatal(err)
	}
	<-entered
	start := time.Now()
	err := w.Close()
	took := time.Since(start)
	if !errors.Is(err, ErrStuck) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v; want ErrStuck and context.DeadlineExceeded", err)
	}
	if lost := asLost(t, err); lost.Held != 1 || lost.Unkept+lost.Evicted+lost.Unfinished+lost.SpillLost != 0 {
		t.Fatalf("Close's LostError = %+v; want Held 1 and nothing lost", *lost)
	}
	if took < 50*time.Millisecond+closeGrace {
		t.Errorf("Close returned after %v; want no sooner than CloseTimeout + %v", took, closeGrace)
	}
	select {
	case <-w.done:
		t.Fatal("the consumer exited while its Dial was blocked")
	default:
	}
	close(release)
	if err := w.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown after the Dial returned = %v; want nil (the record kept)", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close after the consumer exited = %v; want the same nil", err)
	}
	if got, ok := off.Pop(); !ok || string(got) != "r0" {
		t.Fatalf("Config.Offline holds %q, %v; want r0", got, ok)
	}
}

// With the Writer's own offline ring, the final result after a stuck
// Close counts the record as lost (Unkept), and no longer wraps ErrStuck.
func TestStuckCloseFinalResultCountsUnkept(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	w := mustOpen(t, Config{Path: sockPath(t), Dial: blockingDial(release, entered), CloseTimeout: 20 * time.Millisecond})
	w.Write([]byte("r0"))
	<-entered
	if err := w.Close(); !errors.Is(err, ErrStuck) {
		t.Fatalf("Close = %v; want ErrStuck", err)
	}
	close(release)
	err := w.Shutdown(context.Background())
	if errors.Is(err, ErrStuck) {
		t.Fatalf("Shutdown after the Dial returned = %v; want the final result, not ErrStuck", err)
	}
	if lost := asLost(t, err); lost.Unkept != 1 || lost.Held != 0 {
		t.Fatalf("final LostError = %+v; want Unkept 1, Held 0", *lost)
	}
}

// A Dial that honours its ctx, however long it would block, is not stuck:
// Close gets the consumer's own result.
func TestCloseDoesNotCallAnHonestDialStuck(t *testing.T) {
	entered := make(chan struct{}, 1)
	dial := func(ctx context.Context, path string) (*net.UnixConn, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	off := offline.New[[]byte](16)
	w := mustOpen(t, Config{Path: sockPath(t), Dial: dial, DialTimeout: time.Hour, Offline: off, CloseTimeout: 20 * time.Millisecond})
	w.Write([]byte("r0"))
	<-entered
	if err := w.Close(); err != nil {
		t.Fatalf("Close = %v; want nil (the record kept in Config.Offline)", err)
	}
	if off.Len() != 1 {
		t.Fatalf("Config.Offline holds %d records; want 1", off.Len())
	}
}

// Close and Shutdown called from a callback on the consumer goroutine
// return at once, whatever their bound (context.Background() included):
// an error wrapping ErrStuck that names the callback. The shutdown then
// goes on as soon as the callback returns.
func TestCloseFromCallbackReturnsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func(w *Writer) error
	}{
		{"Shutdown(Background)", func(w *Writer) error { return w.Shutdown(context.Background()) }},
		{"Close", func(w *Writer) error { return w.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := sockPath(t)
			d := startDaemon(t, path)
			defer d.stop()
			var w *Writer
			ready := make(chan struct{})
			type result struct {
				err  error
				took time.Duration
			}
			got := make(chan result, 1)
			notice := func(Drops) []byte {
				<-ready
				start := time.Now()
				err := tc.call(w)
				got <- result{err, time.Since(start)}
				return []byte("drops")
			}
			w = mustOpen(t, Config{Path: path, MaxRecord: 16, DropNotice: notice, CloseTimeout: time.Hour})
			close(ready)
			w.Write(make([]byte, 32)) // a drop: the notice is due
			w.Write([]byte("r0"))
			var r result
			select {
			case r = <-got:
			case <-time.After(5 * time.Second):
				t.Fatal("Close/Shutdown from DropNotice has not returned 5 s later")
			}
			if !errors.Is(r.err, ErrStuck) {
				t.Fatalf("%s from DropNotice = %v; want ErrStuck", tc.name, r.err)
			}
			if r.took > time.Second {
				t.Errorf("%s from DropNotice took %v; want at once", tc.name, r.took)
			}
			select {
			case <-w.done:
			case <-time.After(5 * time.Second):
				t.Fatal("consumer still running 5 s after the callback returned")
			}
			if err := w.Shutdown(context.Background()); err != nil {
				t.Fatalf("final result = %v; want nil (r0 sent)", err)
			}
			if st := w.Stats(); st.Written != 1 || st.Notices != 1 {
				t.Fatalf("Written %d, Notices %d; want 1, 1", st.Written, st.Notices)
			}
		})
	}
}

// Flush reports each eviction once: the Flush answered after them gets a
// *LostError counting them, the next one nil. Sync is Flush, and does the
// same.
func TestFlushReportsEachEvictionOnce(t *testing.T) {
	path := sockPath(t)
	w := mustOpen(t, Config{Path: path, Offline: offline.New[[]byte](2), ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond})
	defer w.Close()
	writeNumbered(t, w, 0, 10)
	waitFor(t, "evictions", 5*time.Second, func() bool { return w.Stats().Evicted == 8 })
	startDaemon(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lost := asLost(t, w.Flush(ctx))
	if lost.Evicted != 8 || lost.Unkept+lost.Unfinished+lost.SpillLost+lost.Held != 0 || lost.Err != nil {
		t.Fatalf("Flush's LostError = %+v; want Evicted 8 only", *lost)
	}
	if st := w.Stats(); st.Written != 2 {
		t.Fatalf("Written = %d after Flush; want the 2 records not evicted", st.Written)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("second Flush = %v; want nil (the evictions were reported)", err)
	}
	w.Write([]byte("r10"))
	if err := w.Sync(); err != nil {
		t.Fatalf("Sync = %v; want nil", err)
	}
}

// Sync reports evictions as Flush does, on its fast path too (nothing left
// to send when it is called).
func TestSyncReportsEvictionsWithNothingQueued(t *testing.T) {
	path := sockPath(t)
	w := mustOpen(t, Config{Path: path, Offline: offline.New[[]byte](2), ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond})
	defer w.Close()
	writeNumbered(t, w, 0, 5)
	waitFor(t, "evictions", 5*time.Second, func() bool { return w.Stats().Evicted == 3 })
	startDaemon(t, path)
	waitFor(t, "the rest sent", 5*time.Second, func() bool { return w.Stats().Written == 2 })
	if lost := asLost(t, w.Sync()); lost.Evicted != 3 {
		t.Fatalf("Sync's LostError = %+v; want Evicted 3", *lost)
	}
	if err := w.Sync(); err != nil {
		t.Fatalf("second Sync = %v; want nil", err)
	}
}

// blockingFormat blocks in Frame until release is closed.
type blockingFormat struct {
	release <-chan struct{}
	entered chan<- struct{}
}

func (blockingFormat) AppendStamp(dst []byte, _ time.Time) []byte { return dst }
func (blockingFormat) MaxOverhead() int                           { return 0 }
func (f blockingFormat) Frame(dst, rec, _ []byte) ([]byte, []byte, []byte) {
	select {
	case f.entered <- struct{}{}:
	default:
	}
	<-f.release
	return dst, rec, nil
}

// A Shutdown whose ctx ends while Config.Format blocks returns a quarter
// of a second later with ErrStuck, naming the Format, and ctx's error; the
// final result comes once the Format returns.
func TestShutdownReturnsWhileFormatBlocks(t *testing.T) {
	path := sockPath(t)
	startDaemon(t, path)
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	w := mustOpen(t, Config{Path: path, Format: blockingFormat{release, entered}})
	w.Write([]byte("r0"))
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := w.Shutdown(ctx)
	if !errors.Is(err, ErrStuck) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Config.Format") {
		t.Fatalf("Shutdown = %v; want ErrStuck naming Config.Format, and the deadline", err)
	}
	if lost := asLost(t, err); lost.Held != 1 {
		t.Fatalf("Shutdown's LostError = %+v; want Held 1", *lost)
	}
	close(release)
	if err := w.Shutdown(context.Background()); errors.Is(err, ErrStuck) {
		t.Fatalf("Shutdown after the Format returned = %v; want the final result", err)
	}
	checkConservation(t, w.Stats())
}
