// Package format renders the headers that syslog daemons and journald
// expect around each record, for uds.Config.Format: RFC 3164 (what glibc's
// syslog(3) sends to /dev/log), RFC 5424, and journald's native protocol.
//
// The Writer's consumer goroutine applies a format, never the producers:
// Write still only copies the record into the ring. The consumer renders
// each header into a buffer it reuses and sends it, the record and any
// trailer as separate iovecs, so nothing is copied and nothing allocated.
// Every record sent in one batch carries the time the consumer took the
// batch, to the second (RFC 3164) or microsecond (RFC 5424): close to the
// Write while the daemon keeps up, the time of sending for records that
// waited in the offline ring. Journald stamps records itself on receipt.
//
// A record's severity comes from, in order: a leading "<PRI>" the producer
// wrote ("<3>disk full" is severity Err), which is cut from the body;
// Options.Level, which can read a structured logger's level field
// (LevelField); the default the format was made with. The facility is the
// format's: a prefix sets the severity only (PRI & 7), so "<80>" is not
// authpriv: a record cannot move itself into another facility. The
// severity is the record's, emerg included: "<0>" arrives as the format's
// facility at emerg, and rsyslog's default configuration on Debian and
// Ubuntu (*.emerg :omusrmsg:*) writes every emerg message, of any
// facility, to every logged-in terminal. Nothing caps the severity a
// record may choose (not done yet): a record that starts with text from
// outside can choose emerg, so do not let outside text start a record, or
// exclude the format's facility from that rule (*.emerg;local2.none).
// Options.RecordFacility lets records choose the facility too (facility
// 0, kern, still takes the format's). A prefix above
// <191>, or with a leading zero, is not a PRI: it stays in the body. One trailing newline is cut, so slog, zap and
// zerolog lines arrive as single messages without a stray '\n'.
//
// Daemon set-up for the datagram sockets these formats target:
//
//	# syslog-ng: /dev/log is its system() or unix-dgram() source
//	source s_app { unix-dgram("/run/app/log.sock"); };
//
//	# rsyslog: imuxsock takes RFC 3164 as glibc sends it (and stamps it with
//	# its own receive time); RFC 5424 needs its regular parsers
//	module(load="imuxsock")
//	input(type="imuxsock" Socket="/run/app/log.sock" UseSpecialParser="off" ParseHostname="on" IgnoreTimestamp="off")
//
//	# journald: its native socket, no set-up
//	uds.Config{Path: "/run/systemd/journal/socket", Format: journald}
package format
