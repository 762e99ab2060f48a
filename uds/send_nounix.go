//go:build !unix

package uds

import "errors"

// mmsgs is unused: only Unix has message-oriented Unix sockets.
type mmsgs struct{}

// sendAll is never reached: socketKind reports every socket as a stream
// off Unix.
func (c *conn) sendAll() error { return errors.New("uds: message sockets need a Unix platform") }

func (c *conn) sendmsgs(uintptr) bool { return true }

// batchedMessages: no message sockets here.
const batchedMessages = false
