//go:build linux || darwin || freebsd

package uds

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestRequirePeerUID: after the daemon died, any local process that binds
// the same path would receive the backlog. With RequirePeerUID the Writer
// sends nothing to a listener that runs as another uid (stream and
// seqpacket: the kernel's peer credentials; datagram: the socket file's
// owner): the connection is a failed dial, LastError names the uid, and
// the records stay queued. The right uid gets them.
func TestRequirePeerUID(t *testing.T) {
	me := os.Getuid()
	for _, network := range []string{"unix", "unixpacket", "unixgram"} {
		for _, match := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/match=%v", network, match), func(t *testing.T) {
				if network == "unixpacket" && runtime.GOOS == "darwin" {
					t.Skip("no seqpacket Unix sockets on macOS")
				}
				path := sockPath(t)
				var received func() []byte
				if network == "unix" {
					d := startDaemon(t, path)
					received = func() []byte { return bytes.Join(d.data(), nil) }
				} else {
					d := startMsgDaemon(t, network, path, false)
					received = func() []byte { return bytes.Join(d.got(), nil) }
				}
				want := me
				if !match {
					want = me + 1
				}
				w := mustOpen(t, Config{Path: path, Network: network, RequirePeerUID: true, PeerUID: want,
					ReconnectMin: time.Millisecond, ReconnectMax: 2 * time.Millisecond, CloseTimeout: 50 * time.Millisecond})
				if _, err := w.Write([]byte("secret")); err != nil {
					t.Fatal(err)
				}
				if match {
					flushAndClose(t, w)
					waitFor(t, "the record", 10*time.Second, func() bool { return bytes.Equal(received(), []byte("secret")) })
					return
				}
				waitFor(t, "refused connections", 10*time.Second, func() bool { return w.Stats().DialErrors >= 3 })
				err := w.LastError()
				if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("uid %d; Config.PeerUID is %d", me, want)) {
					t.Fatalf("LastError %v; want it to name uid %d and PeerUID %d", err, me, want)
				}
				if lost := asLost(t, w.Close()); lost.Unkept != 1 {
					t.Fatalf("Close: %+v; want the record reported as lost (the Writer's own offline ring)", *lost)
				}
				st := w.Stats()
				checkConservation(t, st)
				if st.Connects != 0 || st.Written != 0 || w.off.Len() != 1 || len(received()) != 0 {
					t.Fatalf("connects %d, written %d, offline %d, daemon got %q; want nothing sent, the record kept",
						st.Connects, st.Written, w.off.Len(), received())
				}
			})
		}
	}
}
