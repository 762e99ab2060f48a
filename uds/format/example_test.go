package format_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/ringsink/ringsink/uds/format"
)

// The consumer renders one stamp per batch and a header per record; the
// body is the record less its <PRI> prefix and trailing newline.
func ExampleRFC3164() {
	f, err := format.RFC3164(format.User|format.Info, format.Options{AppName: "api", ProcID: "42"})
	if err != nil {
		panic(err)
	}
	stamp := f.AppendStamp(nil, time.Date(2026, 11, 29, 19, 1, 6, 0, time.Local))
	for _, rec := range []string{"listening on :8080\n", "<3>disk full"} {
		hdr, body, trailer := f.Frame(nil, []byte(rec), stamp)
		fmt.Printf("%s%s%s\n", hdr, body, trailer)
	}
	// Output:
	// <14>Nov 29 19:01:06 api[42]: listening on :8080
	// <11>Nov 29 19:01:06 api[42]: disk full
}

// RFC 5424 stamps in UTC to the microsecond; LevelField takes the severity
// from a slog line.
func ExampleRFC5424() {
	f, err := format.RFC5424(format.Local0|format.Info, format.Options{
		Hostname: "web1", AppName: "api", ProcID: "42", Level: format.LevelField,
	})
	if err != nil {
		panic(err)
	}
	stamp := f.AppendStamp(nil, time.Date(2026, 11, 29, 19, 1, 6, 250000000, time.UTC))
	hdr, body, _ := f.Frame(nil, []byte("time=2026-11-29T19:01:06Z level=WARN msg=slow\n"), stamp)
	fmt.Printf("%s%s\n", hdr, body)
	// Output:
	// <132>1 2026-11-29T19:01:06.250000Z web1 api 42 - - time=2026-11-29T19:01:06Z level=WARN msg=slow
}

// journald's native protocol: KEY=value fields, then MESSAGE in the
// binary-safe form (length, bytes, newline), so a record may hold newlines.
func ExampleJournald() {
	j, err := format.Journald(format.User|format.Info, format.Options{AppName: "api", ProcID: "42"})
	if err != nil {
		panic(err)
	}
	hdr, body, trailer := j.Frame(nil, []byte("<4>retrying\nattempt 2\n"), j.AppendStamp(nil, time.Now()))
	msg := append(append(hdr, body...), trailer...)
	fmt.Printf("%q\n", bytes.ReplaceAll(msg, []byte{byte(len(body)), 0, 0, 0, 0, 0, 0, 0}, []byte("<le64 len>")))
	// Output:
	// "PRIORITY=4\nSYSLOG_FACILITY=1\nSYSLOG_IDENTIFIER=api\nSYSLOG_PID=42\nMESSAGE\n<le64 len>retrying\nattempt 2\n"
}

func ExampleLevelField() {
	for _, line := range []string{
		`{"time":"2026-11-29T19:01:06Z","level":"ERROR","msg":"x"}`, // slog JSON
		`{"level":"warn","ts":1796065266.1,"msg":"x"}`,              // zap
		`time=2026-11-29T19:01:06Z level=INFO+2 msg=x`,              // slog text, a custom level
	} {
		sev, ok := format.LevelField([]byte(line))
		fmt.Println(sev, ok)
	}
	// Output:
	// 3 true
	// 4 true
	// 5 true
}
