// Package offline implements a bounded FIFO that evicts its oldest entry when
// full: where records wait while their destination (a log daemon's socket) is
// away, so that when it returns the newest records are the ones still held,
// in order.
//
// When a push finds the ring full, the writer laps the oldest entry: it is
// evicted (returned to the caller for reuse and counted by Dropped), its slot
// takes the new value, and the oldest position moves one step on:
//
//	capacity 4, holding a b c d          push e
//
//	  head                                     head
//	   v                                        v
//	 +---+---+---+---+                 +---+---+---+---+
//	 | a | b | c | d |     ------>     | e | b | c | d |    evicted: a
//	 +---+---+---+---+                 +---+---+---+---+    Dropped: +1
//	                                   order: b c d e
//
// Senders use Peek and Discard to send a prefix and remove only what was
// sent: a failed write in the middle leaves the unsent suffix in place, in
// order. Drain takes everything at once.
//
// The contract: a Ring is owned by one goroutine at a time (not safe for
// concurrent use; Dropped may be read from anywhere). No method allocates
// except Drain when dst must grow. Removed slots are zeroed.
package offline
