package examples_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ringsink/ringsink/examples"
	"github.com/ringsink/ringsink/sink"
	"github.com/ringsink/ringsink/uds"
)

// A Writer's and a Sink's counters scraped by Prometheus.
func Example_prometheus() {
	dir, _ := os.MkdirTemp("", "prom-example")
	defer os.RemoveAll(dir)
	w, _ := uds.Open(uds.Config{Path: filepath.Join(dir, "absent.sock"), CloseTimeout: time.Millisecond})
	w.Write([]byte("buffered while the daemon is away"))
	w.Write(make([]byte, 1<<20)) // too large: refused and counted

	s := sink.New[int](sink.DrainFunc[int](func(context.Context, []int) error { return nil }), sink.Config{})
	_ = s.TryPush(1)
	_ = s.Flush(context.Background())

	reg := prometheus.NewRegistry()
	reg.MustRegister(examples.NewWriterCollector(w, prometheus.Labels{"daemon": "syslog"}))
	reg.MustRegister(examples.NewSinkCollector(s, prometheus.Labels{"sink": "audit"}))

	_ = s.Close()
	_ = w.Close()
	exposition := `
# HELP ringsink_uds_dropped_records_total Records dropped, by reason.
# TYPE ringsink_uds_dropped_records_total counter
ringsink_uds_dropped_records_total{daemon="syslog",reason="closed"} 0
ringsink_uds_dropped_records_total{daemon="syslog",reason="evicted"} 0
ringsink_uds_dropped_records_total{daemon="syslog",reason="full"} 0
ringsink_uds_dropped_records_total{daemon="syslog",reason="newline"} 0
ringsink_uds_dropped_records_total{daemon="syslog",reason="too_large"} 1
ringsink_uds_dropped_records_total{daemon="syslog",reason="unsendable"} 0
# HELP ringsink_uds_refused_records_total Records Write refused for want of room (reason="full"), by syslog severity: below the threshold at the reserve, at or above it only with the ring full.
# TYPE ringsink_uds_refused_records_total counter
ringsink_uds_refused_records_total{daemon="syslog",severity="alert"} 0
ringsink_uds_refused_records_total{daemon="syslog",severity="crit"} 0
ringsink_uds_refused_records_total{daemon="syslog",severity="debug"} 0
ringsink_uds_refused_records_total{daemon="syslog",severity="emerg"} 0
ringsink_uds_refused_records_total{daemon="syslog",severity="err"} 0
ringsink_uds_refused_records_total{daemon="syslog",severity="info"} 0
ringsink_uds_refused_records_total{daemon="syslog",severity="notice"} 0
ringsink_uds_refused_records_total{daemon="syslog",severity="warning"} 0
# HELP ringsink_uds_buffered_records Records in the offline ring.
# TYPE ringsink_uds_buffered_records gauge
ringsink_uds_buffered_records{daemon="syslog"} 1
# HELP ringsink_sink_delivered_messages_total Messages in batches the drain wrote.
# TYPE ringsink_sink_delivered_messages_total counter
ringsink_sink_delivered_messages_total{sink="audit"} 1
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(exposition),
		"ringsink_uds_dropped_records_total", "ringsink_uds_refused_records_total", "ringsink_uds_buffered_records", "ringsink_sink_delivered_messages_total")
	fmt.Println(err)
	n, _ := testutil.GatherAndCount(reg)
	fmt.Println(n, "metrics")
	// Output:
	// <nil>
	// 31 metrics
}
