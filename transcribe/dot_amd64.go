//go:build amd64 && !purego

package transcribe

import "golang.org/x/sys/cpu"

// haveFMA reports whether the CPU has AVX2 and FMA3, which the vector
// kernels need. It is set once when the program starts and never changes.
var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// dotFMA returns the dot product of x[:len(h)] and h using AVX2 and FMA3.
// The caller guarantees len(x) >= len(h).
//
//go:noescape
func dotFMA(x, h []float32) float32

// firFMA is firGeneric with AVX2 and FMA3; k must be a multiple of 8.
//
//go:noescape
func firFMA(out, buf, coef []float32, k, l, i, p, di, dp int)

// dot returns the dot product of x[:len(h)] and h.
func dot(x, h []float32) float32 {
	if haveFMA {
		return dotFMA(x[:len(h)], h)
	}
	return dotGeneric(x, h)
}

// fir computes len(out) outputs of a polyphase FIR stage; see firGeneric.
func fir(out, buf, coef []float32, k, l, i, p, di, dp int) {
	if haveFMA && k%8 == 0 {
		// Check the bounds firGeneric would check, once.
		n := len(out)
		if n == 0 {
			return
		}
		last := i + (n-1)*di + (p+(n-1)*dp)/l
		_ = buf[i-k+1 : last+1]
		_ = coef[: l*k : l*k]
		firFMA(out, buf, coef, k, l, i, p, di, dp)
		return
	}
	firGeneric(out, buf, coef, k, l, i, p, di, dp)
}
