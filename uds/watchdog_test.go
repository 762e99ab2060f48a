package uds

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/ringsink/ringsink/internal/watchdog"
)

// TestWatchdog hunts lost wake-ups through the whole Writer on a real Unix
// socket: a 4 KiB ring, a reader that parses every length-prefixed record
// and checks per-producer order, and producers in every watchdog.Mode
// (Write, and WriteContext for park.Room). Progress is what the reader got.
// Every wait policy runs: the default (a linger) with 1, 2, 3 and 8
// producers, park and spin with 1 and 3.
func TestWatchdog(t *testing.T) {
	for _, c := range watchdog.LingerDefaultCases() {
		for _, mode := range watchdog.Modes {
			t.Run(fmt.Sprintf("%s/producers=%d/%v", c.Name, c.Producers, mode), func(t *testing.T) {
				producers := c.Producers
				path := sockPath(t)
				ln, err := netListenUnix(path)
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				order := watchdog.NewOrder(producers)
				var got atomic.Uint64
				readerDone := make(chan error, 1)
				go func() {
					c, err := ln.Accept()
					if err != nil {
						readerDone <- err
						return
					}
					defer c.Close()
					var hdr [4]byte
					rec := make([]byte, 256)
					for {
						if _, err := io.ReadFull(c, hdr[:]); err != nil {
							readerDone <- nil // the Writer closed the connection
							return
						}
						n := binary.BigEndian.Uint32(hdr[:])
						if n > uint32(len(rec)) {
							readerDone <- fmt.Errorf("frame of %d bytes", n)
							return
						}
						if _, err := io.ReadFull(c, rec[:n]); err != nil {
							readerDone <- err
							return
						}
						p, seq, err := watchdog.ParseRecord(rec[:n])
						if err != nil {
							readerDone <- err
							return
						}
						order.See(p, seq)
						got.Add(1)
					}
				}()
				w := mustOpen(t, Config{Path: path, Framing: LengthPrefix, RingBytes: 4096, ErrorOnDrop: true, Wait: c.Policy})
				bufs := watchdog.Buffers(producers)
				watchdog.Stress{
					Producers: producers, Mode: mode, Order: order,
					Push: func(ctx context.Context, p int, seq uint64) bool {
						b := watchdog.Record(bufs[p], p, seq)
						if mode == watchdog.Blocking {
							_, err := w.WriteContext(ctx, b)
							return err == nil
						}
						_, err := w.Write(b) // ErrorOnDrop: ErrFull when dropped
						return err == nil
					},
					// Credit: push again as soon as the consumer released the
					// last record (the reader acknowledges much later).
					Taken:    func() bool { return w.Stats().Pending == 0 },
					Consumed: got.Load,
					Pending:  func() bool { st := w.Stats(); return st.Pending+st.Buffered > 0 },
					Wake:     w.ring.Wake,
					Diag: func() string {
						st := w.Stats()
						return fmt.Sprintf("pending %d, buffered %d, written %d, connected %v",
							st.Pending, st.Buffered, st.Written, st.Connected)
					},
				}.Run(t)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if err := <-readerDone; err != nil {
					t.Fatal(err)
				}
				if st := w.Stats(); st.Written != got.Load() || st.Evicted != 0 {
					t.Fatalf("written %d, evicted %d; the reader got %d", st.Written, st.Evicted, got.Load())
				}
			})
		}
	}
}
