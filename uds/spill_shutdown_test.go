//go:build unix

package uds

import (
	"context"
	"testing"
	"time"
)

// With a spill directory and the daemon away for good,
// Shutdown(context.Background()) waits; a later Close bounds it by
// CloseTimeout, both return nil (every record is kept in the file), and
// the next Open recovers them all.
func TestCloseBoundsASpillShutdownWithTheDaemonAway(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	writeNumbered(t, w, 0, 20)
	res := make(chan error, 1)
	go func() { res <- w.Shutdown(context.Background()) }()
	select {
	case err := <-res:
		t.Fatalf("Shutdown(Background) returned %v with the daemon away", err)
	case <-time.After(50 * time.Millisecond):
	}
	t0 := time.Now()
	err := w.Close()
	if took := time.Since(t0); took > 5*time.Second {
		t.Fatalf("Close took %v with CloseTimeout 100ms", took)
	}
	if err != nil {
		t.Fatalf("Close = %v; want nil: the records are kept in the spill file", err)
	}
	if serr := <-res; serr != err {
		t.Fatalf("Shutdown = %v, Close = %v; want one result", serr, err)
	}
	st := w.Stats()
	checkConservation(t, st)
	if st.Pending != 20 {
		t.Fatalf("Pending %d after Close; want the 20 records kept", st.Pending)
	}
	w2 := mustOpen(t, spillConfig(path, dir))
	defer w2.Close()
	if got := w2.Stats().Recovered; got != 20 {
		t.Fatalf("next Open recovered %d records; want 20", got)
	}
}
