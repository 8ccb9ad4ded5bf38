//go:build amd64 && !openblas && !purego

#include "textflag.h"

// The axpy panels of gemm_amd64.go. Each keeps a panel of a row of c in
// registers (Y0-Y7, Y0-Y3 or Y0) and, for l = 0..k-1, unless a[l·astep]
// is ±0, adds b[l,:]·a[l·astep] to it: the product b·a first, then the
// sum (b·a) + c, with the operands in the order gonum's AxpyUnitary uses
// (MULPS, then ADDPS of c into the product), so the bits are its bits.

// func axpyPanel64(c, b *float32, ldb int, a *float32, astep, k int)
TEXT ·axpyPanel64(SB), NOSPLIT, $0-48
	MOVQ c+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), DX
	SHLQ $2, DX
	MOVQ a+24(FP), AX
	MOVQ astep+32(FP), BX
	SHLQ $2, BX
	MOVQ k+40(FP), CX
	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS 128(DI), Y4
	VMOVUPS 160(DI), Y5
	VMOVUPS 192(DI), Y6
	VMOVUPS 224(DI), Y7
	VXORPS X12, X12, X12 // X12 = 0
	TESTQ CX, CX
	JLE store
loop:
	VMOVSS (AX), X8
	VUCOMISS X12, X8
	JNE term // a != 0
	JPS term // a is NaN
	JMP next // a == ±0: no update, as gonum
term:
	VBROADCASTSS (AX), Y8
	VMOVUPS 0(SI), Y9
	VMULPS Y8, Y9, Y9 // b·a
	VADDPS Y0, Y9, Y0 // (b·a) + c
	VMOVUPS 32(SI), Y10
	VMULPS Y8, Y10, Y10 // b·a
	VADDPS Y1, Y10, Y1 // (b·a) + c
	VMOVUPS 64(SI), Y11
	VMULPS Y8, Y11, Y11 // b·a
	VADDPS Y2, Y11, Y2 // (b·a) + c
	VMOVUPS 96(SI), Y9
	VMULPS Y8, Y9, Y9 // b·a
	VADDPS Y3, Y9, Y3 // (b·a) + c
	VMOVUPS 128(SI), Y10
	VMULPS Y8, Y10, Y10 // b·a
	VADDPS Y4, Y10, Y4 // (b·a) + c
	VMOVUPS 160(SI), Y11
	VMULPS Y8, Y11, Y11 // b·a
	VADDPS Y5, Y11, Y5 // (b·a) + c
	VMOVUPS 192(SI), Y9
	VMULPS Y8, Y9, Y9 // b·a
	VADDPS Y6, Y9, Y6 // (b·a) + c
	VMOVUPS 224(SI), Y10
	VMULPS Y8, Y10, Y10 // b·a
	VADDPS Y7, Y10, Y7 // (b·a) + c
next:
	ADDQ BX, AX
	ADDQ DX, SI
	DECQ CX
	JNZ loop
store:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	VZEROUPPER
	RET

// func axpyPanel32(c, b *float32, ldb int, a *float32, astep, k int)
TEXT ·axpyPanel32(SB), NOSPLIT, $0-48
	MOVQ c+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), DX
	SHLQ $2, DX
	MOVQ a+24(FP), AX
	MOVQ astep+32(FP), BX
	SHLQ $2, BX
	MOVQ k+40(FP), CX
	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VXORPS X12, X12, X12 // X12 = 0
	TESTQ CX, CX
	JLE store
loop:
	VMOVSS (AX), X8
	VUCOMISS X12, X8
	JNE term // a != 0
	JPS term // a is NaN
	JMP next // a == ±0: no update, as gonum
term:
	VBROADCASTSS (AX), Y8
	VMOVUPS 0(SI), Y9
	VMULPS Y8, Y9, Y9 // b·a
	VADDPS Y0, Y9, Y0 // (b·a) + c
	VMOVUPS 32(SI), Y10
	VMULPS Y8, Y10, Y10 // b·a
	VADDPS Y1, Y10, Y1 // (b·a) + c
	VMOVUPS 64(SI), Y11
	VMULPS Y8, Y11, Y11 // b·a
	VADDPS Y2, Y11, Y2 // (b·a) + c
	VMOVUPS 96(SI), Y9
	VMULPS Y8, Y9, Y9 // b·a
	VADDPS Y3, Y9, Y3 // (b·a) + c
next:
	ADDQ BX, AX
	ADDQ DX, SI
	DECQ CX
	JNZ loop
store:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VZEROUPPER
	RET

// func axpyPanel8(c, b *float32, ldb int, a *float32, astep, k int)
TEXT ·axpyPanel8(SB), NOSPLIT, $0-48
	MOVQ c+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), DX
	SHLQ $2, DX
	MOVQ a+24(FP), AX
	MOVQ astep+32(FP), BX
	SHLQ $2, BX
	MOVQ k+40(FP), CX
	VMOVUPS 0(DI), Y0
	VXORPS X12, X12, X12 // X12 = 0
	TESTQ CX, CX
	JLE store
loop:
	VMOVSS (AX), X8
	VUCOMISS X12, X8
	JNE term // a != 0
	JPS term // a is NaN
	JMP next // a == ±0: no update, as gonum
term:
	VBROADCASTSS (AX), Y8
	VMOVUPS 0(SI), Y9
	VMULPS Y8, Y9, Y9 // b·a
	VADDPS Y0, Y9, Y0 // (b·a) + c
next:
	ADDQ BX, AX
	ADDQ DX, SI
	DECQ CX
	JNZ loop
store:
	VMOVUPS Y0, 0(DI)
	VZEROUPPER
	RET
