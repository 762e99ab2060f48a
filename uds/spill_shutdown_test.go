//go:build unix

package uds

import "testing"

// With a spill directory and the daemon away for good,
// Shutdown(context.Background()) waits; a later Close bounds it by
// CloseTimeout, both return nil (every record is kept in the file), and
// the next Open recovers them all.
func TestCloseBoundsASpillShutdownWithTheDaemonAway(t *testing.T) {
	path, dir := sockPath(t), privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	writeNumbered(t, w, 0, 20)
	closeDuringShutdown(t, w, "the spill file")
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
