package format

import (
	"bytes"
	"log/slog"
)

// SeverityOf maps a slog level to a syslog severity: below Info is Debug,
// Info is Info, Info+1 to Warn-1 is Notice, Warn to Error-1 is Warning,
// Error to Error+3 is Err, and Error+4 and above is Crit.
func SeverityOf(l slog.Level) Priority {
	switch {
	case l < slog.LevelInfo:
		return Debug
	case l == slog.LevelInfo:
		return Info
	case l < slog.LevelWarn:
		return Notice
	case l < slog.LevelError:
		return Warning
	case l < slog.LevelError+4:
		return Err
	}
	return Crit
}

// levelScan bounds how far into a record LevelField looks for the level.
const levelScan = 256

// LevelField finds the level a structured logger wrote near the start of
// rec and returns its severity: slog's text and JSON handlers
// (level=WARN, "level":"ERROR+2"), and zap's and zerolog's JSON encoders
// ("level":"warn"). It reads the first 256 bytes, allocates nothing, and
// knows trace, debug, info, warn(ing), error, dpanic, panic and fatal in
// any case (panic and dpanic map to Crit, fatal to Alert). Use it as
// Options.Level.
func LevelField(rec []byte) (Priority, bool) {
	head := rec[:min(len(rec), levelScan)]
	v, ok := jsonLevel(head)
	if !ok && (len(head) == 0 || head[0] != '{') { // a JSON line's text is not key=value
		v, ok = textLevel(head)
	}
	if !ok {
		return 0, false
	}
	name, off := v, 0
	if k := bytes.IndexAny(v, "+-"); k > 0 {
		name = v[:k]
		n, ok := atoi(v[k+1:])
		if !ok {
			return 0, false
		}
		off = n
		if v[k] == '-' {
			off = -n
		}
	}
	var l slog.Level
	switch {
	case fold(name, "debug"), fold(name, "trace"):
		l = slog.LevelDebug
	case fold(name, "info"):
		l = slog.LevelInfo
	case fold(name, "warn"), fold(name, "warning"):
		l = slog.LevelWarn
	case fold(name, "error"):
		l = slog.LevelError
	case fold(name, "dpanic"), fold(name, "panic"):
		return Crit, off == 0
	case fold(name, "fatal"):
		return Alert, off == 0
	default:
		return 0, false
	}
	return SeverityOf(l + slog.Level(off)), true
}

// jsonLevel finds "level":"V" and returns V.
func jsonLevel(head []byte) ([]byte, bool) {
	const key = `"level":"`
	i := bytes.Index(head, []byte(key))
	if i < 0 {
		return nil, false
	}
	v := head[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return nil, false
	}
	return v[:j], true
}

// textLevel finds the first key level=V (at the start or after a space or
// tab: loglevel= is another key) and returns V, up to a space, tab or line
// end.
func textLevel(head []byte) ([]byte, bool) {
	const key = "level="
	for off := 0; ; {
		i := bytes.Index(head[off:], []byte(key))
		if i < 0 {
			return nil, false
		}
		i += off
		if i == 0 || head[i-1] == ' ' || head[i-1] == '\t' {
			v := head[i+len(key):]
			if j := bytes.IndexAny(v, " \t\r\n"); j >= 0 {
				v = v[:j]
			}
			return v, true
		}
		off = i + len(key)
	}
}

// fold reports whether b is s, ignoring ASCII case.
func fold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}

// atoi parses a small decimal number.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 3 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
