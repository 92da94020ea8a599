package annotate

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/harkworks/hark"
)

// TrainConfig says how to train a Model.
type TrainConfig struct {
	// Rules is the rule tagger whose findings are features; its codebook
	// is the model's.
	Rules *RuleTagger
	// Codes are the codes to train, default every code of the codebook
	// that has at least MinPositives positive turns.
	Codes []string
	// Version and TrainedOn are written in the model.
	Version, TrainedOn string
	// MinCount is how many turns a feature must appear in to be kept
	// (default 2); MinPositives how many turns a code needs (default 10).
	MinCount, MinPositives int
	// Epochs (default 15), Rate (AdaGrad's step, default 0.3) and L2 (the
	// penalty on weights, default 3e-3).
	Epochs int
	Rate   float64
	L2     float64
	// L2For is the penalty for some codes instead of L2: codes whose
	// rules were fitted to other data than the training data's can be held
	// closer to them.
	L2For map[string]float64
	// Folds is how many parts the data is cut into to choose each code's
	// thresholds on turns each fold's model did not see (default 4).
	Folds int
	// MinPrecision is the precision the thresholds aim to keep (default
	// 0.8): a false alarm costs a coach's trust.
	MinPrecision float64
	// Seed fixes the order turns are visited in (default 1): the same
	// data, options and seed give the same model.
	Seed uint64
	// KeepRules keeps every tag the rules give (RuleThreshold 0): the
	// model only adds. Without it a rule's tag the model finds unlikely
	// is dropped, which fits the training data better but carries the
	// training data's notion of a code over the rules'.
	KeepRules bool
	// KeepRulesFor keeps every rule tag of these codes only, when
	// KeepRules is not set: codes whose rules were fitted to other data
	// than the training data's (hark's reflections and open questions to
	// AnnoMI's coders) keep the rules' notion, the rest learn the
	// training data's.
	KeepRulesFor []string
}

func (c *TrainConfig) defaults() {
	if c.MinCount <= 0 {
		c.MinCount = 2
	}
	if c.MinPositives <= 0 {
		c.MinPositives = 10
	}
	if c.Epochs <= 0 {
		c.Epochs = 15
	}
	if c.Rate <= 0 {
		c.Rate = 0.3
	}
	if c.L2 < 0 {
		c.L2 = 0
	} else if c.L2 == 0 {
		c.L2 = 3e-3
	}
	if c.Folds < 2 {
		c.Folds = 4
	}
	if c.MinPrecision <= 0 {
		c.MinPrecision = 0.8
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
}

// example is one turn as training sees it.
type example struct {
	names  []string // its features by name
	feats  []int32  // by position in the vocabulary
	vals   []float32
	labels map[string]bool
	role   hark.Role
	ruled  map[string]bool // the codes the rules gave it
	group  int             // its transcript, for folds
}

// Train fits a model on the labelled transcripts: per code, logistic
// regression over the turns the code applies to, then thresholds chosen on
// out-of-fold probabilities (the folds cut by transcript) to give the best
// F1 while keeping precision at MinPrecision where it can. It is
// deterministic. Errors are EINVALID (no codes to train) or ctx's.
func Train(ctx context.Context, data []LabelledTranscript, cfg TrainConfig) (*Model, error) {
	cfg.defaults()
	if cfg.Rules == nil {
		return nil, hark.Errorf(hark.EINVALID, "train: no rule tagger")
	}
	exs, err := examples(ctx, data, cfg.Rules)
	if err != nil {
		return nil, err
	}
	codes := cfg.Codes
	if len(codes) == 0 {
		for _, cr := range cfg.Rules.codes {
			n := 0
			for _, e := range exs {
				if e.labels[cr.id] {
					n++
				}
			}
			if n >= cfg.MinPositives {
				codes = append(codes, cr.id)
			}
		}
	}
	if len(codes) == 0 {
		return nil, hark.Errorf(hark.EINVALID, "train: no code has %d turns coded with it: code more turns, or lower the minimum (hark train --min-positives)", cfg.MinPositives)
	}
	m := &Model{Schema: ModelSchema, Version: cfg.Version, Codebook: cfg.Rules.codebook, CodebookVersion: cfg.Rules.version,
		TrainedOn: cfg.TrainedOn, Turns: len(exs), Codes: map[string]*CodeModel{}}
	m.Features = vocabulary(exs, cfg.MinCount)
	pos := make(map[string]int32, len(m.Features))
	for i, f := range m.Features {
		pos[f] = int32(i)
	}
	for i := range exs {
		exs[i].feats = exs[i].feats[:0]
		for _, n := range exs[i].names {
			if p, ok := pos[n]; ok {
				exs[i].feats = append(exs[i].feats, p)
			}
		}
		slices.Sort(exs[i].feats)
		exs[i].feats = slices.Compact(exs[i].feats)
	}
	group := make([]uint8, len(m.Features))
	for i, f := range m.Features {
		group[i] = featureGroup(f)
	}
	for i := range exs {
		exs[i].vals = values(group, exs[i].feats, nil)
	}
	for _, code := range codes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := cfg.Rules.codeByID(code)
		if c == nil {
			return nil, hark.Errorf(hark.EINVALID, "train: code %q is not in codebook %s", code, cfg.Rules.codebook)
		}
		var use []int
		for i, e := range exs {
			if c.code.AppliesTo(e.role) {
				use = append(use, i)
			}
		}
		w, b := fit(exs, use, code, len(m.Features), cfg)
		cm := &CodeModel{Bias: round4(b)}
		for f, x := range w {
			if math.Abs(x) >= minWeight {
				cm.Feature = append(cm.Feature, int32(f))
				cm.Weight = append(cm.Weight, round4(x))
			}
		}
		cm.Threshold, cm.RuleThreshold = thresholds(exs, use, code, len(m.Features), cfg)
		m.Codes[code] = cm
	}
	m.dropUnused()
	if err := m.prepare(); err != nil {
		return nil, hark.WrapError(hark.EINTERNAL, err, "train")
	}
	return m, nil
}

// minWeight is the smallest weight a model keeps: a feature weighs at
// most its weight, so one under this changes a probability by well under
// a point, and dropping them keeps the file small.
const minWeight = 0.01

// dropUnused removes the features no code weighs, renumbering the rest.
func (m *Model) dropUnused() {
	used := make([]bool, len(m.Features))
	for _, c := range m.Codes {
		for _, f := range c.Feature {
			used[f] = true
		}
	}
	renum := make([]int32, len(m.Features))
	var kept []string
	for i, f := range m.Features {
		renum[i] = int32(len(kept))
		if used[i] {
			kept = append(kept, f)
		}
	}
	for _, c := range m.Codes {
		for k, f := range c.Feature {
			c.Feature[k] = renum[f]
		}
	}
	m.Features = kept
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func (rt *RuleTagger) codeByID(id string) *codeRule {
	for i := range rt.codes {
		if rt.codes[i].id == id {
			return &rt.codes[i]
		}
	}
	return nil
}

// examples is every turn of the data with its features' names.
func examples(ctx context.Context, data []LabelledTranscript, rt *RuleTagger) ([]example, error) {
	var out []example
	var ws, pws []string
	for g, lt := range data {
		t := lt.Transcript
		var shapes []uint16
		ann, err := rt.tag(ctx, t, &shapes)
		if err != nil {
			return nil, err
		}
		pos := make(map[int]int, len(t.Segments))
		for i, s := range t.Segments {
			pos[s.Index] = i
		}
		rulesOn := make([][]string, len(t.Segments))
		for _, tag := range ann.Tags {
			if i, ok := pos[tag.Segment]; ok {
				rulesOn[i] = append(rulesOn[i], tag.Code)
			}
		}
		for i := range t.Segments {
			v := viewOf(t.Segments, rulesOn, shapes, i)
			ws = words(t.Segments[i].Text, ws[:0])
			pws = pws[:0]
			if i > 0 {
				pws = words(t.Segments[i-1].Text, pws)
			}
			seen := map[string]bool{}
			var names []string
			v.features(func(name []byte) {
				if !seen[string(name)] {
					seen[string(name)] = true
					names = append(names, string(name))
				}
			}, ws, pws)
			e := example{names: names, labels: map[string]bool{}, ruled: map[string]bool{}, role: t.Segments[i].Role, group: g}
			if i < len(lt.Labels) {
				for _, l := range lt.Labels[i] {
					e.labels[l] = true
				}
			}
			for _, c := range rulesOn[i] {
				e.ruled[c] = true
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// vocabulary is the features in at least min turns, sorted.
func vocabulary(exs []example, min int) []string {
	count := map[string]int{}
	for _, e := range exs {
		for _, n := range e.names {
			count[n]++
		}
	}
	var out []string
	for n, c := range count {
		if c >= min {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// fit is logistic regression of the code on the examples use, by AdaGrad
// with an L2 penalty: the weights by feature and the bias.
func fit(exs []example, use []int, code string, nfeat int, cfg TrainConfig) ([]float64, float64) {
	w := make([]float64, nfeat)
	g2 := make([]float64, nfeat)
	var b, gb2 float64
	order := slices.Clone(use)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6861726b))
	l2 := cfg.L2
	if v, ok := cfg.L2For[code]; ok && v >= 0 {
		l2 = v
	}
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			e := &exs[i]
			z := b
			for k, f := range e.feats {
				z += w[f] * float64(e.vals[k])
			}
			y := 0.0
			if e.labels[code] {
				y = 1
			}
			g := sigmoid(z) - y
			gb2 += g * g
			b -= cfg.Rate * g / math.Sqrt(gb2+1e-8)
			for k, f := range e.feats {
				gf := g*float64(e.vals[k]) + l2*w[f]
				g2[f] += gf * gf
				w[f] -= cfg.Rate * gf / math.Sqrt(g2[f]+1e-8)
			}
		}
	}
	return w, b
}

// thresholds chooses the code's Threshold and RuleThreshold on
// out-of-fold probabilities: each fold's turns are scored by a model
// trained on the other folds.
func thresholds(exs []example, use []int, code string, nfeat int, cfg TrainConfig) (float64, float64) {
	groups := map[int]bool{}
	for _, i := range use {
		groups[exs[i].group] = true
	}
	ids := make([]int, 0, len(groups))
	for g := range groups {
		ids = append(ids, g)
	}
	sort.Ints(ids)
	fold := map[int]int{}
	for k, g := range ids {
		fold[g] = k % cfg.Folds
	}
	p := make(map[int]float64, len(use))
	for f := 0; f < cfg.Folds; f++ {
		var train, test []int
		for _, i := range use {
			if fold[exs[i].group] == f {
				test = append(test, i)
			} else {
				train = append(train, i)
			}
		}
		if len(test) == 0 || len(train) == 0 {
			continue
		}
		w, b := fit(exs, train, code, nfeat, cfg)
		for _, i := range test {
			z := b
			for k, ft := range exs[i].feats {
				z += w[ft] * float64(exs[i].vals[k])
			}
			p[i] = sigmoid(z)
		}
	}
	type cell struct {
		t, rt, f1 float64
		ok        bool
	}
	var grid []cell
	for ti := 1; ti <= 19; ti++ {
		for ri := 0; ri <= ti; ri++ {
			if (cfg.KeepRules || slices.Contains(cfg.KeepRulesFor, code)) && ri > 0 {
				break
			}
			t, rt := float64(ti)/20, float64(ri)/20
			var tp, fp, fn int
			for _, i := range use {
				e := &exs[i]
				got := p[i] >= t || e.ruled[code] && p[i] >= rt
				switch want := e.labels[code]; {
				case got && want:
					tp++
				case got:
					fp++
				case want:
					fn++
				}
			}
			if tp == 0 {
				continue
			}
			prec := float64(tp) / float64(tp+fp)
			grid = append(grid, cell{t, rt, 2 * float64(tp) / float64(2*tp+fp+fn), prec >= cfg.MinPrecision})
		}
	}
	if len(grid) == 0 {
		return 0.5, 0.5
	}
	// The best F1, among the cells that keep the precision if any do;
	// of the cells as good, the middle threshold, and at it the middle
	// rule threshold, so that a margin is left on both sides.
	anyOK := slices.ContainsFunc(grid, func(c cell) bool { return c.ok })
	best := -1.0
	for _, c := range grid {
		if c.ok == anyOK && c.f1 > best {
			best = c.f1
		}
	}
	var ts []float64
	for _, c := range grid {
		if c.ok == anyOK && c.f1 >= best-1e-9 && !slices.Contains(ts, c.t) {
			ts = append(ts, c.t)
		}
	}
	t := ts[len(ts)/2]
	var rts []float64
	for _, c := range grid {
		if c.ok == anyOK && c.f1 >= best-1e-9 && c.t == t {
			rts = append(rts, c.rt)
		}
	}
	return t, rts[len(rts)/2]
}

// FromReview is a session a coach has reviewed as training data: its
// transcript as corrected, each turn coded with the codes of the tags the
// coaches accepted (as they recoded them) and added; rejected and pending
// tags give no code. It reports false for a session without a transcript,
// tags or a complete review.
func FromReview(sess *hark.Session) (LabelledTranscript, bool) {
	if sess == nil || sess.Transcript == nil || sess.Annotations == nil || sess.Review == nil || sess.Review.State != hark.ReviewComplete {
		return LabelledTranscript{}, false
	}
	t := sess.Transcript
	pos := make(map[int]int, len(t.Segments))
	for i, s := range t.Segments {
		pos[s.Index] = i
	}
	labels := make([][]string, len(t.Segments))
	for _, tag := range sess.Annotations.Tags {
		i, ok := pos[tag.Segment]
		if !ok || tag.Review != hark.ReviewAccepted {
			continue
		}
		if !slices.Contains(labels[i], tag.Code) {
			labels[i] = append(labels[i], tag.Code)
		}
	}
	return LabelledTranscript{Transcript: t, Labels: labels}, true
}

// CrossValidate measures, by k-fold over the transcripts, how well the
// rules alone (before) and the rules with a model trained on the other
// folds (after) agree with the labels, per code in codes.
func CrossValidate(ctx context.Context, data []LabelledTranscript, cfg TrainConfig, k int, codes []string) (before, after []Agreement, err error) {
	if k < 2 || len(data) < k {
		return nil, nil, hark.Errorf(hark.EINVALID, "cross-validation needs at least %d transcripts for %d folds; there are %d", max(k, 2), max(k, 2), len(data))
	}
	var b, a [][]Agreement
	for f := 0; f < k; f++ {
		var train, test []LabelledTranscript
		for i, lt := range data {
			if i%k == f {
				test = append(test, lt)
			} else {
				train = append(train, lt)
			}
		}
		m, err := Train(ctx, train, cfg)
		if err != nil {
			return nil, nil, err
		}
		mt, err := NewModelTagger(cfg.Rules, m)
		if err != nil {
			return nil, nil, err
		}
		rb, err := AgreementByCode(ctx, cfg.Rules, test, codes)
		if err != nil {
			return nil, nil, err
		}
		ra, err := AgreementByCode(ctx, mt, test, codes)
		if err != nil {
			return nil, nil, err
		}
		b, a = append(b, rb), append(a, ra)
	}
	return SumAgreements(b), SumAgreements(a), nil
}

// SumAgreements adds up agreements measured on parts of a set (each in
// the same code order) into the agreement on the whole.
func SumAgreements(parts [][]Agreement) []Agreement {
	if len(parts) == 0 {
		return nil
	}
	out := make([]Agreement, len(parts[0]))
	for i := range out {
		s := Agreement{Code: parts[0][i].Code}
		for _, p := range parts {
			s.TruePositives += p[i].TruePositives
			s.FalsePositives += p[i].FalsePositives
			s.FalseNegatives += p[i].FalseNegatives
			s.TrueNegatives += p[i].TrueNegatives
		}
		s.Gold, s.Tagged = s.TruePositives+s.FalseNegatives, s.TruePositives+s.FalsePositives
		sc := Score{TruePositives: s.TruePositives, FalsePositives: s.FalsePositives, FalseNegatives: s.FalseNegatives}
		sc.finish()
		s.Precision, s.Recall, s.F1 = sc.Precision, sc.Recall, sc.F1
		s.Kappa = kappa(s.TruePositives, s.FalsePositives, s.FalseNegatives, s.TrueNegatives)
		out[i] = s
	}
	return out
}
