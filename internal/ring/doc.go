// Package ring implements the rings behind package mpsc, and what sink and
// uds need of them beyond mpsc's API: Ring[T] and ByteRing with WaitChan
// (a stop channel and a reusable timer), Ready and the raw counters
// (Pushed, Written, Released, Pending), and the durable ByteRing that
// lives in a memory-mapped file (NewDurableByteRing, durable.go): its
// recovery after a crash, its seals (Seal, WaitUnsealed) and its damage
// handling (Damaged, Quiescent).
//
// mpsc wraps Ring and ByteRing by value and forwards the user methods;
// Init makes a zero ring for that. Each file opens with its invariants.
package ring
