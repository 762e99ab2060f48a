//go:build unix && (!linux || ringsink_portable)

package uds

import "golang.org/x/sys/unix"

// mmsgs is unused without sendmmsg.
type mmsgs struct{}

// sendAll sends the records as messages, one write(2) each (sendmmsg is
// Linux's), through the runtime poller: a full receive queue (EAGAIN,
// ENOBUFS) waits there, as on Linux, instead of failing the connection.
func (c *conn) sendAll() error { return c.rc.Write(c.writeFn) }

// sendmsgs is the RawConn callback for message sockets: one write per
// record; a record the socket refuses as too large is skipped and counted.
func (c *conn) sendmsgs(fd uintptr) bool {
	for c.skipEmpty(); c.done < len(c.recs); c.skipEmpty() {
		c.startBatch()
		hdr, body, trailer, ok := c.format3(c.recs[c.done])
		if !ok { // the Format panicked on it
			c.skipPanicked()
			continue
		}
		c.flen[0] = len(hdr) + len(body) + len(trailer)
		msg := body
		if c.format != nil { // one message from three parts: a copy, on this portable path
			c.msg = append(append(append(c.msg[:0], hdr...), body...), trailer...)
			msg = c.msg
		}
		_, err := unix.Write(int(fd), msg)
		if done, more := c.sent(1, err); !more {
			return done
		}
	}
	return true
}

// batchedMessages: one write(2) per message here.
const batchedMessages = false
