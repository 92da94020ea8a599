//go:build !amd64 || purego

package transcribe

// dot returns the dot product of x[:len(h)] and h.
func dot(x, h []float32) float32 { return dotGeneric(x, h) }

// fir computes len(out) outputs of a polyphase FIR stage; see firGeneric.
func fir(out, buf, coef []float32, k, l, i, p, di, dp int) {
	firGeneric(out, buf, coef, k, l, i, p, di, dp)
}
