// Package mpsc implements bounded lock-free queues for many producer
// goroutines and one consumer goroutine.
//
// [Ring] holds values of any type: a producer claims a slot with one CAS,
// copies its value and publishes it with one atomic store. [ByteRing] holds
// variable-length byte records in one byte buffer, so the consumer can hand
// them to writev without copying.
//
// The contract:
//
//   - TryPush and TryWrite may be called from any goroutine. They never
//     block, never make a system call and never allocate. When the ring is
//     full they fail at once and the caller decides what to do
//     (drop-newest).
//   - TryPop, TryPopBatch, Peek, Release, Wait and SetWait are consumer
//     only: exactly one goroutine at a time may call them.
//   - Wait blocks until the next push, Wake, Close or the context's end.
//     A push that returned true before or during a Wait always ends it. How
//     the consumer waits is its choice (SetWait, package wait): parked, like
//     a channel receive (the default); lingering, where a value may wait up
//     to the linger, rounded up to the platform's timer resolution, and
//     producers pay no wake-up; or spinning on a core of its own. An idle
//     consumer uses no CPU unless it spins.
//   - Values come out in the order their pushes claimed slots. A producer
//     preempted between its claim and its publish holds the consumer at
//     that value; the window holds only the copy of the value.
//   - A failed push is a few loads and never yields. A producer that
//     retries on full should call runtime.Gosched after a refusal (or every
//     few): with more busy goroutines than cores the consumer may be
//     runnable without a processor, and only a yield lets it drain the
//     ring. The cost of not yielding is measured in docs/benchmarks.md.
package mpsc
