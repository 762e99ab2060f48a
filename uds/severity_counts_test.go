//go:build unix

package uds

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

// TestSeverityCountsAreExactUnderRacingProducersAndClose: many more
// producers than CPUs write records of mixed sizes (some near MaxRecord,
// so the ring pads at its end often) and mixed severities, through
// WriteSeverity and through Write with a <PRI>, into a small ring, while
// Close is called in the middle of it. For every severity, the records
// whose call returned nil are exactly those the daemon received plus those
// counted in Stats.DroppedBySeverity; calls that returned ErrClosed are
// exactly Stats.DroppedClosed; and the conservation law holds.
func TestSeverityCountsAreExactUnderRacingProducersAndClose(t *testing.T) {
	path := sockPath(t)
	d := startDaemon(t, path)
	w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, RingBytes: 32 << 10, Reserve: 4 << 10, KeepWait: time.Millisecond})
	producers := 8 * runtime.GOMAXPROCS(0)
	var ok [8]atomic.Uint64 // calls that returned nil, by severity
	var closedErrs atomic.Uint64
	var wg sync.WaitGroup
	for g := range producers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := 0; ; i++ {
				sev := [...]format.Priority{format.Info, format.Info, format.Info, format.Debug, format.Warning, format.Err, format.Notice, format.Emerg}[rng.IntN(8)]
				size := 16 + rng.IntN(200)
				if rng.IntN(50) == 0 {
					size = w.MaxRecord() - 16 - rng.IntN(64)
				}
				var rec []byte
				viaPRI := rng.IntN(2) == 0
				if viaPRI {
					rec = fmt.Appendf(nil, "<%d>S%d %d %d ", 8+sev, sev, g, i)
				} else {
					rec = fmt.Appendf(nil, "S%d %d %d ", sev, g, i)
				}
				rec = append(rec, bytes.Repeat([]byte{'x'}, max(0, size-len(rec)))...)
				var err error
				if viaPRI {
					_, err = w.Write(rec)
				} else {
					_, err = w.WriteSeverity(sev, rec)
				}
				switch {
				case err == nil:
					ok[sev].Add(1)
				case errors.Is(err, ErrClosed):
					closedErrs.Add(1)
					return
				default:
					t.Errorf("write: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if err := w.Close(); err != nil {
		t.Errorf("Close with a reading daemon: %v", err)
	}
	wg.Wait()
	d.wait()
	var got [8]uint64
	for _, stream := range d.data() {
		recs, torn := frames(stream)
		if torn != 0 {
			t.Errorf("a torn frame of %d bytes", torn)
		}
		for _, r := range recs {
			if len(r) > 0 && r[0] == '<' {
				r = r[bytes.IndexByte(r, '>')+1:]
			}
			var sev int
			if _, err := fmt.Sscanf(string(r), "S%d", &sev); err != nil || sev < 0 || sev > 7 {
				t.Fatalf("a record the test did not write: %q", r[:min(len(r), 40)])
			}
			got[sev]++
		}
	}
	st := w.Stats()
	checkConservation(t, st)
	var drops uint64
	for sev := range 8 {
		if n := ok[sev].Load(); n != got[sev]+st.DroppedBySeverity[sev] {
			t.Errorf("severity %d: %d calls returned nil; the daemon got %d and %d are counted dropped (sum %d)", sev, n, got[sev], st.DroppedBySeverity[sev], got[sev]+st.DroppedBySeverity[sev])
		}
		drops += st.DroppedBySeverity[sev]
	}
	if st.DroppedFull != drops {
		t.Errorf("DroppedFull %d; the sum by severity is %d", st.DroppedFull, drops)
	}
	if n := closedErrs.Load(); st.DroppedClosed != n {
		t.Errorf("DroppedClosed %d; %d calls returned ErrClosed", st.DroppedClosed, n)
	}
	var nils [8]uint64
	for sev := range 8 {
		nils[sev] = ok[sev].Load()
	}
	t.Logf("producers %d; by severity: nil %v, dropped %v, received %v", producers, nils, st.DroppedBySeverity, got)
}
