package uds

import (
	"fmt"
	"os"
)

// checkPeer enforces Config.RequirePeerUID on a new connection: on a
// stream or seqpacket socket the peer's credentials must name PeerUID; a
// datagram socket carries none, so the socket file at Path, stat'ed after
// the connect, must be PeerUID's.
func (w *Writer) checkPeer(c *Conn) error {
	want := uint32(w.cfg.PeerUID)
	if c.message && !c.noEmpty { // SOCK_DGRAM
		fi, err := os.Stat(w.cfg.Path)
		if err != nil {
			return fmt.Errorf("uds: peer check: %w", err)
		}
		uid, ok := fileUID(fi)
		if !ok {
			return fmt.Errorf("uds: peer check: no owner for %s", w.cfg.Path)
		}
		if uid != want {
			return fmt.Errorf("uds: peer check: datagram socket %s is owned by uid %d; Config.PeerUID is %d", w.cfg.Path, uid, want)
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
