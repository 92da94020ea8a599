package transcribe

import (
	"math"
	"slices"
)

// Resampling design. Speech recognisers want 16 kHz; recordings arrive at
// 8–192 kHz. The output keeps 0–7 kHz flat and removes everything from the
// output's Nyquist frequency (8 kHz) up by at least resampleAtten dB, so
// nothing above 8 kHz folds back into the speech band.
//
// A rate at least 2.25 times the output's is first halved by cheap ÷2 stages
// whose transition band is wide (48 kHz: 7 → 16 kHz), because only what
// would fold into 0–8 kHz needs removing there. The one sharp filter then
// runs at the lowest rate, where it costs least: 48 kHz → 24 kHz → 16 kHz.
// Every stage is a polyphase FIR filter (Kaiser-windowed sinc) that computes
// only the output samples it keeps, delay-compensated so that output time
// matches input time.
const (
	resampleAtten = 80.0  // stop-band attenuation, dB
	passFraction  = 0.875 // pass band edge as a fraction of the lower Nyquist frequency
)

// firStage is one polyphase resampling stage: up by l, filter, down by m.
type firStage struct {
	l, m   int
	k      int       // taps per phase
	coef   []float32 // l phases of k taps each, every phase reversed
	buf    []float32 // input not yet consumed, including k-1 samples of history
	i, p   int       // next output's newest input sample (index into buf) and phase
	di, dp int       // how far i and p advance per output
	in     int64     // input samples received
	out    int64     // output samples produced
	padded bool
}

// newFIRStage returns a stage that resamples by l/m with a low-pass filter
// whose pass band ends at pass and whose stop band starts at stop, both in
// cycles per input sample.
func newFIRStage(l, m int, pass, stop float64) *firStage {
	// Design at the upsampled rate.
	tw := (stop - pass) / float64(l)
	fc := (pass + stop) / 2 / float64(l)
	n := int(math.Ceil((resampleAtten-7.95)/(2.285*2*math.Pi*tw))) + 1
	if n%2 == 0 {
		n++
	}
	beta := 0.1102 * (resampleAtten - 8.7)
	// Taps per phase, rounded up to a multiple of 8 (the vector kernel's
	// width) with zero taps.
	k := ((n+l-1)/l + 7) &^ 7
	proto := make([]float64, k*l) // zero beyond n
	c := float64(n-1) / 2
	var sum float64
	i0b := besselI0(beta)
	for j := 0; j < n; j++ {
		x := float64(j) - c
		s := 2 * fc
		if x != 0 {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		r := 2*float64(j)/float64(n-1) - 1
		w := besselI0(beta*math.Sqrt(max(0, 1-r*r))) / i0b
		proto[j] = s * w
		sum += proto[j]
	}
	gain := float64(l) / sum // unity gain at DC after zero-stuffing
	st := &firStage{l: l, m: m, k: k, coef: make([]float32, k*l)}
	for p := 0; p < l; p++ {
		for q := 0; q < k; q++ {
			st.coef[p*k+(k-1-q)] = float32(proto[p+q*l] * gain)
		}
	}
	// Output n sits at upsampled time n*m + delay, delay = (n-1)/2, so
	// the filter's delay is compensated.
	delay := (n - 1) / 2
	st.i = delay/l + (k - 1) // k-1 zeros of history precede the input
	st.p = delay % l
	st.di, st.dp = m/l, m%l
	st.buf = make([]float32, k-1, 4096+k)
	return st
}

// process appends in to the stage's input and the outputs that can now be
// computed to out, which it returns. With final set it pads the input with
// silence and produces the remaining outputs: ceil(inputs * l / m) in all.
func (s *firStage) process(in []float32, out []float32, final bool) []float32 {
	s.buf = append(s.buf, in...)
	s.in += int64(len(in))
	want := int64(-1)
	if final {
		want = (s.in*int64(s.l) + int64(s.m) - 1) / int64(s.m)
		if !s.padded {
			s.padded = true
			s.buf = append(s.buf, make([]float32, s.k+s.m/s.l+2)...)
		}
	}
	k, l, di, dp, coef, buf := s.k, s.l, s.di, s.dp, s.coef, s.buf
	i, p := s.i, s.p
	// How many outputs the input allows: output j's newest sample is about
	// i + j*m/l.
	n := 0
	if i < len(buf) {
		n = int((int64(len(buf)-1-i)*int64(l)+int64(l-1-p))/int64(s.m)) + 1
	}
	if want >= 0 {
		n = int(min(int64(n), max(0, want-s.out)))
	}
	start := len(out)
	out = slices.Grow(out, n)[:start+n]
	fir(out[start:], buf, coef, k, l, i, p, di, dp)
	steps := int64(p) + int64(n)*int64(dp)
	i += n*di + int(steps/int64(l))
	p = int(steps % int64(l))
	s.out += int64(n)
	// Keep k-1 samples of history before the next output's window.
	if drop := min(i-(k-1), len(buf)); drop > 0 {
		n := copy(buf, buf[drop:])
		s.buf = buf[:n]
		i -= drop
	}
	s.i, s.p = i, p
	return out
}

// resampler converts a stream of samples from one rate to another through
// a chain of stages. It reuses its buffers: the slice process returns is
// valid until the next call.
type resampler struct {
	stages []*firStage
	bufs   [][]float32
}

// newResampler plans the stages that take in Hz to out Hz.
func newResampler(in, out int) *resampler {
	r := &resampler{}
	if in == out {
		return r
	}
	pass := passFraction * float64(min(in, out)) / 2
	rate := in
	// Halve while the rate stays well above the output's: the ÷2 stage
	// only has to keep what folds into 0..out/2 clean.
	for rate%2 == 0 && float64(rate) >= 2.25*float64(out) {
		stop := float64(rate)/2 - float64(out)/2
		r.stages = append(r.stages, newFIRStage(1, 2, pass/float64(rate), stop/float64(rate)))
		rate /= 2
	}
	if rate != out {
		g := gcd(rate, out)
		l, m := out/g, rate/g
		stop := float64(min(rate, out)) / 2
		r.stages = append(r.stages, newFIRStage(l, m, pass/float64(rate), stop/float64(rate)))
	}
	r.bufs = make([][]float32, len(r.stages))
	return r
}

// process resamples in and returns the output so far; with final set it
// flushes the filters.
func (r *resampler) process(in []float32, final bool) []float32 {
	for j, st := range r.stages {
		r.bufs[j] = st.process(in, r.bufs[j][:0], final)
		in = r.bufs[j]
	}
	return in
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// which the Kaiser window is built from.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 500; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}
