//go:build unix

package uds

import (
	"bytes"
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
