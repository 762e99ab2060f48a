//go:build unix && !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package uds

// bootID: no boot id known here, so recovery trusts only sealed records.
func bootID() (id [16]byte) { return id }
