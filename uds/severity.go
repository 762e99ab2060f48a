package uds

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

// Severity-aware admission (docs/design.md, "Severity-aware admission").
//
// Every record has a syslog severity: WriteSeverity's argument; else, for
// Write, a leading "<PRI>" (at most 5 bytes are read); else, with
// Config.Level, what it finds; else Info. A record of Config.ShedFrom or
// less severe is claimed only if Config.Reserve bytes of the ring stay
// free once it is in (the check is part of the ring's claim CAS, so
// concurrent writers cannot overrun it); a more severe record takes any
// room there is and, when there is none, waits up to Config.KeepWait for
// the consumer to free some. A refused record is counted under its
// severity (Writer.dropped): Stats.DroppedFull is their sum, and the
// consumer's drop notice reports them.

// defaultKeepWait is Config.KeepWait's default.
const defaultKeepWait = 10 * time.Millisecond

// priPrefix is the "<N>" prefix that carries a WriteSeverity record's
// severity to a Format of package format, which reads a leading <PRI> as
// the record's severity and cuts it.
var priPrefix = [8][3]byte{
	{'<', '0', '>'}, {'<', '1', '>'}, {'<', '2', '>'}, {'<', '3', '>'},
	{'<', '4', '>'}, {'<', '5', '>'}, {'<', '6', '>'}, {'<', '7', '>'},
}

// carriesPRI reports whether f cuts a leading <PRI> from every record and
// takes its severity (format.Format's optional CutsPRI method): package
// format's formats do. For another Format, or none, a record's severity
// serves admission only, and no prefix is added to its bytes.
func carriesPRI(f format.Format) bool {
	c, ok := f.(interface{ CutsPRI() bool })
	return ok && c.CutsPRI()
}

// setAdmission checks and defaults the admission fields of cfg.
func (cfg *Config) setAdmission() error {
	switch {
	case cfg.Reserve > cfg.RingBytes/2:
		return fmt.Errorf("uds: Reserve %d is above half of RingBytes (%d): records below ShedFrom could never fit", cfg.Reserve, cfg.RingBytes)
	case cfg.ShedFrom < 0 || cfg.ShedFrom > format.Debug:
		return fmt.Errorf("uds: ShedFrom %d is not a syslog severity (0 for the default, Notice; Alert 1 to Debug 7)", cfg.ShedFrom)
	}
	if cfg.Reserve == 0 {
		cfg.Reserve = cfg.RingBytes / 8
	}
	cfg.Reserve = max(cfg.Reserve, 0) // negative: no reserve
	if cfg.ShedFrom == 0 {
		cfg.ShedFrom = format.Notice
	}
	if cfg.KeepWait == 0 {
		cfg.KeepWait = defaultKeepWait
	}
	cfg.KeepWait = max(cfg.KeepWait, 0) // negative: no wait
	return nil
}

// WriteSeverity is Write for a record whose syslog severity the caller
// knows (a slog handler, say): sev is format.Emerg to format.Debug (only
// sev&7 counts, so a facility or'ed in is ignored), lower is more severe.
// Nothing in p is parsed. A record of Config.ShedFrom or less severe is
// refused, and counted under its severity (Stats.DroppedBySeverity), when
// it would leave less than Config.Reserve bytes of the ring free; a more
// severe one takes any room there is, and when the ring is full waits up
// to Config.KeepWait for room before it is dropped and counted. Otherwise
// as Write: it copies p, and with room it neither blocks, makes a syscall,
// takes a lock nor allocates; the errors are Write's.
//
// With a Format of package format (format.RFC3164, RFC5424, Journald) the
// severity reaches the daemon as the record's: the record is stored with
// a "<N>" prefix, which the format reads and cuts (a <PRI> already at the
// start of p is then part of the message). With any other Format, or
// none, sev decides admission only, and the bytes sent are p's.
func (w *Writer) WriteSeverity(sev format.Priority, p []byte) (int, error) {
	if err := w.admit(p); err != nil {
		return 0, err
	}
	sev &= 7
	return w.put(sev, w.prefix(sev), p)
}

// prefix returns the <N> prefix for sev, or nil where no Format reads it.
func (w *Writer) prefix(sev format.Priority) []byte {
	if !w.carry {
		return nil
	}
	return priPrefix[sev][:]
}

// severity returns the severity Write admits p at, and the prefix that
// carries it to the Format when it did not come from p's own <PRI>.
func (w *Writer) severity(p []byte) (format.Priority, []byte) {
	if sev, ok := leadingPRI(p); ok {
		return sev, nil
	}
	if w.cfg.Level != nil {
		if sev, ok := w.cfg.Level(p); ok {
			sev &= 7
			return sev, w.prefix(sev)
		}
	}
	return format.Info, nil
}

// leadingPRI returns the severity of a leading "<PRI>" (0 to 191, no
// leading zeros, as package format reads it): at most its first 5 bytes
// are read.
func leadingPRI(p []byte) (format.Priority, bool) {
	if len(p) < 3 || p[0] != '<' {
		return 0, false
	}
	v := 0
	for i := 1; i < len(p) && i <= 4; i++ {
		c := p[i]
		switch {
		case c == '>' && i > 1:
			if v > 191 {
				return 0, false
			}
			return format.Priority(v & 7), true
		case c < '0' || c > '9' || (i == 2 && p[1] == '0'):
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return 0, false
}

// put admits pre+p as one record of severity sev. Write does the same
// inline, for its common record.
func (w *Writer) put(sev format.Priority, pre, p []byte) (int, error) {
	if w.ring.TryWriteReserve(pre, p, w.reserveFor(sev)) {
		return len(p), nil
	}
	return w.refused(sev, pre, p)
}

// reserveFor returns the ring space a record of severity sev must leave
// free: Config.Reserve for ShedFrom or less severe, none for the rest.
func (w *Writer) reserveFor(sev format.Priority) int {
	if sev >= w.cfg.ShedFrom {
		return w.cfg.Reserve
	}
	return 0
}

// refused is put's slow path: the ring had no room for the record (or
// none above the reserve).
func (w *Writer) refused(sev format.Priority, pre, p []byte) (int, error) {
	if w.ring.Closed() { // Close began after admit: not accepted
		w.droppedClosed.Add(1)
		return 0, ErrClosed
	}
	if sev < w.cfg.ShedFrom && w.cfg.KeepWait > 0 { // kept: it may wait
		ok, err := w.keepWait(pre, p)
		if err != nil {
			return 0, err
		}
		if ok {
			return len(p), nil
		}
	}
	// The consumer is behind. If it is runnable but has no processor
	// (more busy goroutines than cores), only a yield lets it run: without
	// one, producers spinning on a full ring starve it for a whole
	// scheduler quantum per wake-up. Every 8th drop of a severity yields,
	// so the typical drop stays cheap (docs/design.md, "Overload").
	if w.dropped[sev].Add(1)%yieldEvery == 0 {
		runtime.Gosched()
	}
	if w.cfg.ErrorOnDrop {
		return 0, ErrFull
	}
	return len(p), nil
}

// timers holds the timers keepWait bounds its waits with, so that a wait
// allocates none once one has been made.
var timers = sync.Pool{New: func() any { t := time.NewTimer(time.Hour); t.Stop(); return t }}

// keepWait waits up to Config.KeepWait for room for a record more severe
// than ShedFrom, woken by every release of the consumer (park.Room, as
// WriteContext is). It reports true once the record is in, or an error
// (ErrClosed) if the Writer closed meanwhile; false when the time is up.
func (w *Writer) keepWait(pre, p []byte) (bool, error) {
	deadline := time.Now().Add(w.cfg.KeepWait)
	t := timers.Get().(*time.Timer)
	defer timers.Put(t)
	defer t.Stop()
	armed := false
	for {
		ch := w.room.Register()
		if w.ring.TryWriteReserve(pre, p, 0) {
			w.room.Unregister()
			return true, nil
		}
		// closed is set by Close before it closes stop; the ring is
		// closed later, by the consumer (after a write in progress).
		if w.closed.Load() || w.ring.Closed() {
			w.room.Unregister()
			w.droppedClosed.Add(1)
			return false, ErrClosed
		}
		left := time.Until(deadline)
		if left <= 0 {
			w.room.Unregister()
			return false, nil
		}
		if !armed {
			t.Reset(left)
			armed = true
		}
		select {
		case <-ch:
		case <-t.C:
			armed = false
		case <-w.stop:
		}
		w.room.Unregister()
	}
}

// admitCtx is WriteContext after admit: the claim at the record's
// severity's reserve, then, without room, the wait.
func (w *Writer) admitCtx(ctx context.Context, p []byte) (int, error) {
	sev, pre := w.severity(p)
	reserve := w.reserveFor(sev)
	// A call that waited a millisecond or more goes first (park.Room,
	// "Fairness"): until it is through, this one queues behind it.
	if w.room.Open() && w.ring.TryWriteReserve(pre, p, reserve) {
		return len(p), nil
	}
	return w.writeWait(ctx, pre, p, reserve)
}
