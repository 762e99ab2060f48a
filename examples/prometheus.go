package examples

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringsink/ringsink/sink"
	"github.com/ringsink/ringsink/uds"
)

// WriterCollector exports a uds.Writer's Stats as Prometheus metrics. It
// reads Stats only when scraped; counters keep the Writer's monotonic
// values and are named with _total, gauges are the current state.
type WriterCollector struct {
	w                                                                     *uds.Writer
	written, writtenBytes, dropped, stalls, connects, dialErrs, writeErrs *prometheus.Desc
	buffered, pending, connected                                          *prometheus.Desc
	refused                                                               *prometheus.Desc
}

// severityNames label Stats.DroppedBySeverity, indexed by syslog severity
// (format.Emerg 0 to format.Debug 7), with syslog's keywords.
var severityNames = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// NewWriterCollector returns a collector for w; labels are added to every
// metric (for example the daemon's name).
func NewWriterCollector(w *uds.Writer, labels prometheus.Labels) *WriterCollector {
	d := func(name, help string, vars ...string) *prometheus.Desc {
		return prometheus.NewDesc("ringsink_uds_"+name, help, vars, labels)
	}
	return &WriterCollector{
		w:            w,
		written:      d("written_records_total", "Records the kernel took whole."),
		writtenBytes: d("written_bytes_total", "Bytes handed to the kernel, framing included."),
		dropped:      d("dropped_records_total", "Records dropped, by reason.", "reason"),
		refused:      d("refused_records_total", "Records Write refused for want of room (reason=\"full\"), by syslog severity: below the threshold at the reserve, at or above it only with the ring full.", "severity"),
		stalls:       d("stalls_total", "Waits that expired on a daemon not reading (connection kept)."),
		connects:     d("connects_total", "Successful connections."),
		dialErrs:     d("dial_errors_total", "Failed connection attempts."),
		writeErrs:    d("write_errors_total", "Writes that failed and closed the connection."),
		buffered:     d("buffered_records", "Records in the offline ring."),
		pending:      d("pending_records", "Records in the byte ring, not yet sent or buffered."),
		connected:    d("connected", "1 while connected to the daemon."),
	}
}

// Describe implements prometheus.Collector.
func (c *WriterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.written, c.writtenBytes, c.dropped, c.refused, c.stalls, c.connects,
		c.dialErrs, c.writeErrs, c.buffered, c.pending, c.connected} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *WriterCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.w.Stats()
	counter, gauge := emitters(ch)
	counter(c.written, st.Written)
	counter(c.writtenBytes, st.WrittenBytes)
	counter(c.dropped, st.DroppedFull, "full")
	counter(c.dropped, st.DroppedTooLarge, "too_large")
	counter(c.dropped, st.DroppedNewline, "newline")
	counter(c.dropped, st.DroppedUnsendable, "unsendable")
	counter(c.dropped, st.DroppedClosed, "closed")
	counter(c.dropped, st.Evicted, "evicted")
	for sev, n := range st.DroppedBySeverity {
		counter(c.refused, n, severityNames[sev])
	}
	counter(c.stalls, st.Stalls)
	counter(c.connects, st.Connects)
	counter(c.dialErrs, st.DialErrors)
	counter(c.writeErrs, st.WriteErrors)
	gauge(c.buffered, st.Buffered)
	gauge(c.pending, st.Pending)
	connected := uint64(0)
	if st.Connected {
		connected = 1
	}
	gauge(c.connected, connected)
}

// SinkCollector exports a sink.Sink's Stats the same way.
type SinkCollector[T any] struct {
	s                                 *sink.Sink[T]
	pushed, delivered, failed, errors *prometheus.Desc
	dropped, pending                  *prometheus.Desc
}

// NewSinkCollector returns a collector for s.
func NewSinkCollector[T any](s *sink.Sink[T], labels prometheus.Labels) *SinkCollector[T] {
	d := func(name, help string, vars ...string) *prometheus.Desc {
		return prometheus.NewDesc("ringsink_sink_"+name, help, vars, labels)
	}
	return &SinkCollector[T]{
		s:         s,
		pushed:    d("pushed_messages_total", "Messages accepted into the queue."),
		delivered: d("delivered_messages_total", "Messages in batches the drain wrote."),
		failed:    d("failed_messages_total", "Messages in batches the drain failed."),
		errors:    d("errors_total", "Drain errors, by kind.", "kind"),
		dropped:   d("refused_messages_total", "TryPush refusals, by reason.", "reason"),
		pending:   d("pending_messages", "Messages queued or being written."),
	}
}

// Describe implements prometheus.Collector.
func (c *SinkCollector[T]) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pushed, c.delivered, c.failed, c.errors, c.dropped, c.pending} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *SinkCollector[T]) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	counter, gauge := emitters(ch)
	counter(c.pushed, st.Pushed)
	counter(c.delivered, st.Delivered)
	counter(c.failed, st.Failed)
	counter(c.errors, st.WriteErrors, "write")
	counter(c.errors, st.SyncErrors, "sync")
	counter(c.errors, st.Panics, "panic")
	counter(c.dropped, st.Dropped, "full")
	gauge(c.pending, st.Pending)
}

// emitters returns functions that send a counter or a gauge to ch.
func emitters(ch chan<- prometheus.Metric) (counter, gauge func(d *prometheus.Desc, v uint64, labels ...string)) {
	emit := func(t prometheus.ValueType) func(*prometheus.Desc, uint64, ...string) {
		return func(d *prometheus.Desc, v uint64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, t, float64(v), labels...)
		}
	}
	return emit(prometheus.CounterValue), emit(prometheus.GaugeValue)
}
