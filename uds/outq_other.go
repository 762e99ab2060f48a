//go:build !linux

package uds

// outqKnown: only Linux tells a Unix socket's sender what the peer has not
// consumed; elsewhere records the kernel took are Written, and what a
// daemon that dies leaves unread is lost without a count (docs/design.md).
const outqKnown = false

type outqState struct{}

func (c *Conn) initOutq()         {}
func (c *Conn) outq() (int, bool) { return 0, false }
func (c *Conn) peerGone() bool    { return false }
