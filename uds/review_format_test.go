//go:build unix

package uds

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// A: conn.WriteRecords (public API) with more than 1024 records, some empty,
// Raw framing and no Format. Empty raw records take no iovec, so fill walks
// past index maxIov-1 of c.flen.
func TestReviewFlenOverflowEmptyRawRecords(t *testing.T) {
	path := sockPath(t)
	got := readOne(listen(t, path))
	c, err := dialConn(context.Background(), path, Raw, 5*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	recs := make([][]byte, 0, 1100)
	for i := 0; i < 1000; i++ {
		recs = append(recs, []byte("x"))
	}
	for i := 0; i < 100; i++ {
		recs = append(recs, nil) // empty records
	}
	recs = append(recs, []byte("y"))
	n, err := c.WriteRecords(recs)
	c.Close()
	if err != nil || n != len(recs) {
		t.Fatalf("WriteRecords = %d, %v; want %d, nil", n, err, len(recs))
	}
	if b := <-got; !bytes.Equal(b, append(bytes.Repeat([]byte("x"), 1000), 'y')) {
		t.Fatalf("got %d bytes", len(b))
	}
}
