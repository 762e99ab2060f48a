// Package uds delivers records to a local daemon over a Unix socket (stream,
// datagram or seqpacket) without ever blocking the goroutines that produce
// them.
//
//	Write ──copy──► byte ring ──► consumer goroutine ──writev──► daemon
//	                                 │   ▲
//	                  daemon away:   ▼   │ reconnect: notice, backlog, live
//	                              offline.Ring (drop-oldest)
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
// The consumer counts what each write sent in complete records, so a failed
// write leaves exactly the unsent suffix queued, in order. A record torn by
// a failed write is sent whole on the next connection, never continued. A
// daemon that reads slowly is slow, not stalled: the Writer
// goes at its pace (Stats.Slow). One that stops reading (paused) for
// Config.WriteTimeout keeps its connection: the Writer waits, moving
// waiting records into the offline ring while it has room, so order holds
// and nothing is evicted needlessly (Stats.Stalls, LastError).
//
// Nothing is lost silently: Stats counts records written, buffered, pending
// and dropped by reason (refusals for room by severity too), and Accepted + Preloaded + Recovered + Resent ==
// Written + Evicted + DroppedUnsendable + DroppedDamaged + SpillLost +
// Buffered + Pending whenever the writer is quiescent. The library never
// logs; LastError says why the daemon is unreachable. The caller's code
// that the consumer goroutine runs (Config.Dial, Config.DropNotice,
// Config.Format) cannot take the process down: a panic in it is recovered
// and counted (Stats.Panics, LastError wraps ErrCallbackPanic); a record
// the Format panicked on is skipped and counted (DroppedUnsendable).
//
// # Shutdown
//
// As with net/http.Server, Close is prompt and Shutdown is patient. Both
// stop intake, send what is queued, close the socket and wait for the
// consumer goroutine: Close for up to Config.CloseTimeout, Shutdown(ctx)
// until ctx ends, waiting for an absent daemon as Flush does. What could
// not be sent is kept where it outlives the Writer: in the caller's
// Config.Offline, or in the spill file for the next Open. Kept is not an
// error. Records neither sent nor kept (left in the offline ring the
// Writer made itself because Config.Offline was nil, evicted to make room,
// lost with a spill file removed from under the Writer) make the error a
// *LostError, which counts them by reason and wraps the cause: ctx.Err(),
// or context.DeadlineExceeded for Close.
//
// The bound holds whatever the caller's callbacks do. A quarter of a
// second after it, Close and Shutdown return even if the consumer
// goroutine is still inside Config.Dial (one that ignores its ctx),
// Config.DropNotice or Config.Format; a Close or Shutdown called from such
// a callback returns at once. Their error then wraps ErrStuck, and is a
// *LostError counting the records the consumer still holds
// (LostError.Held). The shutdown goes on when the callback returns, and
// until it ends the consumer owns Config.Offline: a later Shutdown waits
// for it and returns the final result, after which Config.Offline is the
// caller's again.
//
// Flush waits until every record accepted before it was handed to the
// kernel or evicted; evictions are not hidden: the Flush answered after
// them returns a *LostError counting them (LostError.Evicted), once.
// Sync, for callers that expect an fsync-like method, is Flush bounded by
// Config.CloseTimeout.
//
// # Severity-aware admission
//
// When the ring overflows, the least severe records go first: a record of
// Config.ShedFrom (Notice by default) or less severe is refused, and
// counted under its severity (Stats.DroppedBySeverity), when it would
// leave less than Config.Reserve bytes of the ring free (an eighth of
// RingBytes by default); Warning and more severe records take any room
// there is, and when the ring is full, reserve included, wait up to
// Config.KeepWait (10 ms by default) for the consumer to free some. A
// record's severity is WriteSeverity's argument; for Write, a leading
// "<PRI>" (only its first 5 bytes are read), else, with Config.Level
// (opt-in: it costs the producer a search of up to 256 bytes), the
// logger's level field, else Info. With a Format of package format the
// severity of a WriteSeverity record reaches the daemon in the header;
// with another Format, or none, it decides admission only, and the bytes
// sent are the caller's. The drop notice (Config.DropNotice) reports the
// drops since the last one by severity (Drops.BySeverity); the consumer
// makes it and sends it before anything else, so it is never queued
// behind the records that filled the ring. Stats.DroppedFull is the sum
// of Stats.DroppedBySeverity. See docs/design.md, "Severity-aware
// admission".
//
//	w, _ := uds.Open(uds.Config{Path: "/dev/log", Format: f, DropNotice: notice})
//	w.WriteSeverity(format.Err, []byte("payment failed: card declined"))
//
// # Records the daemon never read
//
// A record is Written once the kernel took it. If the daemon's socket dies
// (it stopped, restarted or crashed) before the daemon read it, the kernel
// throws it away. On Linux the kernel tells the sender how much the daemon
// has not consumed (SIOCOUTQ, an upper bound), and the consumer goroutine
// asks once per write batch while records are open: when a connection
// fails, the records not known read are counted, Stats.Unconfirmed and
// Drops.Unconfirmed in the drop notice (at most once: conservative, some of
// them may have arrived). With Config.AtLeastOnce they are sent again,
// first, on the next connection instead (Stats.Resent; the daemon may see
// some twice). Write does not change. What a daemon loses after reading
// (its read buffer and queues: syslog-ng reads up to log_msg_size at a
// time) no socket can tell. Off Linux nothing
// tells, and what the daemon left unread is lost without a count: at most
// the socket's send buffer and the daemon's receive buffer.
//
// # Records that survive a crash: Config.SpillDir
//
// With Config.SpillDir the byte ring lives in a memory-mapped file
// (MAP_SHARED) instead of the Go heap. Write does the same work (a claim,
// a copy, a release store; two more plain stores), and the page cache keeps
// every accepted record when the process is SIGKILLed, OOM-killed or
// panics. The next Open with the same directory sends them first, in order
// (Stats.Recovered); a record whose Write was killed mid-copy is skipped
// (Stats.SkippedUnfinished), never sent torn; records the kernel had
// taken are not sent again, except those of a send that the kill
// interrupted (the kernel took them, the count never came back). The ring
// is then also the backlog while the daemon is away: the oldest records
// are evicted (Stats.Evicted) to keep a quarter of it free.
//
//	w, err := uds.Open(uds.Config{Path: "/dev/log", SpillDir: "/run/app/spill"})
//
// The consumer checksums (CRC-32C, off the producers' path) every record it
// holds on to: while the daemon is away or not reading, before an msync, at
// Close. Durability levels:
//
//   - the process's crash: every accepted record, on any file system
//     (recovery trusts records it did not checksum within the boot that
//     wrote them: Linux's boot id, the boot time on macOS and the BSDs;
//     where there is neither, they are skipped, Stats.SkippedUnverified);
//   - the host's crash: with Config.SpillSync, every record older than the
//     interval (the consumer msyncs the file; a reboot trusts only
//     checksummed records), on a disk file system.
//
// On tmpfs (/dev/shm, /run) the file costs no writeback and survives only
// the process. One directory belongs to one open Writer (a flock on the
// directory: ErrSpillInUse). The directory and its file are private
// (0700, 0600) and never followed through a symbolic link, and no
// directory or link on the way to them may be another user's to change;
// one that
// another user owns or has any permission on is refused (ErrSpillUnsafe:
// a directory others may only read could be flocked by them, and hold
// every Open out), and a ring
// file removed or replaced under the Writer makes Close report its
// records lost (ErrSpillLost), not kept. Only this user and root can
// truncate the mapped file, which kills the process with SIGBUS. A damaged file is refused (ErrSpillDamaged) and left as it
// was; damage inside it to checksummed records costs the records it hits,
// counted (Stats.SkippedDamaged). While the Writer runs, another process
// (or a stray write) changing a record's header in the file costs that
// record, counted in Stats.DroppedDamaged, never a panic or a garbled
// record; a header damaged before the consumer read it stops the consumer
// at that record until the next Open recovers past it (its producer may
// still be writing it: see docs/design.md, "Damage while running"). Not
// covered: damage to a record's payload is sent as it is, and damage to
// the head stored in the file header can cost records without a count. While the daemon is
// away, a record larger than a quarter of the ring finds no room (Write
// counts it in DroppedFull; WriteContext waits until the daemon returns).
//
// # Who is listening: Config.RequirePeerUID
//
// A socket path is a name anyone who can write its directory may bind once
// the daemon is gone, and the backlog then goes to whoever did. For records
// that hold secrets, Config.RequirePeerUID sends only to a listener that
// runs as Config.PeerUID (root by default): the kernel's peer credentials
// on a stream or seqpacket socket (SO_PEERCRED, LOCAL_PEERCRED), on a
// datagram socket, which carries none, the owner of the socket file the
// connection went to, which must be the one Path names (a weaker check;
// an abstract socket is refused).
// It costs one getsockopt (or stat) per connection; a mismatch is a failed
// dial, and the records wait.
//
// # Datagram sockets
//
// The daemons every Linux host runs listen on datagram sockets: /dev/log
// (rsyslog's imuxsock, syslog-ng's system() and unix-dgram() sources) and
// journald's /run/systemd/journal/socket. The Writer finds a socket's type
// at every connection (or takes Config.Network) and then sends one record
// per datagram, up to 1024 per sendmmsg call, straight from the ring's
// memory; the producers' side does not change. Framing does not apply. A
// record is Written when the kernel accepted its datagram; none is ever
// torn. Once connected, MaxRecord is what the socket takes in one datagram
// (its send buffer), and Write refuses larger records; one accepted before
// the limit was known is skipped at send time and counted
// (Stats.DroppedUnsendable). A full receive queue (EAGAIN, ENOBUFS) waits in
// the poller, like a stream that does not drain; a restarted daemon (a new
// socket inode: ECONNREFUSED) is reconnected with the same backoff, offline
// ring, drop notice, Flush and Close as a stream. On a seqpacket socket an
// empty record cannot be sent (a zero-length message reads as the end of
// the stream): it is skipped and counted the same way.
//
// # Formats the daemons expect
//
// Config.Format wraps every record in a syslog header (RFC 3164, as
// glibc's syslog(3) sends it, or RFC 5424) or journald's native fields
// (package format). The consumer renders the header and sends it, the
// record and a trailer as separate iovecs, so Write does not change and
// nothing is copied. A record's severity comes from a leading "<PRI>" the
// producer wrote ("<3>disk full"), from its slog, zap or zerolog level field
// (format.LevelField), or the format's default. The facility is the
// format's: a prefix sets the severity only, so a record cannot make itself
// authpriv ("<80>"), unless format.Options.RecordFacility lets it. The
// severity is the record's, emerg included: "<0>" arrives as the format's
// facility at emerg, which rsyslog's default configuration on Debian and
// Ubuntu (*.emerg :omusrmsg:*) writes to every logged-in terminal, of any
// facility. Nothing caps the severity a record may choose yet. (Without a Format, a daemon that
// parses its input reads a record's own "<PRI>": use a Format, or the
// daemon's no-parse flag, for records that carry text from outside.)
//
//	f, _ := format.RFC3164(format.User|format.Info, format.Options{AppName: "api", Level: format.LevelField})
//	uds.Config{Path: "/dev/log", Format: f}
//
//	j, _ := format.Journald(format.User|format.Info, format.Options{AppName: "api"})
//	uds.Config{Path: "/run/systemd/journal/socket", Format: j}
//
// The daemon side, on a socket of the application's own:
//
//	# syslog-ng: RFC 3164 as is; RFC 5424 with flags(syslog-protocol)
//	source s_app { unix-dgram("/run/app/log.sock" flags(syslog-protocol)); };
//
//	# rsyslog imuxsock: RFC 3164 as is (it stamps messages itself); RFC 5424
//	# needs its regular parsers
//	module(load="imuxsock")
//	input(type="imuxsock" Socket="/run/app/log.sock" UseSpecialParser="off" ParseHostname="on" IgnoreTimestamp="off")
//
// Both set-ups are tested against the real daemons (TestSyslogNGParsesFormats,
// TestRsyslogImuxsock).
//
// # Severity from slog, zap and zerolog
//
// A record's syslog severity is what a Format sends as its <PRI>, and what
// Writer.WriteSeverity admits it by when the ring runs short of room.
// NewHandler returns a slog.Handler that passes each record's level as its
// severity (format.SeverityOf), so nothing parses the record:
//
//	logger := slog.New(uds.NewHandler(w, nil)) // JSON; HandlerOptions.New formats with any handler
//
// zap and zerolog write their JSON lines with Write, and their level field
// ("level":"warn") gives the severity through format.LevelField, as slog's
// own ("level":"WARN", level=WARN) does. Set it in both places: in the
// Format's Options, for the <PRI> the daemon gets, and in Config.Level,
// for admission (without it Write admits such a line as Info, and an
// error line is shed with the Info flood):
//
//	f, _ := format.RFC3164(format.User|format.Info, format.Options{AppName: "api", Level: format.LevelField})
//	w, _ := uds.Open(uds.Config{Path: "/dev/log", Format: f, Level: format.LevelField})
//	zl := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), w, zap.InfoLevel))
//	rl := zerolog.New(w)
//
// zap's and zerolog's debug (and trace) arrive as debug, info as info, warn
// as warning, error as err, dpanic and panic as crit, fatal as alert. A
// zerolog writer that implements zerolog.LevelWriter is handed each line's
// level: one whose WriteLevel calls WriteSeverity parses nothing. The
// benchmarks module's examples (Example_zapSeverity,
// Example_zerologSeverity) run both.
//
// # Pointing it at a daemon
//
// With Newline framing, a record that already ends in '\n' (a slog, zap or
// zerolog line) is sent as it is, and one with a '\n' inside, or a NUL
// anywhere (syslog-ng's stream reader ends a message at either), is
// refused (ErrNewline, ErrNUL: counted in Stats.DroppedNewline) unless
// Config.AllowNewlines is set: a record's bytes can then neither end its
// message early nor forge another. Structured loggers never write either
// raw (JSON escapes them, text handlers quote). Datagram and seqpacket
// sockets carry one record per message and LengthPrefix counts the
// record's bytes, so any byte is data there; Raw sends records as they
// are, their own framing. Set Config.MaxRecord to
// the daemon's own limit so an oversized record is refused and counted, not
// truncated or split downstream.
//
// syslog-ng (newline framing; records up to log_msg_size, 64 KiB by
// default):
//
//	source s_app { unix-stream("/run/app/log.sock" flags(no-parse) log_msg_size(65536)); };
//	uds.Config{Path: "/run/app/log.sock", Framing: uds.Newline, MaxRecord: 65536}
//
// rsyslog (newline framing; imuxsock is datagram-only, so use imptcp's
// unix-socket listener; it truncates above maxMessageSize, 8 KiB by
// default):
//
//	module(load="imptcp")
//	input(type="imptcp" path="/run/app/log.sock" unlink="on")
//	uds.Config{Path: "/run/app/log.sock", Framing: uds.Newline, MaxRecord: 8192}
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
