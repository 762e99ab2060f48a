//go:build amd64 && !race && !ringsink_portable

#include "textflag.h"

// func storeRel(addr *uint64, v uint64)
// A plain MOV: on amd64 stores are not reordered with earlier stores, and the
// call itself is a compiler barrier, so this is a release store.
TEXT ·storeRel(SB), NOSPLIT, $0-16
	MOVQ addr+0(FP), AX
	MOVQ v+8(FP), BX
	MOVQ BX, (AX)
	RET

// func Fence()
// A locked read-modify-write of the caller's stack slot: a full barrier (the
// store buffer drains before any later load), cheaper than MFENCE, and on a
// line no other core touches.
TEXT ·Fence(SB), NOSPLIT, $0-0
	LOCK
	ORQ $0, 0(SP)
	RET
