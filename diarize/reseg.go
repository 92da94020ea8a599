package diarize

import (
	"math"
)

// gmm is a diagonal-covariance Gaussian mixture over standardised frames.
type gmm struct {
	w    []float64 // log weights
	mu   [][Dims]float64
	ivar [][Dims]float64 // inverse variances
	norm []float64       // log normalisers: log w − ½ Σ log(2π var)
}

// trainGMM fits m components to the frames idx of x
// with a few rounds of EM, from means spread evenly through the frames.
func trainGMM(x *featureStore, idx []int32, m, rounds int) *gmm {
	if len(idx) > maxTrainFrames { // an even subsample bounds the work
		sub := make([]int32, maxTrainFrames)
		for i := range sub {
			sub[i] = idx[i*len(idx)/maxTrainFrames]
		}
		idx = sub
	}
	m = max(1, min(m, len(idx)/(4*Dims)))
	g := &gmm{w: make([]float64, m), mu: make([][Dims]float64, m), ivar: make([][Dims]float64, m), norm: make([]float64, m)}
	var mean, vr [Dims]float64
	for _, f := range idx {
		for d := range Dims {
			mean[d] += float64(x.frame(int(f))[d])
		}
	}
	for d := range Dims {
		mean[d] /= float64(len(idx))
	}
	for _, f := range idx {
		for d := range Dims {
			v := float64(x.frame(int(f))[d]) - mean[d]
			vr[d] += v * v
		}
	}
	for k := range m {
		f := idx[(2*k+1)*len(idx)/(2*m)]
		for d := range Dims {
			g.mu[k][d] = float64(x.frame(int(f))[d])
			g.ivar[k][d] = 1 / math.Max(vr[d]/float64(len(idx)), 1e-4)
		}
		g.w[k] = -math.Log(float64(m))
	}
	g.update()
	post := make([]float64, m)
	for range rounds {
		nk := make([]float64, m)
		s1 := make([][Dims]float64, m)
		s2 := make([][Dims]float64, m)
		for _, f := range idx {
			frame := x.frame(int(f))
			g.posteriors(frame, post)
			for k, p := range post {
				if p < 1e-6 {
					continue
				}
				nk[k] += p
				for d, v := range frame {
					s1[k][d] += p * float64(v)
					s2[k][d] += p * float64(v) * float64(v)
				}
			}
		}
		for k := range m {
			if nk[k] < 1 {
				continue // an empty component keeps its place
			}
			g.w[k] = math.Log(nk[k] / float64(len(idx)))
			for d := range Dims {
				mu := s1[k][d] / nk[k]
				g.mu[k][d] = mu
				g.ivar[k][d] = 1 / math.Max(s2[k][d]/nk[k]-mu*mu, 1e-3)
			}
		}
		g.update()
	}
	return g
}

// maxTrainFrames bounds the frames a speaker's model is trained on: about
// three minutes of speech.
const maxTrainFrames = 20000

func (g *gmm) update() {
	for k := range g.w {
		n := g.w[k]
		for d := range Dims {
			n += 0.5 * (math.Log(g.ivar[k][d]) - math.Log(2*math.Pi))
		}
		g.norm[k] = n
	}
}

// component returns each component's log weighted density at frame.
func (g *gmm) component(frame []float32, out []float64) {
	for k := range g.w {
		var q float64
		mu, iv := &g.mu[k], &g.ivar[k]
		for d, v := range frame {
			e := float64(v) - mu[d]
			q += e * e * iv[d]
		}
		out[k] = g.norm[k] - 0.5*q
	}
}

// logLik is the log density of the frame.
func (g *gmm) logLik(frame []float32, scratch []float64) float64 {
	g.component(frame, scratch)
	return logSumExp(scratch)
}

// posteriors sets post to each component's responsibility for frame.
func (g *gmm) posteriors(frame []float32, post []float64) {
	g.component(frame, post)
	z := logSumExp(post)
	for k := range post {
		post[k] = math.Exp(post[k] - z)
	}
}

func logSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	if math.IsInf(m, -1) {
		return m
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// viterbi labels the frames [start, end) with the models, one label a
// frame, paying penalty (in log likelihood) for each change of speaker, and
// writes the labels into labels[start:end]. Likelihoods are averaged over
// ±smooth frames first, which favours turns of some length.
func viterbi(x *featureStore, models []*gmm, start, end int, penalty float64, labels []int32) {
	k := len(models)
	n := end - start
	if n <= 0 || k == 0 {
		return
	}
	ll := make([]float64, n*k)
	scratch := make([]float64, 64)
	for t := range n {
		frame := x.frame(start + t)
		for s, m := range models {
			ll[t*k+s] = m.logLik(frame, scratch[:len(m.w)])
		}
	}
	score := make([]float64, k)
	next := make([]float64, k)
	back := make([]int32, n*k)
	copy(score, ll[:k])
	for t := 1; t < n; t++ {
		best, arg := math.Inf(-1), 0
		for s := range k {
			if score[s] > best {
				best, arg = score[s], s
			}
		}
		for s := range k {
			stay, sw := score[s], best-penalty
			if stay >= sw || arg == s {
				next[s], back[t*k+s] = stay, int32(s)
			} else {
				next[s], back[t*k+s] = sw, int32(arg)
			}
			next[s] += ll[t*k+s]
		}
		score, next = next, score
	}
	s := 0
	for i := range k {
		if score[i] > score[s] {
			s = i
		}
	}
	for t := n - 1; t >= 0; t-- {
		labels[start+t] = int32(s)
		s = int(back[t*k+s])
	}
}
