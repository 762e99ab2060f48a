//go:build unix

package uds

import (
	"bytes"
	"testing"

	"github.com/ringsink/ringsink/uds/format"
)

// TestDocumentedZapSetupKeepsZapErrorsUnderOverload: the package doc's
// set-up for zap and zerolog ("Severity from slog, zap and zerolog": a
// Format with Options.Level: format.LevelField and Config.Level:
// format.LevelField, lines written with Write)
// sends a zap "error" line to the daemon as err (<11>). Under overload the
// Writer must admit it as err too: with the ring filled with Info records
// up to its reserve, the error line still fits, no drop is counted under
// Info for it, and it reaches the daemon as <11>.
func TestDocumentedZapSetupKeepsZapErrorsUnderOverload(t *testing.T) {
	f, err := format.RFC3164(format.User|format.Info, format.Options{AppName: "api", Level: format.LevelField})
	if err != nil {
		t.Fatal(err)
	}
	w, d, _ := stuckWriter(t, Config{RingBytes: 16 << 10, Reserve: 4 << 10, KeepWait: -1, Format: f, Level: format.LevelField}, infoRec)
	before := w.Stats().DroppedBySeverity
	line := []byte(`{"level":"error","msg":"disk full"}` + "\n")
	if _, err := w.Write(line); err != nil {
		t.Errorf("a zap error line on a ring filled with Info up to its reserve: %v; want it admitted as err", err)
	}
	if after := w.Stats().DroppedBySeverity; after != before {
		t.Errorf("drops by severity went from %v to %v for a zap error line", before, after)
	}
	close(d.release)
	flushAndClose(t, w)
	if got := <-d.got; !bytes.Contains(got, []byte(`<11>`)) || !bytes.Contains(got, []byte(`"msg":"disk full"`)) {
		t.Errorf("the daemon did not receive the zap error line as <11>: last bytes %q", got[max(0, len(got)-120):])
	}
}
