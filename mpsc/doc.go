// Package mpsc implements bounded lock-free queues for many producer
// goroutines and one consumer goroutine.
//
// [Ring] holds values of any type in a power-of-two array of slots with
// per-slot sequence numbers (Dmitry Vyukov's bounded queue): a producer claims
// a slot with one CAS on the tail, copies its value, and publishes it with one
// atomic store. [ByteRing] holds variable-length byte records in one byte
// buffer (Agrona's ManyToOneRingBuffer) so the consumer can hand them to
// writev without copying.
//
// The contract:
//
//   - TryPush and TryWrite may be called from any goroutine. They never
//     block, never make a syscall and never allocate. When the ring is full
//     they fail at once and the caller decides what to count (drop-newest).
//   - TryPop, TryPopBatch, Wait and the ByteRing read/release methods are
//     consumer only: exactly one goroutine at a time may call them.
//   - Wait (and WaitChan) waits for the next push, Wake, Close or the
//     context's end, in the way SetWait chose (package wait): by default it
//     parks like a channel receive, and the push that finds it parked pays
//     its wake-up; lingering, it sleeps up to a stated time and producers
//     wake it only once half the ring is full past its head (or a record is
//     refused for want of room); spinning, it never blocks. A producer pays
//     one atomic load per push in every case. An idle consumer uses no CPU
//     (except spinning). A push that returned true before or during a Wait
//     always ends that Wait (within the linger, lingering): the consumer
//     blocks without a bound only after it has seen that nothing is
//     claimed, and a claim is a sequentially consistent CAS (docs/design.md,
//     "No lost wake-ups"). While a record is claimed but not yet published,
//     a parked Wait re-checks on a short timer instead.
//   - A producer preempted between its claim and its publish stalls the
//     consumer at that record (records are delivered in claim order); the
//     window holds only the copy of the value.
//   - A failed push stays a ~2 ns check and never yields. A caller that
//     retries on full, or keeps pushing while the ring is full, should call
//     runtime.Gosched after every refusal or every few: with more busy
//     goroutines than cores the consumer may be runnable without a
//     processor, and only a yield lets it drain the ring (sink and uds do
//     this on every 8th drop). Measured with 4 and 16 producers on 2 cores
//     (BenchmarkOverload): without a yield the ring delivers a fifth to two
//     fifths of what a channel does (single rounds from 0.04x to 1.3x),
//     with one 2.8x to 4x.
package mpsc
