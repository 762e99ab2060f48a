//go:build !unix

package uds

import (
	"errors"

	"github.com/ringsink/ringsink/internal/ring"
)

type spill struct{ path string }

func openSpill(string, int) (*spill, *ring.ByteRing, ring.Recovery, error) {
	return nil, nil, ring.Recovery{}, errors.New("uds: Config.SpillDir is supported on Unix only")
}

func (*spill) sync() error { return nil }
func (*spill) close(bool)  {}
func (*spill) gone() bool  { return false }
