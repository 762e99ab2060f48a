//go:build unix

package uds

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

func TestTornRecordContinuedExactlyEveryFramingAndFormat(t *testing.T) {
	s, _ := format.RFC5424(format.User|format.Info, format.Options{Hostname: "h", AppName: "app", ProcID: "7"})
	j, _ := format.Journald(format.User|format.Info, format.Options{AppName: "app", ProcID: "7"})
	r3, _ := format.RFC3164(format.User|format.Info, format.Options{AppName: "app", ProcID: "7"})
	for fname, inner := range map[string]format.Format{"5424": s, "journald": j, "3164": r3} {
		for _, fr := range []Framing{Raw, Newline, LengthPrefix} {
			t.Run(fname+"/"+fr.String(), func(t *testing.T) {
				recs := make([][]byte, 300)
				for i := range recs {
					recs[i] = []byte(fmt.Sprintf("<%d>rec %04d %s\n", i%192, i, strings.Repeat("x", 900+i%7)))
				}
				tears := 0
				for try := 0; try < 30 && tears < 5; try++ {
					path := sockPath(t)
					ln := listen(t, path)
					accepted := make(chan *netUnixConn, 1)
					go func() {
						c, _ := ln.AcceptUnix()
						accepted <- c
					}()
					c, err := dialConn(context.Background(), path, fr, 20*time.Millisecond, 4096)
					if err != nil {
						t.Fatal(err)
					}
					f := &fixedStamp{Format: inner, count: true}
					c.SetFormat(f)
					peer := <-accepted
					n, err := c.writeFrom(recs, 0)
					if !errors.Is(err, os.ErrDeadlineExceeded) {
						t.Fatal(n, err)
					}
					if c.off == 0 {
						c.Close()
						peer.Close()
						continue
					}
					tears++
					got := make(chan []byte, 1)
					go func() {
						var b bytes.Buffer
						b.ReadFrom(peer)
						got <- b.Bytes()
					}()
					c.timeout = 10 * time.Second
					if m, err := c.writeFrom(recs[n:], c.off); err != nil || m != len(recs)-n {
						t.Fatal(m, err)
					}
					c.Close()
					var want []byte
					for _, r := range recs {
						fb := framed(f, r, []byte("T0001"))
						switch fr {
						case LengthPrefix:
							want = binary.BigEndian.AppendUint32(want, uint32(len(fb)))
							want = append(want, fb...)
						case Newline:
							want = append(want, fb...)
							if fb[len(fb)-1] != '\n' {
								want = append(want, '\n')
							}
						default:
							want = append(want, fb...)
						}
					}
					b := <-got
					peer.Close()
					if !bytes.Equal(b, want) {
						i := 0
						for i < min(len(b), len(want)) && b[i] == want[i] {
							i++
						}
						t.Fatalf("differs at %d (torn record %d, off %d)", i, n, c.off)
					}
				}
				if tears == 0 {
					t.Skip("no tear")
				}
			})
		}
	}
}
