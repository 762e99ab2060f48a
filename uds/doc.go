// Package uds delivers records to a local daemon over a Unix stream socket
// without ever blocking the goroutines that produce them.
//
//	Write ──copy──► mpsc.ByteRing ──► consumer goroutine ──writev──► daemon
//	                                     │   ▲
//	                      daemon away:   ▼   │ reconnect: notice, backlog, live
//	                                  offline.Ring (drop-oldest)
//
// [Writer] is an io.Writer for any number of goroutines: Write copies the
// record into a lock-free byte ring and returns, with no syscall, lock or
// allocation. One consumer goroutine reads records in place and sends them
// with writev (up to 1024 iovecs per call, through the runtime poller so the
// write deadline applies); it releases only records the kernel took whole.
// While the daemon is away, records move to an offline ring that evicts its
// oldest entry when full; on reconnect the consumer sends an optional drop
// notice, then the offline backlog oldest first, then live records.
//
// [Conn] is one connection: WriteRecords reports how many records were
// written completely, so a failed write leaves exactly the unsent suffix.
// A record torn by a failed write is sent whole on the next connection, never
// continued.
//
// Nothing is lost silently: Stats counts records written, buffered, pending
// and dropped by reason, and Accepted + Preloaded == Written + Evicted +
// Buffered + Pending whenever the writer is quiescent. The library never
// logs; LastError says why the daemon is unreachable.
//
// # Pointing it at a daemon
//
// syslog-ng (newline framing):
//
//	source s_app { unix-stream("/run/app/log.sock" flags(no-parse)); };
//	uds.Config{Path: "/run/app/log.sock", Framing: uds.Newline}
//
// rsyslog (newline framing; imuxsock is datagram-only, so use imptcp's
// unix-socket listener):
//
//	module(load="imptcp")
//	input(type="imptcp" path="/run/app/log.sock" unlink="on")
//	uds.Config{Path: "/run/app/log.sock", Framing: uds.Newline}
//
// Vector (newline_delimited or length_delimited framing):
//
//	[sources.app]
//	type = "socket"
//	mode = "unix_stream"
//	path = "/run/app/log.sock"
//	framing.method = "length_delimited"   # or "newline_delimited"
//	uds.Config{Path: "/run/app/log.sock", Framing: uds.LengthPrefix}
package uds
