package uds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ringsink/ringsink/internal/pad"
	"github.com/ringsink/ringsink/internal/park"
	"github.com/ringsink/ringsink/internal/ring"
	"github.com/ringsink/ringsink/offline"
	"github.com/ringsink/ringsink/uds/format"
	"github.com/ringsink/ringsink/wait"
)

// Sentinel errors.
var (
	// ErrClosed is returned by Write, WriteContext, Flush and Sync once
	// Close or Shutdown has begun.
	ErrClosed = errors.New("uds: writer closed")
	// ErrTooLarge is returned by Write for a record above MaxRecord.
	ErrTooLarge = errors.New("uds: record too large")
	// ErrFull is returned by Write when the ring is full and
	// Config.ErrorOnDrop is set (otherwise the drop is only counted).
	ErrFull = errors.New("uds: ring full, record dropped")
	// ErrNewline is returned by Write, with Newline framing, for a record
	// with a '\n' before its end: the daemon would split it into several
	// messages (set Config.AllowNewlines to send it anyway).
	ErrNewline = errors.New("uds: record contains a newline")
	// ErrNUL is returned by Write, with Newline framing, for a record with
	// a NUL byte anywhere: syslog-ng's stream reader ends a message there
	// as it does at '\n', so the rest would arrive as a message of its
	// own. It wraps ErrNewline, and is counted with it
	// (Stats.DroppedNewline); Config.AllowNewlines lets it through too.
	ErrNUL = fmt.Errorf("uds: record contains a NUL byte, which ends a message as a newline does: %w", ErrNewline)
	// ErrOfflineInUse is returned by Open when Config.Offline belongs to
	// another open Writer.
	ErrOfflineInUse = errors.New("uds: Config.Offline is in use by another open Writer")
	// ErrSpillInUse is returned by Open when Config.SpillDir belongs to
	// another open Writer, in this process or another.
	ErrSpillInUse = errors.New("uds: Config.SpillDir is in use by another open Writer")
	// ErrSpillUnsafe is returned by Open when Config.SpillDir, or the ring
	// file in it, could let another user read the records, plant records
	// that would be sent as this process's own, or steer where the Writer
	// writes, or hold its lock: a symbolic link, a directory another user
	// owns or group or others have any permission on, a directory or link
	// on the way to it that another user controls, a ring file that is
	// not a regular file of this user's with mode 0600 (or stricter) and
	// one link. The error names the path and the fix; nothing is changed.
	ErrSpillUnsafe = errors.New("uds: Config.SpillDir is not safe to use")
	// ErrSpillLost is wrapped by Close's *LostError when records were left in
	// the ring file but Config.SpillDir no longer names that file (it, or
	// the directory, was removed, renamed or replaced while the Writer had
	// it): no later Open finds them. Stats.SpillLost counts them.
	ErrSpillLost = errors.New("uds: records lost with the spill file")
	// ErrCallbackPanic wraps a panic recovered from the caller's code that
	// the consumer goroutine runs (Config.Dial, Config.DropNotice,
	// Config.Format), or from a Handler's formatting handler
	// (HandlerOptions.New, on the goroutine that logs: Handle returns it);
	// LastError returns it, and Stats.Panics counts it. Close's error
	// wraps it when the consumer's callback called runtime.Goexit, which
	// ends the consumer goroutine (no recover stops it): the Writer then
	// closes itself, and Write returns ErrClosed.
	ErrCallbackPanic = errors.New("uds: callback panicked")
	// ErrStuck is wrapped by the error of Close or Shutdown when it returns
	// while the consumer goroutine is still running: past the bound
	// (Config.CloseTimeout, Shutdown's ctx), a callback it runs
	// (Config.Dial, Config.DropNotice, Config.Format) had run for a
	// quarter of a second without returning, or the callback itself
	// called Close or Shutdown. The shutdown goes on when the callback
	// returns. Until then the consumer owns Config.Offline and what it
	// holds (LostError.Held): call Shutdown again (context.Background()
	// waits as long as it takes), and read Config.Offline only once a call
	// returns an error that does not wrap ErrStuck (nil included).
	ErrStuck = errors.New("uds: consumer goroutine still inside a callback")
	// ErrSpillDamaged is wrapped by Open's error when the ring file in
	// Config.SpillDir is not one it can recover (not a ring file, cut
	// short, a header it cannot read). Nothing in the file is changed:
	// move it away to start afresh.
	ErrSpillDamaged = errors.New("uds: spill file damaged beyond recovery")
)

// closeGrace is how long Close and Shutdown wait, after their bound, for
// the consumer goroutine to finish the shutdown (give up a dial, keep what
// is left, close the spill file) before they return an error wrapping
// ErrStuck. ErrStuck's doc states it.
const closeGrace = 250 * time.Millisecond

// yieldEvery: a full ring yields the processor on every yieldEvery-th drop.
const yieldEvery = 8

// sunPathMax is the longest socket path the kernel takes (sun_path is 108
// bytes including the terminating NUL).
const sunPathMax = 107

// Drops are drop counts since the last drop notice. Records a Close
// leaves in a spill file that the path no longer names (Stats.SpillLost)
// are lost at Close, when no notice follows: only Close's error and Stats
// report them.
type Drops struct {
	Full       uint64 // Write found no room: the ring full, or, below Config.ShedFrom, only the reserve free
	TooLarge   uint64 // Write got a record above MaxRecord
	Newline    uint64 // Write got a record with an inner newline or a NUL (Newline framing)
	Unsendable uint64 // a message socket could not carry an accepted record
	Evicted    uint64 // the offline ring evicted its oldest record
	Damaged    uint64 // with SpillDir: records skipped because their headers in the ring file were changed (Stats.DroppedDamaged)
	// Unconfirmed: records the kernel took (Written) that the daemon may
	// not have read when its socket died (Stats.Unconfirmed).
	Unconfirmed uint64
	// BySeverity splits Full by the records' syslog severity, indexed by
	// format.Emerg (0) to format.Debug (7); their sum is Full.
	BySeverity [8]uint64
}

// Config configures a Writer. Zero fields take their defaults.
type Config struct {
	// Path is the daemon's Unix socket. Required. A stream socket gets
	// records in writev batches, framed; a datagram (/dev/log, journald) or
	// seqpacket socket gets one message per record, in sendmmsg batches.
	Path string
	// Network is the socket's type: "unix" (stream), "unixgram" or
	// "unixpacket". Empty (the default) means whatever the socket at Path
	// is, found at every connection.
	Network string
	// Framing delimits records on a stream socket; defaults to Raw. Message
	// sockets need none: every record is one message.
	Framing Framing
	// Format, if set, wraps every record in what the daemon expects (a
	// syslog header, journald's fields: package format), on the consumer
	// goroutine. Write does not change. On a message socket the largest
	// record Write accepts shrinks by the format's largest header. Like
	// DropNotice, it must not block or wait for the Writer.
	Format format.Format
	// AllowNewlines lets records with an inner '\n' or a NUL byte through
	// with Newline framing (the daemon then sees several messages: a
	// stream reader such as syslog-ng's ends a message at either). By
	// default Write refuses them with ErrNewline or ErrNUL and counts them
	// (Stats.DroppedNewline). Defaults to false.
	AllowNewlines bool
	// MaxRecord, when positive, is the largest record Write accepts; larger
	// ones are refused with ErrTooLarge and counted. Set it to what the
	// daemon takes whole: rsyslog's imptcp truncates above its
	// maxMessageSize (8 KiB by default), syslog-ng above log_msg_size
	// (64 KiB by default). Defaults to, and is capped at, RingBytes/2 - 8,
	// 3 bytes less with a Format of package format (room for the "<N>"
	// that carries WriteSeverity's severity to it).
	MaxRecord int
	// RingBytes is the size of the ring producers write into; defaults to
	// 1 MiB. Memory is bounded in bytes: records take their length plus 8
	// bytes rounded up to 8, and MaxRecord is RingBytes/2 - 8.
	RingBytes int
	// Offline holds records while the daemon is away, and is sent first, in
	// order, when it returns. The caller may fill it before Open and read it
	// after Close or Shutdown (what could not be sent stays in it, oldest
	// first, and is not an error); between the two the Writer owns it. A
	// Close or Shutdown whose error wraps ErrStuck returned before the
	// consumer goroutine exited, which still owns the ring: read it only
	// after a later call returns an error that does not.
	// Defaults to a new ring of 4096 records that only the Writer holds:
	// what is left in it when the Writer closes is lost (LostError.Unkept).
	// Records the
	// caller put in are checked as Write checks them: with Newline framing
	// (and not AllowNewlines), one with a '\n' before its end or a NUL is
	// dropped and counted (Stats.DroppedUnsendable).
	Offline *offline.Ring[[]byte]
	// OfflineBytes bounds the payload bytes held in the offline ring: when a
	// spilled record would exceed it, the oldest records are evicted (and
	// counted) until it fits, so a ring of 4096 large records cannot
	// silently hold gigabytes. Defaults to 16 MiB; negative means no byte
	// bound (the ring's record capacity still applies).
	OfflineBytes int
	// DialTimeout bounds each connection attempt; defaults to 1 s.
	DialTimeout time.Duration
	// WriteTimeout is how long the daemon may consume nothing from a full
	// socket before it counts as stalled; defaults to 50 ms, at least
	// 1 ms. A stall is judged by progress, not by one write's timer: when
	// a write's wait expires, the consumer asks whether the socket, once
	// full, took bytes again, and tries it once more; if the daemon
	// consumed anything, it is slow, not stalled: the write goes on with a
	// new deadline, and nothing else happens (Stats.Slow counts these). A
	// daemon that stops reading is seen at most two WriteTimeouts after it
	// last consumed anything. The kernel frees room one of its buffers at
	// a time (up to half the send buffer, 32 KiB at most on current
	// Linux), so a daemon that takes longer than WriteTimeout to read one
	// counts as stalled. Unix only: on Windows every expiry is a stall.
	// On a stall the connection is kept, because a second connection would
	// let the daemon read newer records before the ones still queued on
	// the first (it reads both once it resumes). The consumer moves the
	// records waiting in the byte ring into the offline ring while that has
	// room, without evicting anything, so producers keep writing; answers
	// Close; sets LastError ("the daemon is not reading"); and resumes the
	// same write where it stopped (Stats.Stalls counts these waits). Only
	// an error from the socket (the daemon closed or reset the connection)
	// closes it and re-dials.
	WriteTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the exponential backoff (with
	// jitter) between connection attempts; default 50 ms and 2 s.
	ReconnectMin, ReconnectMax time.Duration
	// CloseTimeout bounds Close: how long it tries to send what is queued,
	// a writev blocked on a daemon that does not read included (then Close
	// waits only for the consumer's last steps, and at most a quarter of
	// a second for a callback that does not return: ErrStuck); and Sync:
	// how long it waits. Defaults to 5 s.
	CloseTimeout time.Duration
	// SendBuffer, when positive, sets the socket's SO_SNDBUF.
	SendBuffer int
	// Reserve is ring space, in bytes, that records of ShedFrom or less
	// severe may not take: such a record is refused, and counted by
	// severity (Stats.DroppedBySeverity, the drop notice), unless at
	// least Reserve bytes stay free once it is in; a more severe record
	// takes any room there is. A record's severity is WriteSeverity's
	// argument; for Write, a leading "<PRI>" (PRI & 7; at most 5 bytes are
	// read), else what Level finds, else Info. Defaults to an eighth of
	// RingBytes; negative means no reserve (every record takes any room).
	// At most RingBytes/2. With SpillDir, while the daemon is away the
	// consumer keeps only a quarter of the ring free (by eviction): a
	// Reserve above that sheds every record of ShedFrom or less severe
	// until the daemon returns.
	Reserve int
	// ShedFrom is the most severe syslog severity that the reserve holds
	// back: format.Notice (the default, when zero) sheds Notice, Info and
	// Debug records and keeps Warning and more severe ones. format.Alert
	// (1) to format.Debug (7).
	ShedFrom format.Priority
	// KeepWait bounds how long Write and WriteSeverity wait for room for a
	// record more severe than ShedFrom when the ring is full (the reserve
	// too): the call parks until the consumer frees room, the Writer is
	// closed, or KeepWait has passed, and then the record is dropped and
	// counted. Records of ShedFrom or less severe never wait. Defaults to
	// 10 ms; negative means no wait. WriteContext waits by its ctx
	// instead.
	KeepWait time.Duration
	// Level, if set, gives Write the severity of a record without a
	// leading "<PRI>" (format.LevelField reads slog's, zap's and zerolog's
	// level field), for admission and, with a Format of package format,
	// for the daemon (as WriteSeverity carries it). It runs on the
	// producer's goroutine, in Write: a Level that panics panics there.
	// Defaults to nil (no parse: such a record counts as Info), because
	// format.LevelField costs more than the rest of Write (docs/design.md,
	// "Severity-aware admission"); a logger that knows its levels should
	// call WriteSeverity (uds.NewHandler does).
	Level func(rec []byte) (format.Priority, bool)
	// ErrorOnDrop makes Write return ErrFull when the ring is full. By
	// default a drop is only counted (Stats.DroppedFull, and the drop notice):
	// loggers treat a Write error as something to report, often by writing
	// to stderr under a lock, which is a syscall on the hot path exactly when
	// the pipeline is overloaded.
	ErrorOnDrop bool
	// DropNotice, if set, turns the drop counts since the last notice into a
	// record that is sent before anything else (before the offline backlog)
	// whenever the counts are non-zero and the daemon is connected, as libdlt
	// reports lost messages downstream. It runs on the consumer goroutine.
	// If it panics, the panic is recovered and counted (Stats.Panics,
	// LastError) and that notice is not sent; the drops stay counted in
	// Stats, and the next notice reports only later ones. The same holds
	// when it returns nil (no notice for those counts), and for a notice
	// larger than a message socket carries (let go, not counted as a
	// drop): Stats, not the notices, is the complete count. Like Dial and
	// Format, it must not wait for the Writer: Close and Shutdown called
	// from it return at once (ErrStuck) and the shutdown goes on when it
	// returns; Flush, Sync and WriteContext would wait for their own
	// goroutine until their bound.
	DropNotice func(Drops) []byte
	// SpillDir, if set, keeps the ring in a memory-mapped file in this
	// directory (created if missing) instead of the Go heap, so the records
	// it holds survive the process's crash: a SIGKILL, an OOM kill, a
	// panic. Write is unchanged (a claim, a copy, a release store: no
	// syscall, no allocation). The next Open with the same directory sends
	// what was accepted and not yet handed to the kernel first, in order
	// (Stats.Recovered; what it skipped: the Stats.Skipped fields); a record whose Write was killed
	// mid-copy is skipped, never sent torn. The file is RingBytes plus 4
	// KiB; a file holding records keeps its size until they are sent. One
	// directory belongs to one open Writer at a time (ErrSpillInUse: the
	// directory itself is flocked).
	//
	// Records may hold secrets, and the file is input on recovery, so Open
	// trusts nothing it did not make: the directory is created 0700 (its
	// ring file 0600) and resolved once, a component at a time from the
	// root (a relative path from the working directory at Open): every
	// directory on the way must be root's or this user's and not writable
	// by others unless sticky (as /tmp), a symbolic link on the way must
	// be root's or this user's, and neither the directory itself (however
	// spelled: "L/." too) nor the ring file may be a symbolic link; a directory another user owns or with any group or
	// other permission bit (whoever can open it can flock it, and its
	// flock is the Writer's lock), or
	// a ring file that is not a regular file, not this user's, open to
	// group or others, or with a second link, is refused
	// with ErrSpillUnsafe naming the path and the fix (nothing is changed).
	// If the ring file or the directory is removed, renamed or replaced
	// while the Writer has it, Close reports what was left in it as lost
	// (ErrSpillLost, Stats.SpillLost), never as kept.
	//
	// The file is mapped: anyone who can truncate it under a running Writer
	// kills the process with SIGBUS at the next store past the new end (as
	// with any mmap). With the checks above that is only this user (another
	// of its processes, a stray truncate or cleanup) or root; Open also
	// allocates every block, so a full file system is an error from Open,
	// not a SIGBUS later.
	//
	// With a spill directory the ring is also the backlog while the daemon
	// is away (there is no offline ring: Config.Offline must be nil): the
	// consumer evicts the oldest records (Stats.Evicted) to keep a quarter
	// of the ring free for new ones. Close leaves what it could not send in
	// the file for the next Open. Unix only. See docs/design.md, "Spill
	// directory".
	SpillDir string
	// SpillSync, with SpillDir, makes the consumer goroutine msync the ring
	// file at most every SpillSync while it holds unsynced changes, so
	// records also survive the host's crash, except those of the last
	// SpillSync. Zero (the default) leaves writeback to the kernel: records
	// survive the process's crash, not the host's.
	SpillSync time.Duration
	// Wait is how the consumer goroutine waits while it has nothing to send
	// (package wait); defaults to wait.Linger(time.Millisecond) when zero:
	// a Write pays no wake-up until the ring is a quarter to half full
	// (package wait) or refuses a record for want of room, and a record
	// may wait up to the linger, plus the runtime timer's slack, before
	// the consumer sends it. Flush, Close and Shutdown wake the consumer
	// at once.
	// wait.Park() wakes it at every Write that finds it parked, as a
	// channel does; wait.Spin() keeps a core busy.
	Wait wait.Policy
	// AtLeastOnce sends again the records the daemon may not have read
	// when its connection died: by default they are counted
	// (Stats.Unconfirmed) and not sent again (at most once); with
	// AtLeastOnce the consumer keeps a copy of every record it hands to
	// the kernel until the kernel reports the daemon consumed it
	// (SIOCOUTQ), and on a failed connection sends the open ones first on
	// the next (Stats.Resent: the daemon may see some twice). It costs the
	// consumer goroutine a copy of every record it sends, and memory for
	// about a socket send buffer of records (more while the daemon is
	// slow); Write does not change. Linux only (Open refuses it
	// elsewhere: no other kernel tells); not with SpillDir.
	AtLeastOnce bool
	// Dial, if set, replaces net.Dialer for connecting to Path (tests,
	// abstract sockets, custom setup). The Writer applies SendBuffer and the
	// write deadline to the connection it returns. A Dial that returns
	// neither a connection nor an error, or panics (recovered, counted in
	// Stats.Panics), is a failed attempt (Stats.DialErrors, LastError), and
	// the Writer tries again with backoff. It should honour ctx: one that
	// does not holds the consumer goroutine, and a Close or Shutdown whose
	// bound passes meanwhile returns an error wrapping ErrStuck.
	Dial func(ctx context.Context, path string) (*net.UnixConn, error)
	// RequirePeerUID makes the Writer send nothing to a socket whose
	// daemon does not run as PeerUID: after the daemon died, any local
	// process that can write the socket's directory can bind the same path
	// and would receive the backlog. After every connect the Writer asks
	// the kernel who listens (SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS
	// and FreeBSD: the credentials recorded when the daemon called listen;
	// for a socket that systemd made, systemd's, uid 0): one getsockopt per
	// connection, nothing per record. A datagram socket carries no peer
	// credentials: there the owner of the socket file the connection went
	// to (its peer address, which must be a file and the one Path names:
	// an abstract or unnamed socket, or a Config.Dial that connected
	// elsewhere, is refused), stat'ed after the connect, is checked
	// instead, which is weaker: a process that can write the directory
	// could swap files between the connect and the stat. A mismatch is a failed dial (Stats.DialErrors,
	// LastError says which uid answered), retried with backoff; the
	// records stay queued. Other systems (Windows) fail Open. Defaults to
	// false.
	RequirePeerUID bool
	// PeerUID is the uid RequirePeerUID asks for; defaults to 0 (root).
	PeerUID int
}

func (cfg *Config) setDefaults() error {
	switch {
	case cfg.Path == "":
		return errors.New("uds: Config.Path is empty")
	case len(cfg.Path) > sunPathMax:
		return fmt.Errorf("uds: socket path %q is %d bytes; the kernel takes at most %d", cfg.Path, len(cfg.Path), sunPathMax)
	case cfg.Network != "" && cfg.Network != "unix" && cfg.Network != "unixgram" && cfg.Network != "unixpacket":
		return fmt.Errorf("uds: unknown Network %q (want \"unix\", \"unixgram\", \"unixpacket\" or empty)", cfg.Network)
	case cfg.Framing > LengthPrefix:
		return fmt.Errorf("uds: unknown %v", cfg.Framing)
	case cfg.RingBytes < 0 || cfg.RingBytes > 1<<30:
		return fmt.Errorf("uds: RingBytes %d out of range [1, 1 GiB] (0 means the default; sizes are rounded up to a power of two, at least 64)", cfg.RingBytes)
	case cfg.DialTimeout < 0 || cfg.WriteTimeout < 0 || cfg.CloseTimeout < 0 || cfg.ReconnectMin < 0 || cfg.ReconnectMax < 0:
		return errors.New("uds: negative timeout in Config")
	case cfg.WriteTimeout > 0 && cfg.WriteTimeout < time.Millisecond:
		return fmt.Errorf("uds: WriteTimeout %v is below 1 ms: no writev could finish in it", cfg.WriteTimeout)
	case cfg.MaxRecord < 0:
		return fmt.Errorf("uds: negative MaxRecord %d", cfg.MaxRecord)
	case cfg.SendBuffer < 0:
		return fmt.Errorf("uds: negative SendBuffer %d", cfg.SendBuffer)
	case cfg.SpillSync < 0:
		return fmt.Errorf("uds: negative SpillSync %v", cfg.SpillSync)
	case cfg.SpillSync > 0 && cfg.SpillDir == "":
		return errors.New("uds: Config.SpillSync needs Config.SpillDir")
	case cfg.PeerUID < 0 || uint64(cfg.PeerUID) > 1<<32-2:
		return fmt.Errorf("uds: PeerUID %d out of range", cfg.PeerUID)
	case cfg.RequirePeerUID && !peerCredSupported:
		return fmt.Errorf("uds: Config.RequirePeerUID: no peer credentials on %s", runtime.GOOS)
	case cfg.AtLeastOnce && !outqKnown:
		return errors.New("uds: Config.AtLeastOnce needs Linux: no other kernel tells a Unix socket's sender what the peer has read")
	case cfg.AtLeastOnce && cfg.SpillDir != "":
		return errors.New("uds: Config.AtLeastOnce with Config.SpillDir is not supported")
	case cfg.SpillDir != "" && cfg.Offline != nil:
		return errors.New("uds: Config.Offline with Config.SpillDir: the spill file is the backlog (leave Offline nil)")
	}
	if cfg.RingBytes == 0 {
		cfg.RingBytes = 1 << 20
	}
	if err := cfg.setAdmission(); err != nil {
		return err
	}
	if fi, err := os.Stat(cfg.Path); err == nil && fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("uds: %s exists and is not a socket (it is %s)", cfg.Path, fileKind(fi.Mode()))
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.DialTimeout, time.Second)
	def(&cfg.WriteTimeout, 50*time.Millisecond)
	def(&cfg.ReconnectMin, 50*time.Millisecond)
	def(&cfg.ReconnectMax, 2*time.Second)
	def(&cfg.CloseTimeout, 5*time.Second)
	cfg.ReconnectMax = max(cfg.ReconnectMax, cfg.ReconnectMin)
	if cfg.RingBytes == 0 {
		cfg.RingBytes = 1 << 20
	}
	if cfg.Offline == nil && cfg.SpillDir != "" {
		cfg.Offline = offline.New[[]byte](1) // stays empty: the spill file is the backlog
	}
	if cfg.Offline == nil {
		cfg.Offline = offline.New[[]byte](4096)
	}
	if cfg.OfflineBytes == 0 {
		cfg.OfflineBytes = 16 << 20
	}
	if cfg.Dial == nil {
		cfg.Dial = dialNetwork(cfg.Network)
	}
	if cfg.Wait == (wait.Policy{}) {
		cfg.Wait = defaultWait
	}
	return nil
}

// defaultWait is Config.Wait's default.
var defaultWait = wait.Linger(time.Millisecond)

// fileKind names a file type for an error message.
func fileKind(m fs.FileMode) string {
	switch t := m.Type(); {
	case t == 0:
		return "a regular file"
	case t&fs.ModeDir != 0:
		return "a directory"
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case t&fs.ModeDevice != 0:
		return "a device"
	default:
		return "not a socket: " + t.String()
	}
}

// Stats are the Writer's counters, cheap to read from any goroutine. At any
// quiescent moment
//
//	Accepted + Preloaded + Recovered + Resent == Written + Evicted + DroppedUnsendable + DroppedDamaged + SpillLost + Buffered + Pending
//
// (Resent is 0 unless Config.AtLeastOnce), every Write that did not return an error was Accepted or counted in
// DroppedFull, and DroppedFull is the sum of DroppedBySeverity.
type Stats struct {
	Accepted          uint64 // records accepted by Write and WriteContext
	Preloaded         uint64 // records already in Config.Offline at Open
	Recovered         uint64 // records recovered from Config.SpillDir at Open, sent first (what Open skipped: the Skipped fields)
	Written           uint64 // records handed to the kernel whole (a record sent again counts again; the kernel may still lose it: Unconfirmed)
	WrittenBytes      uint64 // bytes handed to the kernel, framing included
	Sends             uint64 // send system calls: writev (stream), sendmmsg or write (message socket)
	DroppedFull       uint64 // Write found no room: the ring full, or, below Config.ShedFrom, only the reserve free
	DroppedTooLarge   uint64 // Write got a record above MaxRecord
	DroppedNewline    uint64 // Write got a record with an inner newline or a NUL (Newline framing)
	DroppedUnsendable uint64 // accepted, then skipped by a message socket that cannot carry it (too large: EMSGSIZE, before the limit was known; empty on a seqpacket socket), because Config.Format panicked on it, or preloaded in Config.Offline with a line break Newline framing cannot carry
	DroppedClosed     uint64 // Write after Close
	DroppedDamaged    uint64 // with SpillDir: accepted, then skipped because another process or a stray write changed their headers in the ring file (never sent garbled; see docs/design.md, "Damage while running")
	Evicted           uint64 // records evicted from the offline ring (since Open); with SpillDir, from the ring while the daemon is away
	SpillLost         uint64 // with SpillDir: records Close left in a ring file that the path no longer named (removed, renamed or replaced while open: ErrSpillLost)
	Buffered          uint64 // records in the offline ring
	Pending           uint64 // records in the ring, not yet sent or buffered (with SpillDir: the backlog too)
	Notices           uint64 // drop-notice records sent
	Connects          uint64 // successful connections
	DialErrors        uint64 // failed connection attempts
	WriteErrors       uint64 // writes that failed (the connection was then closed)
	Stalls            uint64 // WriteTimeout waits that expired on a daemon that took no byte since the socket was full (the connection was kept; see Config.WriteTimeout)
	Panics            uint64 // panics recovered from Config.Dial, Config.DropNotice, Config.Format and a Handler's formatting handler (LastError has the last)
	Slow              uint64 // WriteTimeout waits that expired on a daemon that reads, slowly: not a stall; the write went on, nothing moved to the offline ring
	// Unconfirmed counts Written records that may have died in the
	// kernel: the daemon's socket closed (it stopped or crashed) while
	// they were not known to be read from it (Linux: SIOCOUTQ, see
	// docs/design.md, "What the kernel tells"). A conservative count: it
	// includes every record not known read, so some of them may have
	// arrived. They are not sent again. Part of Written (Written = records
	// the daemon read + records still unread on a live connection +
	// Unconfirmed), so the conservation sum is unchanged. Always 0 off
	// Linux, where such records are lost without a count.
	Unconfirmed uint64
	// Resent counts, with Config.AtLeastOnce, the records queued to be
	// sent again because the daemon may not have read them when its
	// connection died (some may arrive twice). Each re-enters the
	// pipeline: it is on the left of the conservation sum, and Written
	// again when sent.
	Resent uint64
	// With Config.SpillDir, what Open found in the ring file and skipped,
	// never sent: records whose Write was killed mid-copy
	// (SkippedUnfinished), stretches of the file that were damaged
	// (SkippedDamaged: stretches, not records), and records written before
	// a reboot that the consumer had not yet checksummed
	// (SkippedUnverified). None of them was accepted by this Writer, so
	// they are outside the conservation sum.
	SkippedUnfinished, SkippedDamaged, SkippedUnverified uint64
	// DroppedBySeverity splits DroppedFull by the records' syslog
	// severity, indexed by format.Emerg (0) to format.Debug (7); a record
	// Write found no severity in counts as Info.
	DroppedBySeverity [8]uint64
	Connected         bool
}

// Writer is a non-blocking io.Writer that delivers records to a daemon on a
// Unix socket (stream, datagram or seqpacket). Write copies the record into
// a lock-free byte ring and returns; one consumer goroutine sends records
// (writev on a stream, sendmmsg on a message socket), keeps them in an
// offline ring while the daemon is away, reconnects with backoff, and sends
// the backlog first, in order, when it returns.
//
// Records from one goroutine reach the socket in the order it wrote them.
// A record is never continued on a new connection: after a write fails in
// the middle of a record, that record is sent whole on the next one (the
// daemon may then see a torn copy at the end of the old stream).
//
// Writer is safe for concurrent use by any number of goroutines.
type Writer struct {
	cfg  Config
	ring *ring.ByteRing
	off  *offline.Ring[[]byte]

	closed   atomic.Bool
	stop     chan struct{} // closed by the first Close or Shutdown
	stopOnce sync.Once
	hurry    chan struct{}         // the shutdown's deadline moved: the consumer's waits end (buffered 1)
	cause    atomic.Pointer[error] // why the drain ended early: Shutdown's ctx.Err(), Close's deadline
	dialCtx  context.Context       // the run loop's dials; cancelled when the shutdown's deadline passes
	closing  context.CancelFunc
	done     chan struct{} // closed when the consumer has exited
	ownOff   bool          // Open made the offline ring (Config.Offline was nil): nothing keeps it after Close
	// evictedAtClose is evicted when the shutdown began: evictions after it
	// are LostError.Evicted. Written once, before closed is set.
	evictedAtClose uint64
	room           park.Room // WriteContext calls waiting for space

	mu       sync.Mutex
	flushes  []flushReq // guarded by mu
	finished bool       // guarded by mu; the consumer answered its last Flush
	hasFlush atomic.Bool
	// flushEvicted is Stats.Evicted as last reported by a Flush's
	// *LostError: later evictions go to the next Flush answered. Stored
	// under mu; read without it by Flush's fast path.
	flushEvicted atomic.Uint64
	closeErr     error         // set by the consumer before done is closed
	consumerID   atomic.Uint64 // the consumer goroutine's id (goid), set as it starts

	// Producer-side counters (touched only when a record is refused).
	_                           pad.Line
	dropped                     [8]atomic.Uint64 // refused for room, by severity: a line of their own, apart from what every Write reads
	_                           pad.Line
	droppedLarge, droppedClosed atomic.Uint64
	droppedNewline              atomic.Uint64
	droppedUnsendable           atomic.Uint64
	carry                       bool         // the Format reads a <PRI> prefix: WriteSeverity's severity goes in one
	maxRecord                   int          // Config.MaxRecord or the ring's limit
	limit                       atomic.Int64 // what Write accepts: maxRecord, or less on a message socket (setLimit)
	// Consumer-side counters, on other lines than what every Write reads
	// (limit, maxRecord, carry): the consumer writes them at every send.
	_                                   pad.Line
	written, writtenBytes, sends        atomic.Uint64
	evicted, buffered, notices          atomic.Uint64
	connects, dialErrs, writeErrs, sent atomic.Uint64
	stalls, slow, unconfirmed, resent   atomic.Uint64
	spillLost, panics                   atomic.Uint64
	inCall                              atomic.Int64 // the callback the consumer is inside (callDial...) and since when (enter); 0 if none
	epoch                               time.Time    // Open's time: enter's clock
	maxOver                             int          // Config.Format's MaxOverhead, asked once at Open
	connected                           atomic.Bool
	live                                atomic.Pointer[conn] // the consumer's connection, for the shutdown's deadline
	closeBy                             atomic.Int64         // the shutdown's deadline (unix ns): 0 before it, noBound without one
	lastErr                             atomic.Pointer[error]
	preloaded                           uint64
	dropBase                            uint64 // Offline.Dropped() at Open
	spill                               *spill // Config.SpillDir's ring file, or nil
	recovery                            ring.Recovery
	relBase                             uint32 // ring.Released() at Open: a spill file's count goes on from its last Writer
}

type flushReq struct {
	target uint32 // ring.Written() when Flush was called
	reply  chan error
}

// Open validates cfg and starts the Writer's consumer goroutine. It does not
// wait for the daemon: if the socket is absent, records are buffered and the
// Writer keeps trying to connect. It fails only on a bad Config: an empty
// path, a path longer than the kernel's limit, a path that exists and is not
// a socket, or out-of-range sizes; or on a Config.SpillDir it cannot use
// (ErrSpillInUse, ErrSpillUnsafe, a damaged ring file: ErrSpillDamaged).
func Open(cfg Config) (*Writer, error) {
	own := cfg.Offline == nil
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	// One consumer owns an offline ring: two Writers pushing into one
	// would race (it is not safe for concurrent use).
	if _, taken := offlineInUse.LoadOrStore(cfg.Offline, struct{}{}); taken {
		return nil, ErrOfflineInUse
	}
	w := &Writer{
		cfg:    cfg,
		off:    cfg.Offline,
		ownOff: own,
		stop:   make(chan struct{}),
		hurry:  make(chan struct{}, 1),
		done:   make(chan struct{}),
		epoch:  time.Now(),
	}
	var err error
	if cfg.SpillDir != "" {
		if w.spill, w.ring, w.recovery, err = openSpill(cfg.SpillDir, cfg.RingBytes); err != nil {
			offlineInUse.Delete(cfg.Offline)
			return nil, err
		}
	} else {
		w.ring = ring.NewByteRing(cfg.RingBytes)
	}
	if cfg.Format != nil {
		if w.maxOver, err = maxOverhead(cfg.Format); err != nil {
			offlineInUse.Delete(cfg.Offline)
			if w.spill != nil {
				w.spill.close(false)
			}
			return nil, err
		}
	}
	first, err := w.probe()
	if err != nil {
		offlineInUse.Delete(cfg.Offline)
		if w.spill != nil {
			w.spill.close(false)
		}
		return nil, err
	}
	w.ring.SetWait(cfg.Wait) // before the consumer starts
	w.relBase = w.ring.Released()
	w.dialCtx, w.closing = context.WithCancel(context.Background())
	w.maxRecord = w.ring.MaxRecord()
	if w.carry = carriesPRI(cfg.Format); w.carry {
		w.maxRecord -= len(priPrefix[0]) // room for WriteSeverity's prefix
	}
	if cfg.MaxRecord > 0 {
		w.maxRecord = min(cfg.MaxRecord, w.maxRecord)
	}
	w.setLimit(0)
	w.preloaded = uint64(w.off.Len())
	w.dropBase = w.off.Dropped()
	w.buffered.Store(w.preloaded)
	if first != nil {
		// Write knows a message socket's limit from the first call on.
		if cfg.SendBuffer > 0 {
			first.SetWriteBuffer(cfg.SendBuffer)
		}
		if rc, err := first.SyscallConn(); err == nil {
			if msg, _, limit, err := socketKind(rc); err == nil && msg {
				w.setLimit(limit)
			}
		}
	}
	go w.run(first)
	return w, nil
}

// offlineInUse holds the offline rings of open Writers.
var offlineInUse sync.Map

// maxFormatOverhead is the largest Format.MaxOverhead Open takes: the
// consumer sizes its header arena from it at every connect, so a huge
// answer (a bug, a value computed from configuration) would allocate that
// much per connection, or panic in make on the consumer goroutine and end
// the process. The formats of package format need well under 1 KiB; 64 KiB
// is syslog-ng's default log_msg_size, the largest message a daemon takes
// by default.
const maxFormatOverhead = 64 << 10

// maxOverhead asks f for its MaxOverhead, once: a panic, a negative answer
// or one above maxFormatOverhead is a bad Config.
func maxOverhead(f format.Format) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("uds: Config.Format.MaxOverhead: %w: %v", ErrCallbackPanic, v)
		}
	}()
	switch n = f.MaxOverhead(); {
	case n < 0:
		return 0, fmt.Errorf("uds: Config.Format.MaxOverhead is negative (%d)", n)
	case n > maxFormatOverhead:
		return 0, fmt.Errorf("uds: Config.Format.MaxOverhead is %d bytes; at most %d (64 KiB) is taken", n, maxFormatOverhead)
	}
	return n, nil
}

// probe dials Path once if it exists, to refuse at Open what can never work:
// a socket of another type than Config.Network names. A connection it makes
// becomes the Writer's first (and tells MaxRecord a message socket's
// limit); any other failure (no listener yet) is left to the consumer's
// reconnect loop.
func (w *Writer) probe() (*net.UnixConn, error) {
	cfg := &w.cfg
	if _, err := os.Stat(cfg.Path); err != nil {
		return nil, nil // absent: the daemon may come later
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	defer cancel()
	uc, err := w.dial(ctx)
	if errors.Is(err, syscall.EPROTOTYPE) {
		return nil, fmt.Errorf("uds: %s is not a socket of the type Config.Network or Config.Dial asks for: %w", cfg.Path, err)
	}
	if err != nil {
		if errors.Is(err, ErrCallbackPanic) {
			w.lastErr.Store(&err)
		}
		return nil, nil
	}
	return uc, nil
}

// dial calls Config.Dial. It turns a panic (recovered, counted in
// Stats.Panics) and a nil connection without an error into errors, and
// closes a connection that comes with an error.
func (w *Writer) dial(ctx context.Context) (uc *net.UnixConn, err error) {
	w.enter(callDial)
	defer w.inCall.Store(0)
	defer func() {
		if v := recover(); v != nil {
			w.panics.Add(1)
			uc, err = nil, fmt.Errorf("%w: Config.Dial: %v", ErrCallbackPanic, v)
		}
	}()
	uc, err = w.cfg.Dial(ctx, w.cfg.Path)
	switch {
	case err != nil && uc != nil:
		uc.Close()
		return nil, err
	case err == nil && uc == nil:
		return nil, errors.New("Config.Dial returned neither a connection nor an error")
	}
	return uc, err
}

// MaxRecord returns the largest record Write accepts: Config.MaxRecord or
// the ring's limit, and, once connected to a message socket, no more than
// the socket takes in one message.
func (w *Writer) MaxRecord() int {
	return int(w.limit.Load())
}

// setLimit sets what Write accepts for a connection whose largest message
// is maxMsg (0: a stream, no limit of its own).
func (w *Writer) setLimit(maxMsg int) {
	l := w.maxRecord
	if maxMsg > 0 {
		l = max(min(l, maxMsg-w.maxOver), 0)
	}
	w.limit.Store(int64(l))
}

// Write copies p into the ring as one record and returns len(p). With
// room it never blocks, makes no syscall, takes no lock and allocates
// nothing. The record's severity is a leading "<PRI>"'s, else what
// Config.Level finds, else Info; it is admitted as WriteSeverity admits
// it: a record of Config.ShedFrom or less severe (Info, by default) is
// refused when it would leave less than Config.Reserve bytes free, a more
// severe one only when the ring is full, after waiting up to
// Config.KeepWait. A refused record is dropped and counted by severity
// (and, with Config.ErrorOnDrop, Write returns 0, ErrFull), and every 8th
// drop of a severity yields the processor so the consumer can catch up. It returns ErrTooLarge for a
// record above MaxRecord, ErrClosed after Close, and, with Newline framing,
// ErrNewline or ErrNUL for a record the daemon would split; all are
// counted. A Write that races Close either returns nil and is sent (or
// kept, or counted in Close's *LostError) or returns ErrClosed: the
// consumer closes the ring before its final drain.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.admit(p); err != nil {
		return 0, err
	}
	// Inline, for the common record: no <PRI>, no Config.Level.
	sev, pre := format.Info, []byte(nil)
	if len(p) > 0 && p[0] == '<' || w.cfg.Level != nil {
		sev, pre = w.severity(p)
	}
	if w.ring.TryWriteReserve(pre, p, w.reserveFor(sev)) { // put, inline
		return len(p), nil
	}
	return w.refused(sev, pre, p)
}

// admit refuses, and counts, a write after Close or a record above
// MaxRecord.
func (w *Writer) admit(p []byte) error {
	if w.closed.Load() {
		w.droppedClosed.Add(1)
		return ErrClosed
	}
	if limit := w.MaxRecord(); len(p) > limit {
		w.droppedLarge.Add(1)
		return fmt.Errorf("%w: %d bytes, max %d", ErrTooLarge, len(p), limit)
	}
	if w.checkLines() {
		if err := lineBreak(p); err != nil {
			w.droppedNewline.Add(1)
			return err
		}
	}
	return nil
}

// checkLines reports whether records must be checked for line breaks:
// Newline framing, without Config.AllowNewlines.
func (w *Writer) checkLines() bool { return w.cfg.Framing == Newline && !w.cfg.AllowNewlines }

// lineBreak returns ErrNewline or ErrNUL if p cannot go whole as one line.
// A record's bytes are data, never framing: a '\n' before its end or a NUL
// anywhere would end the message at the daemon's stream reader, and what
// follows would be read as a message of its own (a forged one, if the
// record holds text from outside).
func lineBreak(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if bytes.IndexByte(p[:len(p)-1], '\n') >= 0 {
		return ErrNewline
	}
	if bytes.IndexByte(p, 0) >= 0 {
		return ErrNUL
	}
	return nil
}

// WriteContext is Write for callers that prefer backpressure to loss: when
// the ring is full it parks until the consumer frees room (no spinning), ctx
// is done, or the Writer is closed. Waiting calls take turns: once one has
// waited a millisecond, later WriteContext calls wait behind it even if
// there is room (each waiting call holds the others back 10 ms at most),
// so that running producers cannot starve it (a call whose ctx is already
// done then returns ctx.Err()). Write does not wait, and does not take
// turns. A record of Config.ShedFrom or less severe (its severity found as
// Write finds it) waits while only the reserve is free (Config.Reserve).
func (w *Writer) WriteContext(ctx context.Context, p []byte) (int, error) {
	if err := w.admit(p); err != nil {
		return 0, err
	}
	return w.admitCtx(ctx, p)
}

// writeWait is WriteContext's slow path: wait for room, in turn.
func (w *Writer) writeWait(ctx context.Context, pre, p []byte, reserve int) (int, error) {
	check := func() error {
		if err := w.admit(p); err != nil {
			return err
		}
		if w.ring.Closed() {
			w.droppedClosed.Add(1)
			return ErrClosed
		}
		return nil
	}
	if err := w.room.Block(ctx, w.stop, check, w.closed.Load, func() bool { return w.ring.TryWriteReserve(pre, p, reserve) }); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush waits until every record accepted before the call has been handed
// to the kernel or evicted (while the daemon is away it waits: records are
// in the offline ring). It returns nil if no record was evicted since Open
// or the last Flush that reported evictions, else a *LostError whose
// Evicted counts those evictions: each is reported once, to the Flush
// calls answered next. Records Stats counts as dropped after acceptance
// for other reasons (DroppedUnsendable, DroppedDamaged) are done with.
// When ctx ends first, Flush withdraws its request and returns an error
// wrapping ctx.Err(); the records stay queued (Stats.Pending,
// Stats.Buffered). A Flush with nothing to send returns at once; after
// Close or Shutdown has begun it returns ErrClosed.
func (w *Writer) Flush(ctx context.Context) error {
	if w.closed.Load() {
		return ErrClosed
	}
	if w.ring.Written() == w.ring.Released() && w.buffered.Load() == 0 {
		// Nothing accepted is waiting: done, whatever ctx says. Evictions
		// are counted before the release or Buffered store that shows
		// their records gone, so every one of them is seen here.
		if w.evicted.Load() == w.flushEvicted.Load() {
			return nil
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.evictedSinceFlush()
	}
	req := flushReq{target: w.ring.Written(), reply: make(chan error, 1)}
	w.mu.Lock()
	if w.finished {
		w.mu.Unlock()
		return ErrClosed
	}
	w.flushes = append(w.flushes, req)
	w.hasFlush.Store(true)
	w.mu.Unlock()
	w.ring.Wake()
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
	}
	// Withdraw the request, so that abandoned ones do not pile up while
	// the daemon is away. Under mu the consumer either has answered it
	// (it is gone from the list) or never will.
	w.mu.Lock()
	i := slices.IndexFunc(w.flushes, func(r flushReq) bool { return r.reply == req.reply })
	if i >= 0 {
		w.flushes = slices.Delete(w.flushes, i, i+1)
		w.hasFlush.Store(len(w.flushes) > 0)
	}
	w.mu.Unlock()
	if i < 0 {
		return <-req.reply // answered as ctx ended
	}
	return fmt.Errorf("uds: flush: records still queued: %w", ctx.Err())
}

// evictedSinceFlush returns a *LostError counting the evictions no Flush
// has reported yet, and marks them reported; nil if there are none. The
// caller holds mu.
func (w *Writer) evictedSinceFlush() error {
	n := w.evicted.Load()
	k := n - w.flushEvicted.Load()
	if k == 0 {
		return nil
	}
	w.flushEvicted.Store(n)
	return &LostError{Evicted: int(k), Socket: w.LastError()}
}

// Sync is Flush bounded by Config.CloseTimeout, for callers that expect an
// fsync-like method (zap's WriteSyncer: `defer logger.Sync()`). It returns
// what Flush returns: nil once every record accepted before the call has
// been handed to the kernel, a *LostError counting evictions as Flush
// does, and an error wrapping context.DeadlineExceeded if the records
// have not all gone within CloseTimeout (the daemon is away or slow; the
// records stay queued, nothing is dropped). After Close it returns
// ErrClosed.
func (w *Writer) Sync() error {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CloseTimeout)
	defer cancel()
	return w.Flush(ctx)
}

// Close is Shutdown bounded by Config.CloseTimeout: it stops intake, tries
// for up to CloseTimeout to send what is queued (a write blocked on a
// daemon that does not read included), keeps what it could not send, and
// waits for the consumer goroutine. It returns nil when every record was
// sent or kept, and a *LostError wrapping context.DeadlineExceeded when
// some could be neither (see Shutdown). A callback that does not return
// holds it at most a quarter of a second past CloseTimeout (see Shutdown:
// ErrStuck). Close is idempotent.
func (w *Writer) Close() error {
	w.begin(time.Now().Add(w.cfg.CloseTimeout))
	if w.onConsumer() {
		// Called from a callback: the consumer ends the drain by the
		// deadline begin published once the callback returns.
		return w.stuck("Close", nil)
	}
	t := time.AfterFunc(w.cfg.CloseTimeout, func() { w.expire(context.DeadlineExceeded) })
	defer t.Stop()
	limit := time.NewTimer(w.cfg.CloseTimeout)
	defer limit.Stop()
	select {
	case <-w.done:
		return w.closeErr
	case <-limit.C:
	}
	return w.await("Close", context.DeadlineExceeded)
}

// Shutdown stops intake (later writes get ErrClosed) and sends what is
// queued until it is all sent or ctx ends, then closes the socket and waits
// for the consumer goroutine. While the daemon is away it waits for it, as
// Flush does; a write blocked on a daemon that does not read returns when
// ctx ends.
//
// What was not sent is kept where it outlives the Writer: in Config.Offline
// (oldest first) or in Config.SpillDir's ring file for the next Open.
// Records kept are not an error. Shutdown returns a *LostError, wrapping
// ctx.Err(), when records could be neither sent nor kept: left in the
// offline ring that Open made (Config.Offline nil), evicted from the
// offline ring to make room, claimed by a Write that never finished, or
// left in a spill file that the path no longer names. With
// Config.SpillDir, a ring stopped at a record whose header is not valid (a
// Write that never finished it, or damage to the file) keeps its records
// but also the file's mapping and lock until the process exits; Shutdown's
// error (not a *LostError) says so.
//
// Once ctx has ended, Shutdown waits only for the consumer goroutine's
// last steps (keeping what is left, closing the spill file), which end.
// The consumer also runs the caller's callbacks (Config.Dial,
// Config.DropNotice, Config.Format): when one of them (ignoring its ctx,
// or blocked) has run for a quarter of a second past ctx's end, Shutdown
// returns anyway, and a Shutdown or Close that such a callback calls
// returns at once. The error then wraps ErrStuck, and is a *LostError
// counting the records the consumer still holds (Held) when there are
// any. The shutdown goes on, bounded as before, when the callback
// returns; until it ends the consumer owns Config.Offline. A later
// Shutdown waits for it again and returns the final result.
//
// Shutdown and Close may be called more than once and together: the
// earliest bound ends the drain, and every call that returns after the
// consumer goroutine has exited returns the same result.
func (w *Writer) Shutdown(ctx context.Context) error {
	d, _ := ctx.Deadline() // zero: none
	w.begin(d)
	// After begin: an expiry before it would let the run loop, not yet
	// shutting down, evict records the shutdown then does not count.
	stop := context.AfterFunc(ctx, func() { w.expire(ctx.Err()) })
	if w.onConsumer() {
		// Called from a callback: ctx goes on bounding the drain after
		// this returns (stop is not called).
		return w.stuck("Shutdown", nil)
	}
	defer stop()
	select {
	case <-w.done:
		return w.closeErr
	case <-ctx.Done():
	}
	return w.await("Shutdown", ctx.Err())
}

// await waits, once the bound of a Close or Shutdown (call) has passed
// for cause, for the consumer goroutine to exit, and returns the
// shutdown's result; or, once a callback the consumer is inside has run
// for closeGrace (since before the bound, at the latest closeGrace after
// it), an error wrapping ErrStuck. Outside callbacks the consumer only
// finishes the shutdown (keeps what is left, closes the spill file), work
// that ends: await waits for it.
func (w *Writer) await(call string, cause error) error {
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return w.closeErr
		case <-t.C:
		}
		next := 10 * time.Millisecond // not inside a callback: look again
		if v := w.inCall.Load(); v != 0 {
			ran := time.Since(w.epoch) - time.Duration(v>>callBits)
			if ran >= closeGrace {
				return w.stuck(call, cause)
			}
			next = closeGrace - ran
		}
		t.Reset(next)
	}
}

// Callbacks the consumer goroutine may be inside (Writer.inCall's low
// callBits bits).
const (
	callDial = 1 + iota
	callDropNotice
	callFormat

	callBits = 2
)

// enter records that the consumer goroutine calls the callback cb, now;
// inCall.Store(0) records its return. One clock read and one store.
func (w *Writer) enter(cb int64) {
	w.inCall.Store(int64(time.Since(w.epoch))<<callBits | cb)
}

// callName names the callback inCall holds.
func callName(v int64) string {
	switch v & (1<<callBits - 1) {
	case callDial:
		return "Config.Dial"
	case callDropNotice:
		return "Config.DropNotice"
	case callFormat:
		return "Config.Format"
	}
	return "a callback"
}

// onConsumer reports whether the caller is the consumer goroutine, which
// runs the caller's code only inside a callback.
func (w *Writer) onConsumer() bool {
	if w.inCall.Load() == 0 {
		return false
	}
	id := goid()
	return id != 0 && id == w.consumerID.Load()
}

// stuck returns the error of a Close or Shutdown (call) that returns
// before the consumer goroutine has exited: cause is why its bound passed,
// nil for a call from a callback on the consumer goroutine.
func (w *Writer) stuck(call string, cause error) error {
	select {
	case <-w.done: // it exited just now
		return w.closeErr
	default:
	}
	name := callName(w.inCall.Load())
	var err error
	if cause == nil {
		err = fmt.Errorf("%w: %s was called from %s, on the consumer goroutine, which goes on with the shutdown once that returns", ErrStuck, call, name)
	} else {
		err = errors.Join(fmt.Errorf("%w: %s: the consumer goroutine is inside %s, which has not returned %v after the shutdown's bound", ErrStuck, call, name, closeGrace), cause)
	}
	st := w.Stats()
	e := &LostError{Held: int(st.Pending + st.Buffered), Evicted: int(w.evicted.Load() - w.evictedAtClose), Err: err, Socket: w.LastError()}
	if e.Held+e.Evicted == 0 {
		return err // nothing lost or held: no *LostError
	}
	return e
}

// goid returns the calling goroutine's id, from the first line of its
// stack trace ("goroutine 18 [running]:"), or 0. Only Close and Shutdown
// call it, to tell a callback on the consumer goroutine: Go gives no
// other way to know which goroutine calls.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); ok && i > 0 {
		if id, err := strconv.ParseUint(string(b[:i]), 10, 64); err == nil {
			return id
		}
	}
	return 0
}

// noBound is closeBy while shutting down without a deadline.
const noBound = math.MaxInt64

// begin starts the shutdown with the bound d (zero: none), or lowers the
// bound of one in progress. The bound is published before closed is set,
// so the consumer, which reads it after seeing closed, always has it.
func (w *Writer) begin(d time.Time) {
	w.bound(d)
	w.stopOnce.Do(func() {
		w.evictedAtClose = w.evicted.Load() // before closed: the consumer reads it after seeing closed
		w.closed.Store(true)
		close(w.stop)
		w.ring.Wake()
	})
}

// bound lowers the shutdown's deadline to d (zero: none, which lowers
// nothing but starts the shutdown's clock at "no deadline"). A write blocked
// on a daemon that does not read returns by the new deadline (conn.setDeadline
// never sets a later one from now on), and the consumer's waits are cut
// short.
func (w *Writer) bound(d time.Time) {
	n := int64(noBound)
	if !d.IsZero() {
		n = d.UnixNano()
	}
	for {
		old := w.closeBy.Load()
		if old != 0 && old <= n {
			return
		}
		if w.closeBy.CompareAndSwap(old, n) {
			break
		}
	}
	if n != noBound {
		if c := w.live.Load(); c != nil {
			c.uc.SetWriteDeadline(d)
		}
	}
	select {
	case w.hurry <- struct{}{}:
	default:
	}
}

// expire ends the shutdown's drain now, for cause: a dial in progress gives
// up, and the consumer keeps what is left.
func (w *Writer) expire(cause error) {
	w.cause.CompareAndSwap(nil, &cause)
	w.bound(time.Now())
	w.closing()
}

// deadline returns the shutdown's deadline (zero: none).
func (w *Writer) deadline() time.Time {
	if n := w.closeBy.Load(); n != 0 && n != noBound {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// LostError is the error of Close and Shutdown when records were neither
// sent nor kept, by reason, and of Flush and Sync when records were
// evicted. Records kept for later (Config.Offline, the spill file) are not
// in it. It wraps Err, Socket and, when SpillLost is non-zero,
// ErrSpillLost: use errors.As to read the counts and errors.Is for the
// cause.
type LostError struct {
	// Unkept records were left in the offline ring that Open made
	// (Config.Offline was nil): nothing holds them once the Writer is
	// closed (they are in Stats.Buffered).
	Unkept int
	// Evicted records were evicted from the offline ring (with SpillDir,
	// from the ring file) to make room for newer ones (they are in
	// Stats.Evicted): for Close and Shutdown, during the shutdown; for
	// Flush and Sync, since Open or the last Flush that reported
	// evictions.
	Evicted int
	// Held records were still held by the consumer goroutine (in the byte
	// ring, with SpillDir in the ring file, or in the offline ring:
	// Stats.Pending + Stats.Buffered) when Close or Shutdown returned with
	// it stuck in a callback (Err wraps ErrStuck): neither sent nor kept
	// yet. When the callback returns the shutdown goes on and keeps or
	// sends them, or counts them lost; a later Shutdown returns that.
	Held int
	// Unfinished records had been claimed by a Write that had not finished
	// copying when the shutdown ended (they are in Stats.Pending).
	Unfinished int
	// SpillLost records were left in a ring file that Config.SpillDir no
	// longer names: no later Open finds them (Stats.SpillLost).
	SpillLost int
	// Err is why the shutdown stopped sending: ctx.Err() for Shutdown,
	// context.DeadlineExceeded for Close, an error wrapping
	// ErrCallbackPanic when a callback ended the consumer goroutine, and
	// also ErrStuck when Held is set. Nil for Flush and Sync.
	Err error
	// Socket is the last dial or write error (LastError) when the shutdown
	// ended or the Flush was answered, nil if none: why the daemon did not
	// take the records.
	Socket error
}

// Error says how many records were lost (or held), why, and the last
// socket error.
func (e *LostError) Error() string {
	var b strings.Builder
	b.WriteString("uds: ")
	if lost := e.Unkept + e.Evicted + e.Unfinished + e.SpillLost; lost > 0 || e.Held == 0 {
		fmt.Fprintf(&b, "%d records lost (", lost)
		sep := ""
		for _, r := range [...]struct {
			n    int
			what string
		}{
			{e.Unkept, "left in the Writer's own offline ring"},
			{e.Evicted, "evicted to make room"},
			{e.Unfinished, "never finished by their Write"},
			{e.SpillLost, "left in a spill file the path no longer names"},
		} {
			if r.n > 0 {
				fmt.Fprintf(&b, "%s%d %s", sep, r.n, r.what)
				sep = ", "
			}
		}
		b.WriteString(")")
		if e.Held > 0 {
			b.WriteString(", and ")
		}
	}
	if e.Held > 0 {
		fmt.Fprintf(&b, "%d records held by the consumer goroutine, not yet sent or kept", e.Held)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Socket != nil {
		b.WriteString("; last socket error: " + e.Socket.Error())
	}
	return b.String()
}

// Unwrap returns Err, Socket and, when SpillLost is non-zero, ErrSpillLost
// (those that are not nil).
func (e *LostError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Err, e.Socket} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if e.SpillLost > 0 {
		errs = append(errs, ErrSpillLost)
	}
	return errs
}

// LastError returns the most recent dial or write error (nil if none): why
// the Writer is not connected, for example "connect: permission denied",
// that the daemon stopped reading (a stall: Config.WriteTimeout), or a
// panic recovered from a callback (ErrCallbackPanic). A daemon that reads,
// however slowly, sets none. A successful connection clears it.
func (w *Writer) LastError() error {
	if p := w.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Stats returns the Writer's counters. Safe from any goroutine.
func (w *Writer) Stats() Stats {
	// Records that left the ring, sent or skipped as damaged (the ring
	// counts these as it releases them, before head moves); both before
	// Written(), so no underflow.
	sent := w.sent.Load()
	damaged := w.ring.Damaged()
	accepted := uint64(w.ring.Written())
	st := Stats{
		Preloaded:         w.preloaded,
		Recovered:         uint64(w.recovery.Records),
		Written:           w.written.Load(),
		WrittenBytes:      w.writtenBytes.Load(),
		Sends:             w.sends.Load(),
		SkippedUnfinished: uint64(w.recovery.Unfinished),
		SkippedDamaged:    uint64(w.recovery.Damaged),
		SkippedUnverified: uint64(w.recovery.Unverified),
		DroppedTooLarge:   w.droppedLarge.Load(),
		DroppedNewline:    w.droppedNewline.Load(),
		DroppedUnsendable: w.droppedUnsendable.Load(),
		DroppedClosed:     w.droppedClosed.Load(),
		DroppedDamaged:    damaged,
		Evicted:           w.evicted.Load(),
		SpillLost:         w.spillLost.Load(),
		Buffered:          w.buffered.Load(),
		Notices:           w.notices.Load(),
		Connects:          w.connects.Load(),
		DialErrors:        w.dialErrs.Load(),
		WriteErrors:       w.writeErrs.Load(),
		Stalls:            w.stalls.Load(),
		Panics:            w.panics.Load(),
		Slow:              w.slow.Load(),
		Unconfirmed:       w.unconfirmed.Load(),
		Resent:            w.resent.Load(),
		Connected:         w.connected.Load(),
	}
	for i := range st.DroppedBySeverity {
		st.DroppedBySeverity[i] = w.dropped[i].Load()
		st.DroppedFull += st.DroppedBySeverity[i]
	}
	// The ring counts records modulo 2^32; sent is exact, and fewer than
	// 2^32 records are ever pending, so the difference is exact.
	st.Pending = uint64(uint32(accepted) - uint32(sent) - uint32(damaged) - w.relBase)
	st.Accepted = sent + damaged + st.Pending - st.Recovered
	return st
}
