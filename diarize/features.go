package diarize

import (
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/dsp/fourier"
)

// The audio the diarizer reads, and the frames it turns it into.
const (
	// SampleRate is the rate of the samples a Diarizer is given.
	SampleRate = 16000
	// frameHop is the step between frames: 10 ms.
	frameHop = 160
	// frameLen is one frame's window: 25 ms.
	frameLen = 400
	// fftLen is the FFT size the window is padded to.
	fftLen = 512
	// melBands is how many mel filters cover 0–8 kHz.
	melBands = 30
	// Dims is how many values describe a frame: 19 cepstral coefficients
	// (c1…c19; c0, the loudness, is kept apart as the frame's energy) and
	// the voice's pitch (log F0, carried across unvoiced frames).
	Dims = ncep + 1
	// ncep is how many cepstral coefficients a frame has.
	ncep = 19
	// pitchFFT is the FFT size of the autocorrelation the pitch is read
	// from: twice the window, so that it does not wrap.
	pitchFFT = 1024
	// minLag and maxLag bound the pitch period: 400 Hz to 80 Hz.
	minLag, maxLag = SampleRate / 400, SampleRate / 80
	// voicedPeak is the least normalised autocorrelation of a voiced frame.
	voicedPeak = 0.35
	// FrameRate is frames per second.
	FrameRate = SampleRate / frameHop
)

// featurizer turns a stream of 16 kHz samples into frames: every 10 ms, the
// log energy of a 25 ms window and its mel-frequency cepstral coefficients
// (MFCC). It keeps the last window's worth of samples and the features:
// 80 bytes a frame, 29 MB an hour.
type featurizer struct {
	fft    *fourier.FFT
	window [frameLen]float64
	mel    [][]float64 // melBands filters over fftLen/2+1 bins
	dct    [][]float64 // Dims × melBands
	buf    []float32   // samples not yet framed, with the previous frame's tail
	prev   float32     // the last sample before buf, for pre-emphasis
	frame  []float64
	coeff  []complex128
	bands  []float64
	pfft   *fourier.FFT
	pframe []float64
	pcoeff []complex128
	acf    []float64

	// The features, one entry a frame.
	energy []float32     // log energy (natural log of the mean square)
	ceps   *featureStore // Dims values a frame; the last, log F0, is filled in by fillPitch
	cur    [Dims]float32
	pitch  []float32 // log F0 of each frame, 0 when unvoiced
}

func newFeaturizer(store *featureStore) *featurizer {
	f := &featurizer{ceps: store, fft: fourier.NewFFT(fftLen), frame: make([]float64, fftLen),
		coeff: make([]complex128, fftLen/2+1), bands: make([]float64, melBands),
		pfft: fourier.NewFFT(pitchFFT), pframe: make([]float64, pitchFFT),
		pcoeff: make([]complex128, pitchFFT/2+1), acf: make([]float64, pitchFFT)}
	for i := range f.window {
		f.window[i] = 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/float64(frameLen-1))
	}
	f.mel = melFilters(melBands, fftLen, SampleRate, 100, 7600)
	f.dct = make([][]float64, ncep)
	for k := range f.dct {
		f.dct[k] = make([]float64, melBands)
		for n := range melBands {
			f.dct[k][n] = math.Cos(math.Pi * float64(k+1) * (float64(n) + 0.5) / melBands)
		}
	}
	return f
}

// push frames as many samples as it can.
func (f *featurizer) push(x []float32) {
	f.buf = append(f.buf, x...)
	i := 0
	for ; i+frameLen <= len(f.buf); i += frameHop {
		f.analyse(f.buf[i:i+frameLen], i)
	}
	// Keep what the next frames still need.
	if i > 0 {
		f.prev = f.buf[i-1]
		n := copy(f.buf, f.buf[i:])
		f.buf = f.buf[:n]
	}
}

// frames is how many frames have been made.
func (f *featurizer) frames() int { return len(f.energy) }

// analyse adds the frame of the window w (starting at offset i of buf).
func (f *featurizer) analyse(w []float32, i int) {
	prev := f.prev
	if i > 0 {
		prev = f.buf[i-1]
	}
	var power float64
	for n, s := range w {
		v := float64(s)
		power += v * v
		f.frame[n] = (v - 0.97*float64(prev)) * f.window[n]
		prev = s
	}
	for n := frameLen; n < fftLen; n++ {
		f.frame[n] = 0
	}
	f.energy = append(f.energy, float32(math.Log(power/frameLen+1e-10)))
	f.fft.Coefficients(f.coeff, f.frame)
	for b, filt := range f.mel {
		var e float64
		for k, wt := range filt {
			if wt != 0 {
				a := cmplx.Abs(f.coeff[k])
				e += wt * a * a
			}
		}
		f.bands[b] = math.Log(e + 1e-10)
	}
	for k := range ncep {
		var c float64
		for n, v := range f.bands {
			c += f.dct[k][n] * v
		}
		f.cur[k] = float32(c)
	}
	f.cur[ncep] = 0
	f.ceps.add(f.cur[:])
	f.pitch = append(f.pitch, f.logF0(w))
}

// logF0 is the natural log of the window's pitch in Hz, from the highest
// peak of its autocorrelation between the shortest and longest period, or
// 0 when the window is not voiced (no peak high enough).
func (f *featurizer) logF0(w []float32) float32 {
	for n, s := range w {
		f.pframe[n] = float64(s) * f.window[n]
	}
	for n := len(w); n < pitchFFT; n++ {
		f.pframe[n] = 0
	}
	f.pfft.Coefficients(f.pcoeff, f.pframe)
	for k, c := range f.pcoeff {
		f.pcoeff[k] = complex(real(c)*real(c)+imag(c)*imag(c), 0)
	}
	f.pfft.Sequence(f.acf, f.pcoeff)
	if f.acf[0] <= 1e-12 {
		return 0
	}
	best, lag := 0.0, 0
	for l := minLag; l <= maxLag; l++ {
		// Divide out the window's own decay with the lag.
		v := f.acf[l] / f.acf[0] * float64(frameLen) / float64(frameLen-l)
		if v > best && f.acf[l] >= f.acf[l-1] && f.acf[l] >= f.acf[l+1] {
			best, lag = v, l
		}
	}
	if best < voicedPeak {
		return 0
	}
	return float32(math.Log(float64(SampleRate) / float64(lag)))
}

// fillPitch writes each frame's log F0 as its last feature, carrying the
// last voiced value across unvoiced frames (and the first back to the
// start), so that every frame has one.
func (f *featurizer) fillPitch() {
	last := float32(0)
	for _, p := range f.pitch {
		if p != 0 {
			last = p
			break
		}
	}
	if last == 0 {
		last = float32(math.Log(150))
	}
	for i, p := range f.pitch {
		if p != 0 {
			last = p
		}
		f.ceps.frame(i)[ncep] = last
		f.ceps.set(i)
	}
}

// melFilters returns n triangular filters between lo and hi Hz over the
// bins of an fft-point spectrum at rate.
func melFilters(n, fft, rate int, lo, hi float64) [][]float64 {
	mel := func(hz float64) float64 { return 2595 * math.Log10(1+hz/700) }
	hz := func(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }
	bins := fft/2 + 1
	edges := make([]float64, n+2)
	for i := range edges {
		edges[i] = hz(mel(lo) + (mel(hi)-mel(lo))*float64(i)/float64(n+1))
	}
	out := make([][]float64, n)
	for b := range out {
		out[b] = make([]float64, bins)
		l, c, r := edges[b], edges[b+1], edges[b+2]
		for k := range bins {
			f := float64(k) * float64(rate) / float64(fft)
			switch {
			case f > l && f <= c:
				out[b][k] = (f - l) / (c - l)
			case f > c && f < r:
				out[b][k] = (r - f) / (r - c)
			}
		}
	}
	return out
}
