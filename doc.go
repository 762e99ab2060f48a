// Package ringsink is the landing page of the ringsink module: non-blocking
// record pipelines for latency-sensitive Go services. A producer on a hot
// path hands a record over with no lock, syscall or allocation, and one
// background goroutine delivers it. This package holds
// no code; the packages are:
//
//   - [github.com/ringsink/ringsink/uds]: Writer, a non-blocking io.Writer
//     that delivers records to a local daemon over a Unix socket: writev
//     batches on a stream socket, one datagram per record in sendmmsg
//     batches on a datagram or seqpacket socket (/dev/log, journald); an
//     offline ring while the daemon is away, reconnect, Flush, Close and
//     Shutdown. Its subpackage format renders syslog and journald headers.
//   - [github.com/ringsink/ringsink/sink]: Sink, a generic background sink
//     that batches typed records into any Drain, with flush barriers, and
//     Close and Shutdown as net/http.Server has them.
//   - [github.com/ringsink/ringsink/mpsc]: bounded lock-free rings for many
//     producers and one consumer (Ring, and ByteRing for variable-length
//     byte records read in place), with a consumer that parks for free.
//   - [github.com/ringsink/ringsink/spsc]: a bounded lock-free ring for one
//     producer and one consumer, with batch push and pop.
//   - [github.com/ringsink/ringsink/offline]: a bounded FIFO that evicts its
//     oldest entry when full.
//   - [github.com/ringsink/ringsink/wait]: how a consumer waits when it
//     finds nothing to read (park, linger or spin), one choice that every
//     ring, sink and uds.Writer takes.
//
// Linux (amd64, arm64) is the first-class platform. The module builds on
// darwin, the BSDs and Windows; uds uses writev where the platform is Unix,
// and a portable vectored write (net.Buffers) elsewhere. Go 1.25 and later.
// Licensed under the Apache License 2.0.
package ringsink
