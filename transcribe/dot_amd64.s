//go:build amd64 && !purego

#include "textflag.h"

// func dotFMA(x, h []float32) float32
//
// Four 8-lane accumulators hide the FMA latency; the tail is done one lane
// at a time. Only len(h) elements of x are read.
TEXT ·dotFMA(SB), NOSPLIT, $0-52
	MOVQ x_base+0(FP), SI
	MOVQ h_base+24(FP), DI
	MOVQ h_len+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

loop32:
	CMPQ CX, $32
	JLT  loop8
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         loop32

loop8:
	CMPQ CX, $8
	JLT  reduce
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         loop8

reduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0

tail:
	CMPQ        CX, $0
	JEQ         done
	VMOVSS      (SI), X4
	VFMADD231SS (DI), X4, X0
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         tail

done:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func firFMA(out, buf, coef []float32, k, l, i, p, di, dp int)
//
// firFMA computes len(out) outputs of a polyphase FIR stage: output j is the
// dot product of buf[i-k+1 : i+1] and coef[p*k : p*k+k], after which i
// advances by di and p by dp, carrying into i when p reaches l. The caller
// guarantees that every window is inside buf and that k is a multiple of 8.
TEXT ·firFMA(SB), NOSPLIT, $0-120
	MOVQ out_base+0(FP), R8
	MOVQ out_len+8(FP), R9
	MOVQ buf_base+24(FP), R10
	MOVQ coef_base+48(FP), R11
	MOVQ k+72(FP), R12
	MOVQ l+80(FP), R13
	MOVQ i+88(FP), AX
	SUBQ R12, AX
	INCQ AX
	SHLQ $2, AX
	ADDQ AX, R10             // R10 = &buf[i-k+1]
	SHLQ $2, R12             // R12 = bytes per phase
	MOVQ p+96(FP), AX        // AX = phase
	MOVQ di+104(FP), BX
	SHLQ $2, BX              // BX = bytes to advance per output
	MOVQ dp+112(FP), DX
	TESTQ R9, R9
	JEQ  firdone

firout:
	MOVQ  R10, SI
	MOVQ  AX, DI
	IMULQ R12, DI
	ADDQ  R11, DI
	MOVQ  R12, CX
	SHRQ  $2, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

fir32:
	CMPQ CX, $32
	JLT  fir8
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         fir32

fir8:
	CMPQ CX, $0
	JEQ  firreduce
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         fir8

firreduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	MOVSS        X0, (R8)
	ADDQ         $4, R8

	ADDQ BX, R10
	ADDQ DX, AX
	CMPQ AX, R13
	JLT  firnext
	SUBQ R13, AX
	ADDQ $4, R10

firnext:
	DECQ R9
	JNE  firout

firdone:
	VZEROUPPER
	RET
