//go:build !unix || ringsink_portable

package uds

import "net"

// vectors is the buffer list one vectored write takes. Off Unix (Windows
// has AF_UNIX stream sockets since Windows 10) there is no writev: the
// portable path hands the list to net.Buffers, which writes it buffer by
// buffer through the runtime poller, with the same accounting of complete
// records.
type vectors struct{ bufs, tmp net.Buffers }

func (v *vectors) init()               { v.bufs, v.tmp = make(net.Buffers, maxIov), make(net.Buffers, maxIov) }
func (v *vectors) set(i int, b []byte) { v.bufs[i] = b }

// writeAll writes every record, or stops at the deadline or an error.
func (c *conn) writeAll() error {
	for c.done < len(c.recs) {
		n := c.fill()
		if c.err != nil { // a Format panic on a torn record
			return c.err
		}
		if n == 0 { // only empty raw records left, or skipped ones
			c.advance(0)
			continue
		}
		tmp := c.vec.tmp[:n] // WriteTo consumes its list: a copy, on a fixed array
		copy(tmp, c.vec.bufs[:n])
		w, err := tmp.WriteTo(c.uc)
		c.sends++
		c.bytes += uint64(w)
		c.advance(int(w))
		clear(c.vec.bufs[:n])
		if err != nil {
			return err
		}
	}
	return nil
}

// write is not used off Unix.
func (c *conn) write(uintptr) bool { return true }

// writevAllocFree: net.Buffers may allocate per write on this path.
const writevAllocFree = false

// writevEarly: net.Buffers writes until done or the deadline, so a stream
// does not return early (conn.early) on this path.
const writevEarly = false

// drained is asked when a write deadline expired. net.Buffers hides the
// socket (no EAGAIN to see, no write outside the poller), so this path
// cannot tell a slow daemon from a stopped one: every expiry is a stall,
// judged by the write's timer (docs/design.md).
func (c *conn) drained(uint64) bool { return false }

// progressKnown: this path judges a stall by the write's timer.
const progressKnown = false
