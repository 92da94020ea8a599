package transcribe

// dotGeneric returns the dot product of x[:len(h)] and h. It is the portable
// kernel of the resampler's FIR filters; dot uses a vector kernel instead
// where the CPU has one.
func dotGeneric(x, h []float32) float32 {
	x = x[:len(h)]
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+4 <= len(h); i += 4 {
		a0 += x[i] * h[i]
		a1 += x[i+1] * h[i+1]
		a2 += x[i+2] * h[i+2]
		a3 += x[i+3] * h[i+3]
	}
	for ; i < len(h); i++ {
		a0 += x[i] * h[i]
	}
	return (a0 + a1) + (a2 + a3)
}

// firGeneric computes len(out) outputs of a polyphase FIR stage: output j is
// the dot product of buf[i-k+1 : i+1] and coef[p*k : p*k+k], after which i
// advances by di and p by dp, carrying into i when p reaches l.
func firGeneric(out, buf, coef []float32, k, l, i, p, di, dp int) {
	for j := range out {
		out[j] = dotGeneric(buf[i-k+1:i+1], coef[p*k:p*k+k])
		i += di
		p += dp
		if p >= l {
			p -= l
			i++
		}
	}
}
