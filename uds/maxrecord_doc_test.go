//go:build unix

package uds

import (
	"testing"

	"github.com/ringsink/ringsink/uds/format"
)

// TestMaxRecordDefaultIsAsDocumented: Config.MaxRecord defaults to, and
// is capped at, RingBytes/2 - 8, and 3 bytes less with a Format of package
// format (which reads WriteSeverity's "<N>" prefix). Its doc said
// RingBytes/2 - 8 whatever the Format.
func TestMaxRecordDefaultIsAsDocumented(t *testing.T) {
	f, err := format.RFC3164(format.User|format.Info, format.Options{AppName: "mr"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    format.Format
		want int
	}{{"no Format", nil, 4096/2 - 8}, {"RFC3164", f, 4096/2 - 8 - 3}} {
		for _, set := range []int{0, 4096} {
			w := mustOpen(t, Config{Path: sockPath(t), RingBytes: 4096, Format: c.f, MaxRecord: set})
			if got := w.MaxRecord(); got != c.want {
				t.Errorf("%s, Config.MaxRecord %d: MaxRecord %d; want %d", c.name, set, got, c.want)
			}
			w.Close()
		}
	}
}
