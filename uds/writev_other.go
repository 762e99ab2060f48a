//go:build !unix || ringsink_portable

package uds

import (
	"net"
	"time"
)

// vectors is the buffer list one vectored write takes. Off Unix (Windows
// has AF_UNIX stream sockets since Windows 10) there is no writev: the
// portable path hands the list to net.Buffers, which writes it buffer by
// buffer through the runtime poller, with the same accounting of complete
// records.
type vectors struct{ bufs, tmp net.Buffers }

func (v *vectors) init()               { v.bufs, v.tmp = make(net.Buffers, maxIov), make(net.Buffers, maxIov) }
func (v *vectors) set(i int, b []byte) { v.bufs[i] = b }

// writeAll writes every record, or stops at the deadline or an error.
func (c *Conn) writeAll() error {
	for c.done < len(c.recs) {
		n := c.fill()
		if n == 0 { // only empty raw records left
			c.advance(0)
			continue
		}
		tmp := c.vec.tmp[:n] // WriteTo consumes its list: a copy, on a fixed array
		copy(tmp, c.vec.bufs[:n])
		w, err := tmp.WriteTo(c.uc)
		c.writevs++
		c.bytes += uint64(w)
		if w > 0 {
			c.taken = time.Now()
		}
		c.advance(int(w))
		clear(c.vec.bufs[:n])
		if err != nil {
			return err
		}
	}
	return nil
}

// write is not used off Unix.
func (c *Conn) write(uintptr) bool { return true }

// writevAllocFree: net.Buffers may allocate per write on this path.
const writevAllocFree = false

// writevEarly: net.Buffers writes until done or the deadline, so a stream
// does not return early (Conn.early) on this path.
const writevEarly = false

// drained is asked when a write deadline expired: did the daemon take
// bytes? net.Buffers hides the socket, so on this path the writes' own
// progress tells: bytes taken in this call (since start, its first count)
// or within the last two WriteTimeouts (a socket may report room only once
// it has drained to a quarter, later than one timeout after it filled). A
// daemon that stops reading is then seen two to three WriteTimeouts after
// its socket filled, not one.
func (c *Conn) drained(start uint64) bool {
	return c.bytes != start || time.Since(c.taken) < 2*c.timeout
}
