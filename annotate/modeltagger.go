package annotate

import (
	"context"
	"slices"
	"strings"

	"github.com/harkworks/hark"
)

// SourceModel is the source of a tag the model found without the rules.
const SourceModel hark.Source = "model"

// ModelTagger tags with the rule tagger and a trained Model together. For
// each code the model has, on each turn the code applies to:
//   - a rule tag whose turn the model gives at least the code's
//     RuleThreshold is kept, with the rules' evidence and the model's
//     probability as its confidence;
//   - a rule tag below it is dropped (the rules' false alarm);
//   - a turn the rules did not tag but the model gives at least the
//     code's Threshold is tagged, Source model, the sentence that weighs
//     most for the code as its evidence.
//
// Codes the model does not have keep the rules' tags. Then a rule tag
// the model is not sure of (below the code's Threshold) is dropped from a
// turn that has a tag of a code that outweighs it (the codebook's
// outweighed_by); last, a tag that another on its turn rules out (the
// codebook's ruled_out_by) is dropped.
// A ModelTagger is safe for concurrent use.
type ModelTagger struct {
	rules *RuleTagger
	model *Model
}

var _ hark.Tagger = (*ModelTagger)(nil)

// NewModelTagger returns the tagger; the model must be for the rule
// tagger's codebook.
func NewModelTagger(rules *RuleTagger, m *Model) (*ModelTagger, error) {
	if rules == nil || m == nil {
		return nil, hark.Errorf(hark.EINVALID, "model tagger: needs the rule tagger and a model")
	}
	if m.Codebook != rules.codebook {
		return nil, hark.Errorf(hark.EINVALID, "model %s is for codebook %q, the rule tagger's is %q", m.Version, m.Codebook, rules.codebook)
	}
	return &ModelTagger{rules: rules, model: m}, nil
}

// Name returns "rules+model".
func (mt *ModelTagger) Name() string { return string(ModeRulesModel) }

// Model returns the tagger's model.
func (mt *ModelTagger) Model() *Model { return mt.model }

// Tag tags the transcript.
func (mt *ModelTagger) Tag(ctx context.Context, t *hark.Transcript) (*hark.Annotations, error) {
	var shapes []uint16
	ann, err := mt.rules.tag(ctx, t, &shapes)
	if err != nil {
		return nil, err
	}
	segs := t.Segments
	pos := make(map[int]int, len(segs))
	for i, s := range segs {
		pos[s.Index] = i
	}
	rulesOn := make([][]string, len(segs))
	for _, tag := range ann.Tags {
		if i, ok := pos[tag.Segment]; ok {
			rulesOn[i] = append(rulesOn[i], tag.Code)
		}
	}
	type key struct {
		seg  int
		code string
	}
	keep := map[key]float64{} // rule tags kept, with their new confidence
	var added []hark.Tag
	var ws, pws []string
	var feats []int32
	var vals []float32
	for i := range segs {
		if i&127 == 127 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		seg := &segs[i]
		applies := false
		for k := range mt.rules.codes {
			applies = applies || mt.model.Codes[mt.rules.codes[k].id] != nil && mt.rules.codes[k].code.AppliesTo(seg.Role)
		}
		if !applies {
			continue
		}
		v := viewOf(segs, rulesOn, shapes, i)
		ws = words(seg.Text, ws[:0])
		pws = pws[:0]
		if i > 0 {
			pws = words(segs[i-1].Text, pws)
		}
		feats = mt.model.positions(&v, ws, pws, feats)
		vals = values(mt.model.group, feats, vals)
		for k := range mt.rules.codes {
			cr := &mt.rules.codes[k]
			cm := mt.model.Codes[cr.id]
			if cm == nil || !cr.code.AppliesTo(seg.Role) {
				continue
			}
			p := cm.probability(feats, vals)
			ruled := false
			for _, c := range rulesOn[i] {
				ruled = ruled || c == cr.id
			}
			switch {
			case ruled && p >= cm.RuleThreshold:
				keep[key{seg.Index, cr.id}] = p
			case !ruled && p >= cm.Threshold:
				start, end := mt.evidence(&v, pws, cm, seg.Text)
				added = append(added, hark.Tag{Segment: seg.Index, Code: cr.id, Start: start, End: end,
					Evidence: seg.Text[start:end], Confidence: p, Source: SourceModel})
			}
		}
	}
	tags := ann.Tags[:0]
	for _, tag := range ann.Tags {
		if mt.model.Codes[tag.Code] == nil {
			tags = append(tags, tag)
			continue
		}
		if p, ok := keep[key{tag.Segment, tag.Code}]; ok {
			tag.Confidence = p
			tags = append(tags, tag)
		}
	}
	tags = mt.dropOutweighed(append(tags, added...))
	tags = mt.rules.dropRuledOut(tags)
	order := make(map[string]int, len(mt.rules.codes))
	for i, c := range mt.rules.codes {
		order[c.id] = i
	}
	sortTags(t, tags, order)
	ann.Tags = tags
	ann.Tagger = mt.Name() + ":" + mt.model.Version
	return ann, nil
}

// dropOutweighed drops the rule tags the model is not sure of from turns
// that have a tag of a code outweighing them (the codebook's
// outweighed_by), judged on the tags as they were before any is dropped,
// keeping the order of the rest. A kept rule tag's confidence is the
// model's probability.
func (mt *ModelTagger) dropOutweighed(tags []hark.Tag) []hark.Tag {
	if len(mt.rules.outweighedBy) == 0 {
		return tags
	}
	// The codes on the turns that have a tag that could be outweighed.
	var on map[int][]string
	for _, t := range tags {
		if mt.rules.outweighedBy[t.Code] != nil && t.Source != SourceModel {
			if on == nil {
				on = map[int][]string{}
			}
			on[t.Segment] = nil
		}
	}
	if on == nil {
		return tags
	}
	for _, t := range tags {
		if codes, ok := on[t.Segment]; ok {
			on[t.Segment] = append(codes, t.Code)
		}
	}
	out := tags[:0]
	for _, t := range tags {
		cm := mt.model.Codes[t.Code]
		if cm != nil && t.Source != SourceModel && t.Confidence < cm.Threshold &&
			slices.ContainsFunc(mt.rules.outweighedBy[t.Code], func(c string) bool { return slices.Contains(on[t.Segment], c) }) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// viewOf is turn i as the features see it.
func viewOf(segs []hark.Segment, rulesOn [][]string, shapes []uint16, i int) turnView {
	v := turnView{text: segs[i].Text, rules: rulesOn[i], shape: shapes[i]}
	if i > 0 {
		p := &segs[i-1]
		v.prev, v.prevRole, v.prevRule, v.prevShape = p.Text, p.Role, rulesOn[i-1], shapes[i-1]
		v.sameSpk = p.Speaker != "" && p.Speaker == segs[i].Speaker || p.Speaker == "" && p.Role == segs[i].Role
	}
	return v
}

// evidence is the sentence of text that weighs most for the code: its
// start and end in bytes.
func (mt *ModelTagger) evidence(v *turnView, pws []string, cm *CodeModel, text string) (int, int) {
	spans := sentenceSpans(text)
	if len(spans) == 1 {
		return spans[0][0], spans[0][1]
	}
	best, bestZ := 0, 0.0
	var ws []string
	var feats []int32
	var vals []float32
	for k, sp := range spans {
		sv := *v
		sv.text = text[sp[0]:sp[1]]
		ws = words(sv.text, ws[:0])
		feats = mt.model.positions(&sv, ws, pws, feats)
		vals = values(mt.model.group, feats, vals)
		if z := cm.logit(feats, vals); k == 0 || z > bestZ {
			best, bestZ = k, z
		}
	}
	return spans[best][0], spans[best][1]
}

// sentenceSpans cuts text into sentences at . ? ! followed by a space,
// each span without the spaces around it; text without such marks (a
// speech engine's) is one sentence.
func sentenceSpans(text string) [][2]int {
	var out [][2]int
	start := 0
	add := func(a, b int) {
		for a < b && text[a] == ' ' {
			a++
		}
		for b > a && text[b-1] == ' ' {
			b--
		}
		if a < b {
			out = append(out, [2]int{a, b})
		}
	}
	for i := 0; i < len(text); i++ {
		if c := text[i]; (c == '.' || c == '?' || c == '!') && (i+1 == len(text) || text[i+1] == ' ') {
			add(start, i+1)
			start = i + 1
		}
	}
	add(start, len(text))
	if len(out) == 0 {
		out = append(out, [2]int{0, len(strings.TrimRight(text, " "))})
	}
	return out
}
