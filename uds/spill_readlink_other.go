//go:build unix && !linux && !darwin && !freebsd && !netbsd && !openbsd

package uds

import "errors"

// readlinkAt: no readlinkat here, so a symbolic link on the way to
// Config.SpillDir is not followed (Open fails).
func readlinkAt(int, string) (string, error) { return "", errors.ErrUnsupported }
