package uds

import (
	"fmt"
	"net"
	"os"
)

// checkPeer enforces Config.RequirePeerUID on a new connection: on a
// stream or seqpacket socket the peer's credentials must name PeerUID; a
// datagram socket carries none, so the socket file the connection went
// to must be PeerUID's. That file is the peer's address (getpeername, as
// the kernel has it, not Config.Path: a Config.Dial may connect
// elsewhere), which must be a path, not an abstract or unnamed socket
// (those have no owner to check), and must be the file Path names (the
// same inode: /dev/log may be a link to journald's dev-log), stat'ed
// after the connect.
func (w *Writer) checkPeer(c *conn) error {
	want := uint32(w.cfg.PeerUID)
	if c.message && !c.noEmpty { // SOCK_DGRAM
		peer := ""
		if a, ok := c.uc.RemoteAddr().(*net.UnixAddr); ok && a != nil {
			peer = a.Name
		}
		if peer == "" || peer[0] == '@' || peer[0] == 0 {
			return fmt.Errorf("uds: peer check: the datagram socket the connection went to has no file (address %q: abstract or unnamed), so no owner to check; Config.RequirePeerUID needs a socket file", peer)
		}
		fi, err := os.Stat(peer)
		if err != nil {
			return fmt.Errorf("uds: peer check: %w", err)
		}
		if pi, err := os.Stat(w.cfg.Path); err != nil || !os.SameFile(fi, pi) {
			return fmt.Errorf("uds: peer check: the connection went to %s, not the socket at %s", peer, w.cfg.Path)
		}
		uid, ok := fileUID(fi)
		if !ok {
			return fmt.Errorf("uds: peer check: no owner for %s", peer)
		}
		if uid != want {
			return fmt.Errorf("uds: peer check: datagram socket %s is owned by uid %d; Config.PeerUID is %d", peer, uid, want)
		}
		return nil
	}
	uid, err := peerCred(c.rc)
	if err != nil {
		return fmt.Errorf("uds: peer check: %w", err)
	}
	if uid != want {
		return fmt.Errorf("uds: peer check: the listener on %s runs as uid %d; Config.PeerUID is %d", w.cfg.Path, uid, want)
	}
	return nil
}
