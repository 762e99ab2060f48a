// Package pad holds the cache-line padding used to keep fields written by
// different goroutines on different cache lines.
package pad

// Line is 128 bytes: two 64-byte lines, because adjacent-line prefetch on
// x86 pulls lines in pairs (the same figure rigtorp's SPSCQueue and the Go
// runtime's sync.Pool use on amd64).
type Line [128]byte
