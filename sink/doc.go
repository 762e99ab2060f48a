// Package sink implements a generic fire-and-forget background sink: any
// number of goroutines push typed messages (metrics events, dead-letter
// records, audit rows) without blocking, and one consumer goroutine batches
// them into a Drain — by size (Config.BatchSize) or by age
// (Config.FlushInterval), whichever comes first.
//
//	producers ──TryPush/Push──► queue ──► consumer ──► Drain.WriteBatch
//	                                            │
//	                   Flush barrier ───────────┘ (write, Sync, answer)
//
// The contract:
//
//   - TryPush never blocks and never allocates: one atomic load, one CAS on
//     the queue and one publishing store. When the queue is full it returns
//     ErrOverflow and counts a drop. Push is the blocking form: it parks
//     until the consumer frees room or its context ends.
//   - Flush returns once every message accepted before it was written (and
//     synced, for a Syncer drain), and returns the drain's errors that no
//     earlier Flush returned, instead of hiding them. A Flush that gives up
//     (its context ended) leaves those errors to the next one.
//   - Shutdown(ctx) stops intake, writes what is queued, syncs and closes
//     the drain, and waits for the consumer, until ctx ends whatever the
//     drain does (it then returns within a short grace: a drain call that
//     ignores its context is reported with ErrStuck); Close does the same
//     bounded by Config.CloseTimeout (5 s by default), as net/http.Server
//     does. Messages accepted and not delivered come back as a *LostError
//     that counts them (Unwritten, InFlight, Failed: with Stats they
//     account for every message, see LostError) and wraps the cause; other
//     drain errors no Flush returned are returned as they are. A push that
//     returned nil before Close returned is written, or counted in that
//     error. Close and Shutdown may be called together and again: the
//     earliest bound ends the shutdown (a Close bounds a Shutdown in
//     progress), and every call returns the same result.
//   - A drain method or Config.OnError must not call Flush, Close or
//     Shutdown on its own sink: they wait for the consumer goroutine,
//     which is the caller (Close then returns after CloseTimeout with
//     ErrStuck).
//   - The drain runs only on the consumer goroutine, never concurrently with
//     itself. A drain that panics does not take the process down: the panic
//     is recovered, counted (Stats.Panics), reported through Config.OnError
//     and returned by the next Flush as ErrDrainPanic, and the consumer goes
//     on with the next batch. A panic in OnError is recovered too
//     (Stats.OnErrorPanics).
//   - Configuration fails in New, never later: a nil Drain panics there (a
//     programmer error), BatchSize is capped at the queue's capacity, and
//     New allocates everything the consumer needs.
//   - An idle sink costs nothing: the consumer blocks without a timer, and
//     the interval timer runs only while a partial batch waits. How the
//     consumer waits for messages is Config.Wait (package wait): by default
//     it lingers up to a millisecond before it parks, and a push wakes it
//     only once the queue is a quarter to half full (package wait), so a
//     push rarely pays for waking it, and a message may wait up to the
//     linger, rounded up to the platform's timer resolution, before the
//     consumer takes it into a batch. Flush, Close and Shutdown wake it at
//     once.
//   - Nothing is lost silently: Stats.Pushed == Stats.Delivered +
//     Stats.Failed + Stats.Pending at any quiescent moment, and refusals are
//     counted in Dropped. The library never logs.
//
// Stats is a plain struct; to export it, publish a func:
//
//	expvar.Publish("audit_sink", expvar.Func(func() any { return s.Stats() }))
package sink
