package transcribe

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// resampleAll runs in through a fresh resampler in blocks of the given size.
func resampleAll(in []float32, from, to, block int) []float32 {
	r := newResampler(from, to)
	var out []float32
	for len(in) > 0 {
		n := min(block, len(in))
		out = append(out, r.process(in[:n], false)...)
		in = in[n:]
	}
	return append(out, r.process(nil, true)...)
}

func tone(rate int, freq, amp float64, seconds float64) []float32 {
	x := make([]float32, int(float64(rate)*seconds))
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return x
}

// rmsDB returns the RMS level of x in dB relative to a full-scale sine's
// RMS, skipping the edges where the filters start and stop.
func rmsDB(x []float32) float64 {
	x = x[len(x)/10 : len(x)-len(x)/10]
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return 10 * math.Log10(s/float64(len(x))/0.5+1e-30)
}

// TestResampleAliasing is the tone test: a full-scale tone above the output's
// Nyquist frequency (8 kHz) must come out at least 60 dB down, whatever it
// folds to, and a tone in the pass band must come out at its own level.
func TestResampleAliasing(t *testing.T) {
	for _, rate := range []int{8000, 11025, 22050, 32000, 44100, 48000, 96000, 192000} {
		for _, f := range []float64{100, 1000, 3000, 6500, 8000, 8100, 9000, 10000, 12000, 15000, 20000, 23000, 30000, 45000, 90000} {
			if f >= float64(rate)/2 {
				continue
			}
			t.Run(fmt.Sprintf("%d Hz tone at %d Hz", int(f), rate), func(t *testing.T) {
				out := resampleAll(tone(rate, f, 1, 1), rate, 16000, 4096)
				if len(out) != 16000 {
					t.Fatalf("got %d samples, want 16000", len(out))
				}
				level := rmsDB(out)
				passEdge := passFraction * float64(min(rate, 16000)) / 2
				stopEdge := float64(min(rate, 16000)) / 2
				switch {
				case f <= passEdge && math.Abs(level) > 0.1:
					t.Errorf("pass band: %.2f dB, want 0 ± 0.1 dB", level)
				case f >= stopEdge && level > -60:
					t.Errorf("aliasing products at %.1f dB, want at most -60 dB", level)
				}
			})
		}
	}
}

// TestResampleTiming checks that the filters' delay is compensated: a click
// comes out where it went in.
func TestResampleTiming(t *testing.T) {
	for _, rate := range []int{8000, 22050, 44100, 48000, 96000} {
		in := make([]float32, rate) // one second
		at := 0.37                  // seconds
		in[int(at*float64(rate))] = 1
		out := resampleAll(in, rate, 16000, 1000)
		peak := 0
		for i := range out {
			if math.Abs(float64(out[i])) > math.Abs(float64(out[peak])) {
				peak = i
			}
		}
		if got := float64(peak) / 16000; math.Abs(got-at) > 1.0/16000 {
			t.Errorf("%d Hz: click at %.5f s, want %.5f s", rate, got, at)
		}
	}
}

// TestResampleBlocks checks that the block size does not change the output.
func TestResampleBlocks(t *testing.T) {
	in := make([]float32, 44100)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range in {
		in[i] = float32(rng.Float64()*2 - 1)
	}
	want := resampleAll(in, 44100, 16000, len(in))
	for _, block := range []int{1, 7, 441, 4096} {
		got := resampleAll(in, 44100, 16000, block)
		if len(got) != len(want) {
			t.Fatalf("block %d: %d samples, want %d", block, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("block %d: sample %d is %v, want %v", block, i, got[i], want[i])
			}
		}
	}
}

func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 80; n++ {
		x := make([]float32, n+5)
		h := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.Float64() - 0.5)
		}
		for i := range h {
			h[i] = float32(rng.Float64() - 0.5)
		}
		var want float64
		for i := range h {
			want += float64(x[i]) * float64(h[i])
		}
		if got := dot(x, h); math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("n=%d: dot = %v, want %v", n, got, want)
		}
		if got := dotGeneric(x, h); math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("n=%d: dotGeneric = %v, want %v", n, got, want)
		}
	}
}

func BenchmarkResample48kTo16k(b *testing.B) {
	in := tone(48000, 440, 0.5, 1)
	r := newResampler(48000, 16000)
	b.SetBytes(int64(len(in) * 4))
	for b.Loop() {
		for i := 0; i < len(in); i += 4096 {
			r.process(in[i:min(i+4096, len(in))], false)
		}
	}
}
