// Package testhook holds hooks that tests set to stop the library at a
// chosen point, such as a producer in the middle of its copy, so that a
// test can kill the process there. Every hook is nil outside tests, and
// the code that calls one checks for nil first.
package testhook

// MidCopy, if set, is called by a producer of a durable ring (mpsc) after it
// has claimed its record, stored the claim word and copied half of the
// payload, with the record's sequence number and payload.
var MidCopy func(seq uint32, p []byte)
