package diarize

import (
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/harkworks/hark"
)

// Voice is how hark knows a person's voice: a Gaussian over the features
// of their speech (19 cepstral coefficients and the log pitch), with how
// much speech it was learned from. A team keeps one per worker (`hark voice
// enrol`), so that the worker among a recording's speakers can be told by
// voice. It holds no audio and no words.
type Voice struct {
	Seconds float64   `json:"seconds"`
	Mean    []float64 `json:"mean"` // Dims values
	Cov     []float64 `json:"cov"`  // Dims×Dims, row by row
}

// MinEnrolSeconds is the least speech a voice is learned from.
const MinEnrolSeconds = 10.0

// voiceOf is the Gaussian g (over standardised frames) as a Voice in the
// features' own units, undoing the standardisation (mean m, deviation sd).
func voiceOf(g *gauss, m, sd [Dims]float64) Voice {
	v := Voice{Seconds: g.n / FrameRate, Mean: make([]float64, Dims), Cov: make([]float64, Dims*Dims)}
	for i := range Dims {
		mi := g.sum[i] / g.n
		v.Mean[i] = m[i] + sd[i]*mi
		for j := i; j < Dims; j++ {
			c := (g.sq[i*Dims+j]/g.n - mi*g.sum[j]/g.n) * sd[i] * sd[j]
			v.Cov[i*Dims+j], v.Cov[j*Dims+i] = c, c
		}
	}
	return v
}

// valid reports whether v has the shape of a voice.
func (v Voice) valid() bool { return len(v.Mean) == Dims && len(v.Cov) == Dims*Dims && v.Seconds > 0 }

// Distance is how unlike two voices are: the log-determinant of the
// covariance of an even mix of the two less the mean of their own, halved
// (the per-frame gain of telling them apart, so it does not grow with the
// speech behind them). 0 for one voice; a few tenths for two people.
func (v Voice) Distance(o Voice) float64 {
	if !v.valid() || !o.valid() {
		return math.Inf(1)
	}
	mix := mat.NewSymDense(Dims, nil)
	for i := range Dims {
		for j := i; j < Dims; j++ {
			di, dj := v.Mean[i]-o.Mean[i], v.Mean[j]-o.Mean[j]
			c := 0.5*(v.Cov[i*Dims+j]+o.Cov[i*Dims+j]) + 0.25*di*dj
			if i == j {
				c += 1e-6
			}
			mix.SetSym(i, j, c)
		}
	}
	return 0.5 * (logDetOf(mix) - 0.5*(v.logDet()+o.logDet()))
}

func (v Voice) logDet() float64 {
	c := mat.NewSymDense(Dims, nil)
	for i := range Dims {
		for j := i; j < Dims; j++ {
			x := v.Cov[i*Dims+j]
			if i == j {
				x += 1e-6
			}
			c.SetSym(i, j, x)
		}
	}
	return logDetOf(c)
}

func logDetOf(c *mat.SymDense) float64 {
	var ch mat.Cholesky
	if !ch.Factorize(c) {
		return math.Inf(1)
	}
	return ch.LogDet()
}

// sameVoice is the distance under which two voices are taken for one
// person. On the role-play meetings a worker's voice learned from 20 s of
// their turns is 0.02–0.07 from the speaker hark finds for them, and 0.24
// or more from anyone else (TestVoiceRolePlay); a clip from another
// recording, on another microphone, will be further off.
const sameVoice = 0.15

// MatchVoice returns which of a recording's speakers has the voice known,
// and how sure that is (0–1): the nearest, when it is near enough to be
// the same person and clearly nearer than the next. It returns "" and 0
// when none is.
func MatchVoice(known Voice, speakers map[string]Voice) (string, float64) {
	best, second := "", math.Inf(1)
	bestD := math.Inf(1)
	for name, v := range speakers {
		d := known.Distance(v)
		switch {
		case d < bestD:
			best, second, bestD = name, bestD, d
		case d < second:
			second = d
		}
	}
	if best == "" || bestD > sameVoice {
		return "", 0
	}
	// Near (well under sameVoice) and alone (the next one far) is sure.
	near := 1 - bestD/sameVoice
	alone := 1.0
	if !math.IsInf(second, 1) {
		alone = math.Min(1, (second-bestD)/sameVoice)
	}
	return best, math.Max(0, math.Min(1, 0.5*near+0.5*alone))
}

// Voice learns the voice in what was written, taken as one person
// speaking (an enrolment clip): the Gaussian of its speech frames. It
// takes the place of Result, and is EINVALID when there are fewer than
// MinEnrolSeconds of speech.
func (d *Diarizer) Voice() (Voice, error) { return d.VoiceIn(nil) }

// VoiceIn learns the voice of the speech within spans (start and end in
// seconds: the turns a coach confirmed are one person's), or of all the
// speech when spans is nil. It takes the place of Result, and is EINVALID
// when there are fewer than MinEnrolSeconds of speech in the spans.
func (d *Diarizer) VoiceIn(spans [][2]float64) (Voice, error) {
	if d.done {
		return Voice{}, hark.Errorf(hark.EINTERNAL, "diarize: the diarizer was used already")
	}
	d.done = true
	defer d.f.ceps.close()
	speech := speechFrames(d.f.energy, d.cfg.VADShare)
	dropUnvoiced(speech, d.f.pitch)
	if spans != nil {
		in := make([]bool, len(speech))
		for _, sp := range spans {
			a, b := max(0, int(sp[0]*FrameRate)), min(len(in), int(sp[1]*FrameRate))
			for i := a; i < b; i++ {
				in[i] = true
			}
		}
		for i := range speech {
			speech[i] = speech[i] && in[i]
		}
	}
	regions := runs(speech)
	var n int
	for _, r := range regions {
		n += r[1] - r[0]
	}
	if s := float64(n) / FrameRate; s < MinEnrolSeconds {
		what := "the clip has"
		if spans != nil {
			what = "the turns have"
		}
		return Voice{}, hark.Errorf(hark.EINVALID, "%s %.1f s of speech; a voice is learned from at least %.0f s of one person speaking alone", what, s, MinEnrolSeconds)
	}
	d.f.fillPitch()
	x := d.f.ceps
	m, sd := standardise(x, regions)
	g := &gauss{}
	for _, r := range regions {
		g.add(x, r[0], r[1])
	}
	if err := x.err; err != nil {
		return Voice{}, hark.WrapError(hark.EUNAVAILABLE, err, "diarize")
	}
	return voiceOf(g, m, sd), nil
}

// Merge is the voice learned from all the speech the voices were learned
// from: their Gaussians pooled, each weighted by its seconds.
func Merge(vs ...Voice) Voice {
	out := Voice{Mean: make([]float64, Dims), Cov: make([]float64, Dims*Dims)}
	for _, v := range vs {
		if v.valid() {
			out.Seconds += v.Seconds
		}
	}
	if out.Seconds == 0 {
		return Voice{}
	}
	for _, v := range vs {
		if !v.valid() {
			continue
		}
		w := v.Seconds / out.Seconds
		for i := range Dims {
			out.Mean[i] += w * v.Mean[i]
		}
	}
	for _, v := range vs {
		if !v.valid() {
			continue
		}
		w := v.Seconds / out.Seconds
		for i := range Dims {
			for j := range Dims {
				di, dj := v.Mean[i]-out.Mean[i], v.Mean[j]-out.Mean[j]
				out.Cov[i*Dims+j] += w * (v.Cov[i*Dims+j] + di*dj)
			}
		}
	}
	return out
}
