package uds

import (
	"strconv"
	"sync"

	"github.com/ringsink/ringsink/uds/format"
)

// STAND-IN, deleted at merge: the branch `sev` implements WriteSeverity in
// writer.go with severity-aware admission. This one only lets the Handler
// build and its tests run: it prefixes "<sev>" and calls Write.

var standinBufs = sync.Pool{New: func() any { return new([]byte) }}

// WriteSeverity writes p as one record of severity sev (format.Emerg to
// format.Debug). Stand-in: "<sev>"+p through Write.
func (w *Writer) WriteSeverity(sev format.Priority, p []byte) (int, error) {
	bp := standinBufs.Get().(*[]byte)
	b := append((*bp)[:0], '<')
	b = strconv.AppendInt(b, int64(sev&7), 10)
	b = append(b, '>')
	b = append(b, p...)
	_, err := w.Write(b)
	*bp = b
	standinBufs.Put(bp)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}
