//go:build unix

package uds

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A damaged ring file is refused by Open with an error a uds user reads.
// The durable ring moved from mpsc to an internal package, but its error
// text still says "mpsc: not a recoverable durable ring": it names a
// package the user never called that has no durable ring any more (and
// the sentinel it wraps, ErrDurableDamaged, is no longer exported, so
// errors.Is cannot tell this failure from others).
func TestDamagedSpillFileErrorNamesNoOtherPackage(t *testing.T) {
	path := sockPath(t)
	dir := privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	w.Close()
	f := filepath.Join(dir, "ring")
	if err := os.WriteFile(f, bytes.Repeat([]byte("log line\n"), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(spillConfig(path, dir))
	if err == nil {
		t.Fatal("Open of a damaged ring file succeeded")
	}
	if strings.Contains(err.Error(), "mpsc") {
		t.Errorf("Open = %q; it names package mpsc, which the caller did not use", err)
	}
}

// ErrSpillDamaged says the file cannot be recovered, and only that: a
// damaged ring file wraps it (TestSpillDamagedFile), a directory held by
// another open Writer does not, nor does a sound file Open recovers.
func TestErrSpillDamagedOnlyForADamagedFile(t *testing.T) {
	path := sockPath(t)
	dir := privateDir(t)
	w := mustOpen(t, spillConfig(path, dir))
	_, err := Open(spillConfig(path, dir))
	if !errors.Is(err, ErrSpillInUse) || errors.Is(err, ErrSpillDamaged) {
		t.Errorf("second Open of a directory in use = %v; want ErrSpillInUse, not ErrSpillDamaged", err)
	}
	writeNumbered(t, w, 0, 5)
	w.Close()
	w2, err := Open(spillConfig(path, dir))
	if err != nil {
		t.Fatalf("Open of a sound ring file = %v; want nil", err)
	}
	if st := w2.Stats(); st.Recovered != 5 {
		t.Errorf("Recovered = %d; want 5", st.Recovered)
	}
	w2.Close()
	f := filepath.Join(dir, "ring")
	if err := os.Truncate(f, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(spillConfig(path, dir)); !errors.Is(err, ErrSpillDamaged) {
		t.Errorf("Open of a ring file cut to 100 bytes = %v; want ErrSpillDamaged", err)
	}
}
