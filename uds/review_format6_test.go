//go:build unix

package uds

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"
)

// liar appends far more than MaxOverhead: the arena grows mid-batch while
// earlier iovecs point into the old array.
type liar struct{}

func (liar) AppendStamp(dst []byte, _ time.Time) []byte { return dst }
func (liar) Frame(dst, rec, _ []byte) (hdr, body, trailer []byte) {
	dst = append(dst, bytes.Repeat([]byte{'H'}, 500)...)
	dst = fmt.Appendf(dst, "%d:", len(rec))
	return dst, rec, nil
}
func (liar) MaxOverhead() int { return 1 }

func TestReviewLiarFormat(t *testing.T) {
	path := sockPath(t)
	got := readOne(listen(t, path))
	c, err := dialConn(context.Background(), path, LengthPrefix, 5*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.SetFormat(liar{})
	var recs [][]byte
	var want []byte
	for i := 0; i < 3000; i++ {
		r := numbered(i)
		recs = append(recs, r)
		hdr, body, _ := liar{}.Frame(nil, r, nil)
		fr := append(hdr, body...)
		want = append(want, byte(len(fr)>>24), byte(len(fr)>>16), byte(len(fr)>>8), byte(len(fr)))
		want = append(want, fr...)
	}
	if n, err := c.WriteRecords(recs); err != nil || n != len(recs) {
		t.Fatal(n, err)
	}
	c.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatal("differs")
	}
}
