package diarize

import (
	"math"
	"math/rand/v2"
	"testing"
)

// voice is a synthetic speaker: a pitch and the formants that shape the
// harmonics, as a vowel-like source.
type voice struct {
	f0       float64
	formants []float64
}

// speak renders seconds of the voice: harmonics of a wavering pitch under
// the formant envelope, loudness moving at a syllable rate.
func (v voice) speak(seconds float64, rng *rand.Rand) []float32 {
	n := int(seconds * SampleRate)
	out := make([]float32, n)
	phase := 0.0
	syll := 3 + rng.Float64()*2
	for i := range out {
		t := float64(i) / SampleRate
		f0 := v.f0 * (1 + 0.04*math.Sin(2*math.Pi*1.3*t) + 0.01*rng.NormFloat64())
		phase += 2 * math.Pi * f0 / SampleRate
		var s float64
		for k := 1; float64(k)*v.f0 < 4000; k++ {
			f := float64(k) * f0
			var a float64
			for _, fm := range v.formants {
				a += math.Exp(-(f - fm) * (f - fm) / (2 * 120 * 120))
			}
			s += a * math.Sin(float64(k)*phase) / float64(k)
		}
		env := 0.5 + 0.5*math.Sin(2*math.Pi*syll*t)
		out[i] = float32(0.1 * s * env * env)
	}
	return out
}

// meeting renders turns of the voices (voice index, seconds) with pauses,
// over faint noise, and returns the samples and the reference turns.
func meeting(voices []voice, turns [][2]float64, pause float64, seed uint64) ([]float32, []Turn) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var x []float32
	var ref []Turn
	silence := func(s float64) {
		for range int(s * SampleRate) {
			x = append(x, float32(0.0005*rng.NormFloat64()))
		}
	}
	silence(pause)
	for _, tk := range turns {
		start := float64(len(x)) / SampleRate
		for _, s := range voices[int(tk[0])].speak(tk[1], rng) {
			x = append(x, s+float32(0.0005*rng.NormFloat64()))
		}
		ref = append(ref, Turn{Start: start, End: float64(len(x)) / SampleRate, Speaker: string(rune('A' + int(tk[0])))})
		silence(pause)
	}
	return x, ref
}

var (
	low  = voice{f0: 110, formants: []float64{600, 1100, 2500}}
	high = voice{f0: 230, formants: []float64{850, 1700, 3000}}
	mid  = voice{f0: 165, formants: []float64{400, 2100, 2900}}
)

func TestPitch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, v := range []voice{low, high} {
		f := newFeaturizer(&featureStore{})
		f.push(v.speak(1, rng))
		f.fillPitch()
		var voiced int
		var sum float64
		for i, p := range f.pitch {
			if p != 0 {
				voiced++
				sum += math.Exp(float64(f.ceps.frame(i)[ncep]))
			}
		}
		if voiced < len(f.pitch)/2 {
			t.Errorf("%v Hz voice: %d of %d frames voiced", v.f0, voiced, len(f.pitch))
			continue
		}
		if got := sum / float64(voiced); math.Abs(got-v.f0) > 0.1*v.f0 {
			t.Errorf("%v Hz voice: mean pitch %.1f Hz", v.f0, got)
		}
	}
}

func TestFeaturizerFrames(t *testing.T) {
	f := newFeaturizer(&featureStore{})
	x := make([]float32, SampleRate) // one second, in uneven blocks
	for i := 0; i < len(x); i += 777 {
		f.push(x[i:min(len(x), i+777)])
	}
	if want := (SampleRate-frameLen)/frameHop + 1; f.frames() != want || f.ceps.frames() != want || len(f.pitch) != want {
		t.Fatalf("%d frames (%d of features), want %d", f.frames(), f.ceps.frames(), want)
	}
	// The same samples in one block give the same features.
	g := newFeaturizer(&featureStore{})
	rng := rand.New(rand.NewPCG(2, 2))
	y := high.speak(1, rng)
	g.push(y)
	h := newFeaturizer(&featureStore{})
	for i := 0; i < len(y); i += 333 {
		h.push(y[i:min(len(y), i+333)])
	}
	for i := range g.ceps.frames() {
		for d, v := range g.ceps.frame(i) {
			if w := h.ceps.frame(i)[d]; v != w {
				t.Fatalf("frame %d value %d: %v in one block, %v in pieces", i, d, v, w)
			}
		}
	}
}

func TestSpeechFrames(t *testing.T) {
	x, ref := meeting([]voice{low}, [][2]float64{{0, 2}, {0, 1.5}}, 1, 3)
	f := newFeaturizer(&featureStore{})
	f.push(x)
	speech := speechFrames(f.energy, 0.3)
	var got []Turn
	for _, r := range runs(speech) {
		got = append(got, Turn{Start: float64(r[0]) / FrameRate, End: float64(r[1]) / FrameRate, Speaker: "A"})
	}
	if len(got) != 2 {
		t.Fatalf("speech runs %v, want two like %v", got, ref)
	}
	if der := Score(ref, got, nil, 0.25).DER(); der > 0.05 {
		t.Errorf("speech found %v, want %v (DER %.3f)", got, ref, der)
	}
	if s := speechFrames(make([]float32, 500), 0.3); len(runs(s)) != 0 {
		t.Errorf("digital silence has speech: %v", runs(s))
	}
}

func TestDiarize(t *testing.T) {
	two := [][2]float64{{0, 3}, {1, 2.5}, {0, 1.5}, {1, 3.5}, {0, 2}, {1, 1.2}, {0, 4}, {1, 2}}
	three := [][2]float64{{0, 3}, {1, 2.5}, {2, 2}, {0, 1.5}, {2, 3}, {1, 3}, {0, 2.5}, {2, 2}, {1, 2}}
	for _, tc := range []struct {
		name     string
		voices   []voice
		turns    [][2]float64
		speakers int // given; 0 estimates
	}{
		{"two voices, given", []voice{low, high}, two, 2},
		{"two voices, estimated", []voice{low, high}, two, 0},
		{"three voices, given", []voice{low, high, mid}, three, 3},
		{"one voice, estimated", []voice{mid}, [][2]float64{{0, 3}, {0, 2}, {0, 4}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, ref := meeting(tc.voices, tc.turns, 0.6, 7)
			d := New(Config{Speakers: tc.speakers})
			for i := 0; i < len(x); i += 4096 {
				d.Write(x[i:min(len(x), i+4096)])
			}
			res, err := d.Result()
			if err != nil {
				t.Fatal(err)
			}
			if res.Speakers != len(tc.voices) {
				t.Errorf("%d speakers, want %d: %v", res.Speakers, len(tc.voices), res.Turns)
			}
			if res.Estimated != (tc.speakers == 0) || res.Confidence <= 0 || res.Confidence > 1 {
				t.Errorf("estimated %v, confidence %v", res.Estimated, res.Confidence)
			}
			sc := Score(ref, res.Turns, nil, 0.25)
			if sc.DER() > 0.05 {
				t.Errorf("DER %.3f (miss %.2f s, false alarm %.2f s, confusion %.2f s)\nref %v\ngot %v",
					sc.DER(), sc.Miss, sc.FalseAlarm, sc.Confusion, ref, res.Turns)
			}
			if res.Turns[0].Speaker != "S1" {
				t.Errorf("first speaker named %q, want S1", res.Turns[0].Speaker)
			}
			if _, err := d.Result(); err == nil {
				t.Error("Result twice: no error")
			}
		})
	}
}

func TestDiarizeSilence(t *testing.T) {
	d := New(Config{})
	d.Write(make([]float32, 5*SampleRate))
	res, err := d.Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Turns) != 0 || res.Speakers != 0 || res.SpeechSeconds != 0 {
		t.Errorf("silence: %+v", res)
	}
	if d.Seconds() < 4.9 {
		t.Errorf("Seconds %v after 5 s", d.Seconds())
	}
}
