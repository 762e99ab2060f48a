// Package benchmarks compares ringsink with the libraries and idioms it
// replaces, in their own module so their dependencies never enter
// ringsink's go.mod:
//
//   - queues: mpsc.Ring against a buffered channel, go-diodes' ManyToOne
//     (the ring under zerolog's diode writer) and Workiva's
//     queue.RingBuffer;
//   - socket writers: uds.Writer against zap's BufferedWriteSyncer,
//     zerolog's diode.Writer and a mutex-guarded socket write, all writing
//     to the same embedded Unix-socket reader;
//   - loggers: slog, zap and zerolog writing through uds.Writer against
//     their usual writers;
//   - overload by severity: lines offered at ten times what a slow reader
//     takes, 1% at warning or above, through uds.Writer (WriteSeverity and
//     Write), zap's BufferedWriteSyncer and zerolog's diode.Writer: per
//     severity, what was delivered and dropped (BenchmarkSeverityOverload).
//
// Run them with
//
//	cd benchmarks && go test -run '^$' -bench . -count 5 | tee new.txt && benchstat new.txt
//
// TestEquivalence checks that every compared implementation delivers the
// same records, so a comparison never measures a broken peer.
//
// It also holds the runnable examples that need those libraries (zap and
// zerolog logging through uds.Writer), for the same reason.
package benchmarks
