package uds

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// Close is "Shutdown bounded by Config.CloseTimeout". A Config.Dial that
// does not honour its context (a custom dialer doing its own blocking
// setup) holds the consumer goroutine, and Close waits for that goroutine
// with no bound: it must return by about CloseTimeout, as sink.Close does
// (with an error saying the consumer is stuck).
func TestCloseReturnsByCloseTimeoutWhileDialIgnoresContext(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	dial := func(ctx context.Context, path string) (*net.UnixConn, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release // ignores ctx
		return nil, errors.New("no daemon")
	}
	w := mustOpen(t, Config{Path: sockPath(t), Dial: dial, CloseTimeout: 100 * time.Millisecond})
	if _, err := w.Write([]byte("r0")); err != nil {
		t.Fatal(err)
	}
	<-entered
	closed := make(chan error, 1)
	start := time.Now()
	go func() { closed <- w.Close() }()
	select {
	case <-closed:
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("Close took %v; want about CloseTimeout (100ms)", took)
		}
	case <-time.After(3 * time.Second):
		close(release)
		err := <-closed
		t.Fatalf("Close has not returned 3 s after it was called, with CloseTimeout 100ms (it returned %v once Dial was released)", err)
	}
	close(release)
	<-w.done
}
