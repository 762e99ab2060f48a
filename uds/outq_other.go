//go:build !linux

package uds

// outqKnown: only Linux tells a Unix socket's sender what the peer has not
// consumed; elsewhere records the kernel took are Written, and what a
// daemon that dies leaves unread is lost without a count (docs/design.md).
const outqKnown = false

type outqState struct{}

func (c *conn) initOutq()         {}
func (c *conn) outq() (int, bool) { return 0, false }
func (c *conn) peerGone() bool    { return false }
