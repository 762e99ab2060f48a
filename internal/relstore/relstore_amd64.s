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

// func store2(a *uint64, va uint64, b *uint64, vb uint64)
// Two plain MOVs, in program order (TSO keeps them in that order).
TEXT ·store2(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), AX
	MOVQ va+8(FP), BX
	MOVQ b+16(FP), CX
	MOVQ vb+24(FP), DX
	MOVQ BX, (AX)
	MOVQ DX, (CX)
	RET

// func storeRun(first *uint64, stride, n int, v, step uint64)
// n plain MOVs of v, v+step, ... at first, first+stride, ..., in order.
TEXT ·storeRun(SB), NOSPLIT, $0-40
	MOVQ first+0(FP), AX
	MOVQ stride+8(FP), BX
	MOVQ n+16(FP), CX
	MOVQ v+24(FP), DX
	MOVQ step+32(FP), SI
	TESTQ CX, CX
	JLE done
loop:
	MOVQ DX, (AX)
	ADDQ BX, AX
	ADDQ SI, DX
	DECQ CX
	JNZ loop
done:
	RET
