package format

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Priority is a syslog priority: a facility or'ed with a severity, numbered
// as in RFC 5424 and log/syslog.
type Priority int

// Severities, from RFC 5424.
const (
	Emerg Priority = iota
	Alert
	Crit
	Err
	Warning
	Notice
	Info
	Debug
)

// Facilities, from RFC 5424. Kern is reserved for the kernel, as in
// glibc's syslog(3): a default priority with facility Kern gets User, and
// (with Options.RecordFacility) a record's <PRI> with facility Kern gets
// the format's facility.
const (
	Kern Priority = iota << 3
	User
	Mail
	Daemon
	Auth
	Syslogd // messages of the syslog daemon itself
	Lpr
	News
	Uucp
	Cron
	Authpriv
	Ftp
	_ // ntp
	_ // log audit
	_ // log alert
	_ // clock
	Local0
	Local1
	Local2
	Local3
	Local4
	Local5
	Local6
	Local7
)

const (
	severityMask = 7
	facilityMask = 0xf8
	maxPri       = Local7 | Debug // 191
)

// Options are the constant parts of the headers. Zero fields take their
// defaults.
type Options struct {
	// Hostname: RFC 5424's HOSTNAME, RFC 3164's HOSTNAME. RFC 5424 defaults
	// to os.Hostname; RFC 3164 leaves it out by default, as glibc does on
	// /dev/log (the daemon fills in its own). Journald takes the host from
	// the socket and ignores it.
	Hostname string
	// AppName: RFC 5424's APP-NAME, RFC 3164's TAG, journald's
	// SYSLOG_IDENTIFIER. Defaults to the program's base name.
	AppName string
	// ProcID: RFC 5424's PROCID, the [pid] after RFC 3164's TAG, journald's
	// SYSLOG_PID. Defaults to the process ID; "-" leaves it out.
	ProcID string
	// MsgID is RFC 5424's MSGID; defaults to "-" (none). Other formats
	// ignore it.
	MsgID string
	// Fields are extra journald fields, each "KEY=value", sent with every
	// record (KEY: A-Z, 0-9 and '_', not starting with '_' or a digit, at
	// most 64 bytes). Other formats ignore them.
	Fields []string
	// Level, if set, gives the severity of a record that has no <PRI>
	// prefix; false means "not found" and the default priority applies.
	// LevelField reads slog's, zap's and zerolog's level fields.
	Level func(rec []byte) (Priority, bool)
	// RecordFacility lets a record's leading <PRI> choose the facility as
	// well as the severity: "<80>" is then authpriv.emerg (facility Kern
	// still takes the format's own). Defaults to false: a prefix sets the
	// severity only (PRI & 7), and the facility is always the one the
	// format was made with, so a record that carries text from outside
	// cannot move itself into auth or authpriv, or out of the facility
	// the daemon routes. glibc's syslog(3) never parses the message, and
	// journald's stdout stream takes only <0> to <7>.
	RecordFacility bool
}

// Format renders, on the Writer's consumer goroutine, what a daemon
// expects around each record: a syslog header, journald's fields. It is
// applied with extra iovecs, never by copying records. RFC3164, RFC5424 and
// Journald return one; a Format of your own implements the three methods.
// Framing, on a stream, applies to the whole formatted record.
//
// A Format must be deterministic: a record cut short by a write timeout is
// continued by rendering its header again, and the same record and stamp
// must give the same bytes.
//
// The Formats of this package take a record's severity from a leading
// "<PRI>" and cut it (see the package doc). A Format of your own that does
// the same may say so with a method CutsPRI() bool reporting true: then
// uds.Writer.WriteSeverity passes a record's severity to it as a "<N>"
// prefix; otherwise the severity decides admission only and the record's
// bytes reach Frame as written.
type Format interface {
	// AppendStamp appends the time that the records of one batch carry.
	AppendStamp(dst []byte, now time.Time) []byte
	// Frame appends rec's header to dst and returns the extended dst as
	// hdr (as append does: the header is hdr[len(dst):]), with the part of
	// rec to send (body, a sub-slice of rec) and the bytes to send after it
	// (trailer: nil, or bytes that stay unchanged). stamp is what
	// AppendStamp rendered for the batch. It should append at most
	// MaxOverhead bytes, less len(trailer), or the consumer allocates.
	Frame(dst, rec, stamp []byte) (hdr, body, trailer []byte)
	// MaxOverhead is the most bytes a header and trailer add to a record:
	// at least 0 and at most 64 KiB (uds.Open refuses a Format that
	// answers otherwise).
	MaxOverhead() int
}

// syslogFormat renders RFC 3164 or RFC 5424 headers. It is immutable and
// safe for concurrent use.
type syslogFormat struct {
	rfc5424 bool
	anyFac  bool     // Options.RecordFacility
	pri     Priority // default facility | severity
	head    []byte   // after the timestamp: " host app[pid]: " or " host app procid msgid - "
	level   func([]byte) (Priority, bool)
	maxOver int
}

// RFC3164 returns the BSD syslog format glibc's syslog(3) sends to
// /dev/log: "<PRI>Mmm dd hh:mm:ss [HOSTNAME ]TAG[PID]: MSG", with the
// timestamp in local time to the second. pri is the default facility and
// severity (User|Info, say) for records that carry none.
func RFC3164(pri Priority, o Options) (Format, error) {
	if err := o.defaults(false); err != nil {
		return nil, err
	}
	if err := checkPri(&pri); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"AppName", o.AppName}, {"ProcID", o.ProcID}, {"Hostname", o.Hostname}} {
		if err := checkToken(f.name, f.v, 255, ":[]"); err != nil && (f.v != "" || f.name != "Hostname") {
			return nil, err
		}
	}
	var head []byte
	head = append(head, ' ')
	if o.Hostname != "" {
		head = append(append(head, o.Hostname...), ' ')
	}
	head = append(head, o.AppName...)
	if o.ProcID != "-" {
		head = append(append(append(head, '['), o.ProcID...), ']')
	}
	head = append(head, ": "...)
	return newSyslog(false, pri, head, o, len(stamp3164)), nil
}

// RFC5424 returns the syslog protocol format: "<PRI>1 TIMESTAMP HOSTNAME
// APP-NAME PROCID MSGID - MSG", with the timestamp in UTC to the
// microsecond and no structured data. pri is the default facility and
// severity (User|Info, say) for records that carry none.
func RFC5424(pri Priority, o Options) (Format, error) {
	if err := o.defaults(true); err != nil {
		return nil, err
	}
	if err := checkPri(&pri); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"Hostname", o.Hostname, 255}, {"AppName", o.AppName, 48}, {"ProcID", o.ProcID, 128}, {"MsgID", o.MsgID, 32}} {
		if err := checkToken(f.name, f.v, f.max, ""); err != nil {
			return nil, err
		}
	}
	head := []byte(" " + o.Hostname + " " + o.AppName + " " + o.ProcID + " " + o.MsgID + " - ")
	return newSyslog(true, pri, head, o, len(stamp5424)+len("1")), nil
}

// The timestamp layouts. RFC 3164's day of month is space-padded.
const (
	stamp3164 = "Jan _2 15:04:05"
	stamp5424 = "2006-01-02T15:04:05.000000Z07:00"
)

func newSyslog(rfc5424 bool, pri Priority, head []byte, o Options, stampLen int) *syslogFormat {
	return &syslogFormat{
		rfc5424: rfc5424,
		anyFac:  o.RecordFacility,
		pri:     pri,
		head:    head,
		level:   o.Level,
		maxOver: len("<191>") + stampLen + len(head),
	}
}

// AppendStamp renders the time one batch of headers carries.
func (s *syslogFormat) AppendStamp(dst []byte, now time.Time) []byte {
	if s.rfc5424 {
		return now.UTC().AppendFormat(dst, stamp5424)
	}
	return now.AppendFormat(dst, stamp3164)
}

// Frame appends rec's header to dst. The body is rec without a leading
// <PRI> (which sets the record's severity, and its facility with
// Options.RecordFacility) and without one trailing '\n'.
func (s *syslogFormat) Frame(dst, rec, stamp []byte) (hdr, body, trailer []byte) {
	pri, body := priority(rec, s.pri, s.level, s.anyFac)
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(pri), 10)
	dst = append(dst, '>')
	if s.rfc5424 {
		dst = append(dst, '1', ' ')
	}
	dst = append(dst, stamp...)
	return append(dst, s.head...), body, nil
}

// MaxOverhead is the longest header Frame appends.
func (s *syslogFormat) MaxOverhead() int { return s.maxOver }

// CutsPRI reports true: Frame takes a record's severity from a leading
// "<PRI>" and cuts it (see Format).
func (s *syslogFormat) CutsPRI() bool { return true }

// journal renders journald's native protocol (systemd.journal-fields(7),
// "Native Journal Protocol"): one datagram of fields, each "KEY=value\n",
// with MESSAGE last in the binary-safe form ("MESSAGE\n", its length as a
// 64-bit little-endian integer, the bytes, "\n"), so a record may hold any
// bytes, newlines included. It is immutable and safe for concurrent use.
type journal struct {
	pri     Priority
	anyFac  bool   // Options.RecordFacility
	fixed   []byte // SYSLOG_IDENTIFIER=, SYSLOG_PID=, Fields, "MESSAGE\n"
	level   func([]byte) (Priority, bool)
	maxOver int
}

// Journald returns the journald native format. pri is the default facility
// and severity for records that carry none (PRIORITY= and
// SYSLOG_FACILITY=). journald stamps records itself when it receives them.
func Journald(pri Priority, o Options) (Format, error) {
	if err := o.defaults(false); err != nil {
		return nil, err
	}
	if err := checkPri(&pri); err != nil {
		return nil, err
	}
	var fixed []byte
	field := func(k, v string) {
		if strings.IndexByte(v, '\n') < 0 {
			fixed = append(append(append(append(fixed, k...), '='), v...), '\n')
			return
		}
		fixed = append(append(fixed, k...), '\n')
		fixed = binary.LittleEndian.AppendUint64(fixed, uint64(len(v)))
		fixed = append(append(fixed, v...), '\n')
	}
	field("SYSLOG_IDENTIFIER", o.AppName)
	if o.ProcID != "-" {
		field("SYSLOG_PID", o.ProcID)
	}
	for _, f := range o.Fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("format: journald field %q is not KEY=value", f)
		}
		if err := checkJournalKey(k); err != nil {
			return nil, err
		}
		field(k, v)
	}
	fixed = append(fixed, "MESSAGE\n"...)
	return &journal{
		pri:     pri,
		anyFac:  o.RecordFacility,
		fixed:   fixed,
		level:   o.Level,
		maxOver: len("PRIORITY=7\nSYSLOG_FACILITY=23\n") + len(fixed) + 8 + len("\n"),
	}, nil
}

var newline = []byte{'\n'}

// AppendStamp adds nothing: journald stamps records on receipt.
func (j *journal) AppendStamp(dst []byte, _ time.Time) []byte { return dst }

// Frame appends rec's fields to dst. The body is rec without a leading
// <PRI> (which sets PRIORITY=, and SYSLOG_FACILITY= with
// Options.RecordFacility) and without one trailing '\n'.
func (j *journal) Frame(dst, rec, _ []byte) (hdr, body, trailer []byte) {
	pri, body := priority(rec, j.pri, j.level, j.anyFac)
	dst = append(dst, "PRIORITY="...)
	dst = append(dst, byte('0'+pri&severityMask), '\n')
	dst = append(dst, "SYSLOG_FACILITY="...)
	dst = strconv.AppendInt(dst, int64(pri>>3), 10)
	dst = append(dst, '\n')
	dst = append(dst, j.fixed...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(body)))
	return dst, body, newline
}

// MaxOverhead is the most bytes Frame adds to a record.
func (j *journal) MaxOverhead() int { return j.maxOver }

// CutsPRI reports true: Frame takes a record's severity from a leading
// "<PRI>" and cuts it (see Format).
func (j *journal) CutsPRI() bool { return true }

// priority returns rec's priority and body: a leading "<PRI>" (0 to 191,
// no leading zeros) sets the severity, and the facility too if anyFac, and
// is cut; otherwise level, if set, gives the severity; otherwise def
// applies. A record's facility Kern becomes def's facility. One trailing
// '\n' is cut.
func priority(rec []byte, def Priority, level func([]byte) (Priority, bool), anyFac bool) (Priority, []byte) {
	pri := def
	if p, n := parsePri(rec); n > 0 {
		rec = rec[n:]
		pri = facility(def) | p&severityMask
		if anyFac && facility(p) != Kern {
			pri = p
		}
	} else if level != nil {
		if sev, ok := level(rec); ok {
			pri = facility(def) | sev&severityMask
		}
	}
	if len(rec) > 0 && rec[len(rec)-1] == '\n' {
		rec = rec[:len(rec)-1]
	}
	return pri, rec
}

// parsePri parses a leading "<PRI>" and returns it and its length, or 0, 0.
func parsePri(rec []byte) (Priority, int) {
	if len(rec) < 3 || rec[0] != '<' {
		return 0, 0
	}
	v := 0
	for i := 1; i < len(rec) && i <= 4; i++ {
		c := rec[i]
		switch {
		case c == '>' && i > 1:
			if v > int(maxPri) {
				return 0, 0
			}
			return Priority(v), i + 1
		case c < '0' || c > '9' || (i == 2 && rec[1] == '0'):
			return 0, 0
		}
		v = v*10 + int(c-'0')
	}
	return 0, 0
}

func facility(p Priority) Priority { return p & facilityMask }

// checkPri checks a default priority and gives facility Kern the User
// facility, as glibc's syslog(3) does for a process's own messages.
func checkPri(p *Priority) error {
	if *p < 0 || *p > maxPri {
		return fmt.Errorf("format: priority %d out of range [0, %d]", *p, maxPri)
	}
	if facility(*p) == Kern {
		*p |= User
	}
	return nil
}

// defaults fills in the defaults; hostname5424 says whether Hostname
// defaults to os.Hostname.
func (o *Options) defaults(hostname5424 bool) error {
	if o.AppName == "" {
		// The program's name, made a valid tag: RFC 5424 takes 48
		// printable US-ASCII bytes, RFC 3164 no ':', '[' or ']' either.
		o.AppName = token(filepath.Base(os.Args[0]), 48, ":[]")
	}
	if o.ProcID == "" {
		o.ProcID = strconv.Itoa(os.Getpid())
	}
	if o.MsgID == "" {
		o.MsgID = "-"
	}
	if o.Hostname == "" && hostname5424 {
		h, err := os.Hostname()
		if err != nil {
			h = ""
		}
		o.Hostname = token(h, 255, "")
	}
	if o.AppName == "" || strings.ContainsAny(o.AppName, "\n\x00") {
		return fmt.Errorf("format: bad AppName %q", o.AppName)
	}
	if strings.ContainsAny(o.Hostname, " \n\x00") {
		return fmt.Errorf("format: Hostname %q has a space, newline or NUL", o.Hostname)
	}
	return nil
}

// checkToken checks a syslog header field: 1 to max printable US-ASCII
// characters, no space and none of also.
func checkToken(name, v string, max int, also string) error {
	if v == "" || len(v) > max {
		return fmt.Errorf("format: %s %q must have 1 to %d characters", name, v, max)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 33 || v[i] > 126 || strings.IndexByte(also, v[i]) >= 0 {
			return fmt.Errorf("format: %s %q: a syslog header field takes printable US-ASCII only, no space%s", name, v, quoteAll(also))
		}
	}
	return nil
}

func quoteAll(chars string) string {
	if chars == "" {
		return ""
	}
	var b strings.Builder
	for _, c := range chars {
		fmt.Fprintf(&b, ", %q", c)
	}
	return b.String()
}

// token makes a valid default header field of s: printable US-ASCII
// without space or any of also, '_' for anything else, at most max bytes.
func token(s string, max int, also string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 33 || c > 126 || strings.IndexByte(also, c) >= 0 {
			b[i] = '_'
		}
	}
	if len(b) > max {
		b = b[:max]
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

var errJournalKey = errors.New("a journald field name has 1 to 64 of A-Z, 0-9 and '_', and starts with neither '_' nor a digit")

func checkJournalKey(k string) error {
	if k == "" || len(k) > 64 || k[0] == '_' || (k[0] >= '0' && k[0] <= '9') {
		return fmt.Errorf("format: field %q: %w", k, errJournalKey)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("format: field %q: %w", k, errJournalKey)
		}
	}
	switch k {
	case "MESSAGE", "PRIORITY", "SYSLOG_FACILITY", "SYSLOG_IDENTIFIER", "SYSLOG_PID":
		return fmt.Errorf("format: field %q is set by the format", k)
	}
	return nil
}
