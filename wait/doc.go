// Package wait holds the one choice a ringsink consumer exposes: how it
// waits when it finds nothing to read. spsc.Ring, mpsc.Ring and
// mpsc.ByteRing take it with SetWait; sink.Config and uds.Config with their
// Wait field.
//
// Every consumer first spins for a few microseconds (not at all with
// GOMAXPROCS=1) and yields once; the Policy says what it does next:
//
//   - [Park]: it blocks like a channel receive. The next push that comes
//     pays its wake-up (the runtime readying the consumer, which may take a
//     system call to wake a thread), and a value is read as soon as the
//     consumer runs. The rings' default.
//   - [Linger] up to d: it sleeps on a timer for d, and producers do not
//     wake it until a push fills half the ring (as little as a quarter
//     when it reuses the wake position of its previous linger, which
//     spares producers a cache miss), or a record is refused for want of
//     room, so a paced producer pays one atomic load per push and never a
//     wake-up before that fill. A value may wait up to d, rounded
//     up to the platform's timer resolution (on Linux the runtime's timers
//     wake in whole milliseconds when the process is otherwise idle, and
//     another timer of the process ending during the linger can add up to
//     a millisecond). Then it parks. The default of sink and uds (1 ms):
//     a log pipeline's producers are hot paths, and its records can wait
//     a millisecond.
//   - [Spin]: it never blocks. It polls the ring until a value comes, Wake
//     is called or its context or done channel ends, yielding the processor
//     now and then; it keeps a core busy for as long as it waits, and a
//     producer pays one atomic load per push and never a wake-up. For a
//     consumer with a core of its own.
//
// With every Policy a push that returned true before or during a Wait
// ends that Wait (at once for Park and Spin; within the linger, or at the
// fill, for Linger), and a consumer with nothing to read and no
// traffic blocks without a timer, except with Spin (and spsc.Ring where its
// fence is missing: see its Wait).
//
// The cost of each policy (push latency, delivery latency) is measured in
// docs/benchmarks.md, "Wait policies".
package wait
