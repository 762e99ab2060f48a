package baseline

import "strings"

// The severity overload, run by latbench's severity scenario and by the
// benchmarks module's BenchmarkSeverityOverload against zap and zerolog:
// SevProducers producers offer JSON lines at SevOverload times what a slow
// reader takes (SlowChunk per SlowPace), 1% of them at warning or above.
const (
	SevProducers = 4
	SevOverload  = 10
)

// The severities SevOf returns, most severe first.
const (
	SevErr = iota
	SevWarning
	SevInfo
)

// SevOf returns the severity of a producer's i-th line: of every 200, one
// err (the first) and one warning (the 101st), the rest info.
func SevOf(i uint64) int {
	switch i % 200 {
	case 0:
		return SevErr
	case 100:
		return SevWarning
	}
	return SevInfo
}

// SevLine returns a JSON line whose level field is level, padded to size
// bytes (longer if the fields alone are), with no newline:
// {"level":"info","msg":"request","pad":"xxx…"}.
func SevLine(level string, size int) []byte {
	head := `{"level":"` + level + `","msg":"request","pad":"`
	return []byte(head + strings.Repeat("x", max(size-len(head)-2, 0)) + `"}`)
}
