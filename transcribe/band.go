package transcribe

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/dsp/fourier"
)

// BandTelephone is hark.AudioInfo.Band for telephone-band audio: recorded
// at 8 kHz or less, or with almost nothing above 3.5 kHz (a call recorded
// at 8 kHz and resampled, a G.711 system's export).
const BandTelephone = "telephone"

// Band measurement: one bandFrame-sample frame of the channels' sum in every
// second of audio, its power spectrum summed over the recording.
const (
	bandFrame     = 1024
	bandEdge      = 4000 // Hz: the Nyquist frequency of 8 kHz audio, above the telephone band
	bandLow       = 250  // Hz: below this is hum and rumble, not speech
	bandMaxHigh   = 7500 // Hz: above this, wideband speech has little energy too
	bandMinShare  = 0.002
	bandMinFrames = 5
)

// bandMeter measures how much of a recording's energy lies above the
// telephone band, cheaply: a 1024-point FFT per second of audio. WAVReader
// feeds it when it reads for an Audio opened by OpenAudio.
type bandMeter struct {
	mu        sync.Mutex
	rate, ch  int
	fft       *fourier.FFT
	frame     []float64
	coeff     []complex128
	fill      int   // samples of frame filled
	next      int64 // the frame number at which the next measure starts
	frames    int64 // frames seen
	measured  int
	low, high float64 // power in bandLow–bandEdge and bandEdge–bandMaxHigh
}

func newBandMeter(rate, channels int) *bandMeter {
	return &bandMeter{rate: rate, ch: channels}
}

// add takes interleaved samples as they are read.
func (m *bandMeter) add(x []float32) {
	if m.rate <= 8000 {
		return // the rate says it all
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := int64(len(x) / m.ch)
	for i := int64(0); i < n; {
		f := m.frames + i
		if m.fill == 0 && f < m.next {
			i += m.next - f // skip to where the next measure starts
			continue
		}
		if m.fft == nil {
			m.fft = fourier.NewFFT(bandFrame)
			m.frame = make([]float64, bandFrame)
		}
		for ; i < n && m.fill < bandFrame; i++ {
			var v float32
			for _, s := range x[int(i)*m.ch : int(i+1)*m.ch] {
				v += s
			}
			m.frame[m.fill] = float64(v)
			m.fill++
		}
		if m.fill == bandFrame {
			m.measure()
			m.fill = 0
			m.next = m.frames + i + int64(m.rate) - bandFrame
		}
	}
	m.frames += n
}

// measure adds one frame's spectrum, Hann-windowed, to the sums.
func (m *bandMeter) measure() {
	for i := range m.frame {
		m.frame[i] *= 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/bandFrame)
	}
	m.coeff = m.fft.Coefficients(m.coeff, m.frame)
	hz := float64(m.rate) / bandFrame
	for k, c := range m.coeff {
		f := float64(k) * hz
		p := real(c)*real(c) + imag(c)*imag(c)
		switch {
		case f >= bandLow && f < bandEdge:
			m.low += p
		case f >= bandEdge && f < bandMaxHigh:
			m.high += p
		}
	}
	m.measured++
}

// band returns BandTelephone or "" from what was measured; "" too when too
// little was measured to tell (a short or silent file).
func (m *bandMeter) band() string {
	if m == nil {
		return ""
	}
	if m.rate <= 8000 {
		return BandTelephone
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.measured < bandMinFrames || m.low <= 1e-9*float64(m.measured) {
		return ""
	}
	if m.high/(m.low+m.high) < bandMinShare {
		return BandTelephone
	}
	return ""
}
