//go:build linux

package uds

import (
	"context"
	"testing"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

func TestWriteRecordsAllocatesNothingWithEveryFormat(t *testing.T) {
	r3, _ := format.RFC3164(format.User|format.Info, format.Options{AppName: "a", Level: format.LevelField})
	j, _ := format.Journald(format.User|format.Info, format.Options{AppName: "a", Fields: []string{"X=y\nz"}, Level: format.LevelField})
	recs := make([][]byte, 200)
	for i := range recs {
		recs[i] = []byte(`{"time":"2024","level":"WARN+2","msg":"hello"}` + "\n")
		if i%2 == 0 {
			recs[i] = []byte("time=2024 level=ERROR msg=x")
		}
	}
	for name, f := range map[string]format.Format{"3164": r3, "journald": j} {
		for _, mm := range []bool{true, false} {
			path := sockPath(t)
			discardDatagrams(t, path)
			c, err := dialConn(context.Background(), path, Raw, 5*time.Second, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			c.SetFormat(f)
			c.noMmsg = !mm
			c.WriteRecords(recs)
			a := testing.AllocsPerRun(20, func() {
				if n, err := c.WriteRecords(recs); err != nil || n != len(recs) {
					t.Fatal(n, err)
				}
			})
			if a != 0 {
				t.Errorf("%s sendmmsg=%v: %v allocs", name, mm, a)
			}
			c.Close()
		}
	}
	if a := testing.AllocsPerRun(100, func() { format.LevelField(recs[1]); format.LevelField(recs[0]) }); a != 0 {
		t.Errorf("LevelField: %v", a)
	}
}
