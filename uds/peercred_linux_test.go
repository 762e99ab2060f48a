//go:build linux

package uds

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPeerUIDDatagramChecksWhereTheConnectionWent: on a datagram socket
// RequirePeerUID checks the owner of the socket the connection went to,
// not of Config.Path: a Config.Dial that connects elsewhere (an abstract
// socket, which has no owner, or another socket file) sends nothing,
// although Path names a socket of the right uid. (It checked Path: with
// PeerUID 0, a Dial to an abstract socket that uid 65534 bound got the
// records.)
func TestPeerUIDDatagramChecksWhereTheConnectionWent(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr func(t *testing.T) string // where Dial connects; a receiver is bound there
		want string                    // in LastError
	}{
		{"abstract", func(*testing.T) string { return fmt.Sprintf("@ringsink-peer-%d", os.Getpid()) }, "abstract or unnamed"},
		{"another file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "other.sock") }, "not the socket at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := sockPath(t)
			d := startMsgDaemon(t, "unixgram", path, false) // Path: a socket of the right uid
			defer d.close()
			addr := tc.addr(t)
			other, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			got := make(chan string, 1)
			go func() {
				buf := make([]byte, 100)
				other.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, _, err := other.ReadFromUnix(buf)
				if err == nil {
					got <- string(buf[:n])
				}
				close(got)
			}()
			dial := func(ctx context.Context, _ string) (*net.UnixConn, error) {
				return net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
			}
			w := mustOpen(t, Config{Path: path, Network: "unixgram", Dial: dial, RequirePeerUID: true, PeerUID: os.Getuid(),
				ReconnectMin: time.Millisecond, ReconnectMax: 2 * time.Millisecond, CloseTimeout: 50 * time.Millisecond})
			if _, err := w.Write([]byte("secret")); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "refused connections", 10*time.Second, func() bool { return w.Stats().DialErrors >= 2 })
			lerr := w.LastError()
			w.Close()
			if rec, ok := <-got; ok {
				t.Fatalf("the socket at %s, not %s, received %q with RequirePeerUID", addr, path, rec)
			}
			if lerr == nil || !strings.Contains(lerr.Error(), tc.want) {
				t.Errorf("LastError = %v; want it to say %q", lerr, tc.want)
			}
			if st := w.Stats(); st.Connects != 0 || st.Written != 0 {
				t.Errorf("Connects %d, Written %d; want 0, 0", st.Connects, st.Written)
			}
		})
	}
}
