//go:build linux && !ringsink_portable

package uds

import (
	"testing"
)

// TestSendmmsgRefused: in a sandbox that filters sendmmsg out (seccomp
// answers ENOSYS or EPERM), the conn falls back to one sendmsg per message:
// every record still arrives once, in order, empty ones included.
func TestSendmmsgRefused(t *testing.T) {
	if !batchedMessages {
		t.Skip("no sendmmsg on this platform")
	}
	old := sysSendmmsg
	sysSendmmsg = 1 << 20 // no such system call: ENOSYS
	defer func() { sysSendmmsg = old }()
	path := sockPath(t)
	d := startMsgDaemon(t, "unixgram", path, false)
	w := mustOpen(t, Config{Path: path})
	const n = 2000
	writeNumbered(t, w, 0, n)
	if st := d.finish(t, w, n, false); st.Written != n || st.Sends < n {
		t.Fatalf("written %d in %d system calls; want %d in one each", st.Written, st.Sends, n)
	}
}
