//go:build unix

package uds

import (
	"context"
	"fmt"
	"log/syslog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/baseline"
	"github.com/ringsink/ringsink/uds/format"
)

// dgramReader reads and counts datagrams on path, as /dev/log's daemon would.
func dgramReader(b testing.TB, path string) (received *atomic.Uint64, stop func()) {
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		b.Fatal(err)
	}
	pc.SetReadBuffer(4 << 20)
	received = new(atomic.Uint64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1<<16)
		for {
			if _, err := pc.Read(buf); err != nil {
				return
			}
			received.Add(1)
		}
	}()
	return received, func() { pc.Close(); <-done }
}

// BenchmarkDatagram: records to a datagram socket (what /dev/log is)
// through uds.Writer, against the standard library's log/syslog writing the
// same records to the same kind of socket (a mutex and a send per record).
// Both send the same bytes: log/syslog's RFC 3164 header for a local socket
// ("<14>Nov 29 19:01:06 bench[pid]: "), which the Writer's consumer renders
// with format.RFC3164.
// Both run at equal delivery: Writer uses WriteContext, which waits for
// room instead of dropping, so every record is delivered (delivered/op and
// dropped/op say so). ns/op is wall time per delivered record over all
// producers; p99-ns etc. are per call; records/syscall is the sendmmsg
// batching.
func BenchmarkDatagram(b *testing.B) {
	rec := []byte("payment accepted order=42 user=ann amount=12.50 currency=EUR")
	f, err := format.RFC3164(format.User|format.Info, format.Options{AppName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	for _, producers := range []int{1, 4} {
		b.Run(fmt.Sprintf("impl=uds.Writer/producers=%d", producers), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(rec)))
			path := sockPathB(b)
			received, stop := dgramReader(b, path)
			defer stop()
			w, err := Open(Config{Path: path, CloseTimeout: time.Second, Format: f})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			baseline.TimedParallel(b, producers, func() bool { _, err := w.WriteContext(ctx, rec); return err == nil })
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			w.Flush(fctx)
			cancel()
			waitReceived(b, received, uint64(b.N))
			st := w.Stats()
			w.Close()
			b.ReportMetric(float64(received.Load())/float64(b.N), "delivered/op")
			b.ReportMetric(float64(st.DroppedFull+st.DroppedUnsendable)/float64(b.N), "dropped/op")
			b.ReportMetric(float64(st.Written)/float64(max(st.Sends, 1)), "records/syscall")
		})
		b.Run(fmt.Sprintf("impl=log-syslog/producers=%d", producers), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(rec)))
			path := sockPathB(b)
			received, stop := dgramReader(b, path)
			defer stop()
			lw, err := syslog.Dial("unixgram", path, syslog.LOG_USER|syslog.LOG_INFO, "bench")
			if err != nil {
				b.Fatal(err)
			}
			baseline.TimedParallel(b, producers, func() bool { _, err := lw.Write(rec); return err == nil })
			waitReceived(b, received, uint64(b.N))
			lw.Close()
			b.ReportMetric(float64(received.Load())/float64(b.N), "delivered/op")
			b.ReportMetric(0, "dropped/op")
			b.ReportMetric(1, "records/syscall")
		})
	}
}

// waitReceived waits for n datagrams; it fails the benchmark after 30 s
// rather than report a partial delivered/op.
func waitReceived(b *testing.B, received *atomic.Uint64, n uint64) {
	for deadline := time.Now().Add(30 * time.Second); received.Load() < n; {
		if time.Now().After(deadline) {
			b.Fatalf("received %d of %d datagrams", received.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
