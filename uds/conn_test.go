package uds

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"
)

// TestConnWriteRecordsFramings sends the same records with each framing and
// checks the bytes on the wire and the count of complete records.
func TestConnWriteRecordsFramings(t *testing.T) {
	recs := [][]byte{[]byte("alpha"), {}, bytes.Repeat([]byte("b"), 3000), []byte("z")}
	for _, tc := range []struct {
		framing Framing
		want    []byte
	}{
		{Raw, []byte("alpha" + string(recs[2]) + "z")},
		{Newline, []byte("alpha\n\n" + string(recs[2]) + "\nz\n")},
		{LengthPrefix, append(append(append(append([]byte{0, 0, 0, 5}, "alpha"...), 0, 0, 0, 0, 0, 0, 0x0b, 0xb8), recs[2]...), append([]byte{0, 0, 0, 1}, 'z')...)},
	} {
		t.Run(tc.framing.String(), func(t *testing.T) {
			path := sockPath(t)
			got := readOne(listen(t, path))
			c, err := dialConn(context.Background(), path, tc.framing, time.Second, 0)
			if err != nil {
				t.Fatal(err)
			}
			n, err := c.WriteRecords(recs)
			if err != nil || n != len(recs) {
				t.Fatalf("WriteRecords = %d, %v; want %d, nil", n, err, len(recs))
			}
			if c.Sends() == 0 {
				t.Fatal("no writev counted")
			}
			c.Close()
			if b := <-got; !bytes.Equal(b, tc.want) {
				t.Fatalf("wire bytes %q; want %q", b, tc.want)
			}
		})
	}
}

// TestConnCountsOnlyCompleteRecords: the peer reads part of the stream and
// closes; WriteRecords fails and reports only the records written whole.
func TestConnCountsOnlyCompleteRecords(t *testing.T) {
	path := sockPath(t)
	ln := listen(t, path)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.ReadFull(c, make([]byte, 150_000)) // the first record and a half
		c.Close()
	}()
	c, err := dialConn(context.Background(), path, Raw, 5*time.Second, 32<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recs := make([][]byte, 8)
	for i := range recs {
		recs[i] = bytes.Repeat([]byte{byte('0' + i)}, 100_000)
	}
	n, err := c.WriteRecords(recs)
	if err == nil {
		t.Fatal("WriteRecords succeeded although the peer closed")
	}
	if n < 1 || n >= len(recs) {
		t.Fatalf("complete records = %d; want at least the one read whole and not all 8", n)
	}
}

func TestDialMissingSocket(t *testing.T) {
	if _, err := dialConn(context.Background(), sockPath(t), Raw, 0, 0); err == nil {
		t.Fatal("Dial to a missing socket succeeded")
	}
}
