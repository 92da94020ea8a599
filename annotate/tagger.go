package annotate

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/harkworks/hark"
)

// RuleTagger is hark's default tagger: fast, deterministic and explainable.
// Every tag it makes carries the sentence that triggered it as evidence.
//
// It combines built-in rules for the standard codes, which look at sentence
// form and at the previous turn of the other speaker, with the codebook's
// cues, regular expressions matched case-insensitively against each
// sentence. A code a team adds to its own codebook with only cues is found
// through its cues.
//
// It tags at most one sentence per code in each segment, the one with the
// strongest evidence, so counts are counts of turns.
//
// A code applies only to the roles the codebook gives it (Code.AppliesTo).
// Segments whose role is unknown therefore never carry worker-only or
// parent-only codes: a transcript needs its speakers' roles before those
// codes can be found.
//
// A RuleTagger is safe for concurrent use.
type RuleTagger struct {
	codebook string
	version  string
	codes    []codeRule
	lx       lexicon
	re       *builtinRegexps
	// notReflection matches what is never a reflection even when it gives
	// the parent's words back: the cues of affirmation and of dismissing
	// the parent's view. Nil when the codebook has neither.
	notReflection *guardedRE
	pf            *prefilter
	weights       [rfCount]int // of the features of a reflection
	// ruledOutBy are, by code, the codes whose tag on a turn rules it out
	// of the turn (the codebook's ruled_out_by).
	ruledOutBy map[string][]string
	// outweighedBy are, by code, the codes whose tag on a turn drops the
	// code's rule tag unless the model is sure of it (the codebook's
	// outweighed_by; ModelTagger only).
	outweighedBy map[string][]string
}

var _ hark.Tagger = (*RuleTagger)(nil)

// codeRule is one code of the codebook, ready to match.
type codeRule struct {
	id   string
	code hark.Code
	cue  *guardedRE // the code's cues; nil without cues
}

// Confidence of a tag found only through a codebook cue.
const cueConfidence = 0.6

// NewRuleTagger returns a rule tagger for the codebook. It compiles every
// cue once, so a codebook whose cues are not valid regular expressions is
// rejected with an EINVALID error naming the code and the cue.
func NewRuleTagger(cb *hark.Codebook) (*RuleTagger, error) {
	if cb == nil {
		return nil, hark.Errorf(hark.EINVALID, "rule tagger: no codebook")
	}
	if cb.ID == "" || cb.Version == "" {
		return nil, hark.Errorf(hark.EINVALID, "rule tagger: the codebook needs an id and a version")
	}
	pb := &prefilterBuilder{}
	rt := &RuleTagger{
		codebook: cb.ID,
		version:  cb.Version,
		lx:       newLexicon(),
		re:       compileBuiltins(pb),
		weights:  defaultReflectionWeights(),
	}
	for _, c := range cb.Codes {
		cr := codeRule{id: c.ID, code: c}
		if len(c.Cues) > 0 {
			for _, cue := range c.Cues {
				if _, err := regexp.Compile(cue); err != nil {
					return nil, hark.WrapError(hark.EINVALID, err, "rule tagger: code %q: cue %q is not a valid regular expression", c.ID, cue)
				}
			}
			g, err := pb.add(c.Cues...)
			if err != nil {
				return nil, hark.WrapError(hark.EINVALID, err, "rule tagger: code %q: cues", c.ID)
			}
			cr.cue = g
		}
		rt.codes = append(rt.codes, cr)
		if len(c.RuledOutBy) > 0 {
			if rt.ruledOutBy == nil {
				rt.ruledOutBy = map[string][]string{}
			}
			rt.ruledOutBy[c.ID] = c.RuledOutBy
		}
		if len(c.OutweighedBy) > 0 {
			if rt.outweighedBy == nil {
				rt.outweighedBy = map[string][]string{}
			}
			rt.outweighedBy[c.ID] = c.OutweighedBy
		}
	}
	// An affirmation or a dismissal is its own act, not a reflection.
	var others []string
	for _, c := range cb.Codes {
		if c.ID == codeAffirmation || c.ID == codeDismissing {
			others = append(others, c.Cues...)
		}
	}
	if len(others) > 0 {
		g, err := pb.add(others...)
		if err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "rule tagger: cues")
		}
		rt.notReflection = g
	}
	rt.pf = pb.build()
	return rt, nil
}

// Name returns "rules", the name recorded in every annotation it makes.
func (rt *RuleTagger) Name() string { return "rules" }

// Tag finds the codebook's practice markers in the transcript. It returns
// EINVALID for a nil transcript and the context's error if ctx is done.
func (rt *RuleTagger) Tag(ctx context.Context, t *hark.Transcript) (*hark.Annotations, error) {
	ann, err := rt.tag(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	ann.Tags = rt.dropRuledOut(ann.Tags)
	return ann, nil
}

// dropRuledOut drops the tags that another tag on the same turn rules out
// (the codebook's ruled_out_by), judged on the tags as they were before
// any is dropped (two codes that rule each other out both go), keeping
// the order of the rest.
func (rt *RuleTagger) dropRuledOut(tags []hark.Tag) []hark.Tag {
	if len(rt.ruledOutBy) == 0 {
		return tags
	}
	on := map[int][]string{}
	for _, t := range tags {
		on[t.Segment] = append(on[t.Segment], t.Code)
	}
	out := tags[:0]
	for _, t := range tags {
		out = append(out, t)
		for _, c := range rt.ruledOutBy[t.Code] {
			if slices.Contains(on[t.Segment], c) {
				out = out[:len(out)-1]
				break
			}
		}
	}
	return out
}

// Bits of a turn's shape, as the rule tagger read it: the forms of its
// sentences (1 << form), and these.
const (
	shapeSo     uint16 = 1 << (iota + 10) // a sentence led by "so"
	shapeCut                              // a sentence broken off
	shapeFirstQ                           // the first sentence asks
	shapeLastQ                            // the last sentence asks
)

// tag tags t; with shapes set, it also puts in (*shapes)[i] the shape of
// segment i.
func (rt *RuleTagger) tag(ctx context.Context, t *hark.Transcript, shapes *[]uint16) (*hark.Annotations, error) {
	if t == nil {
		return nil, hark.Errorf(hark.EINVALID, "rule tagger: no transcript")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	total := 0
	for i := range t.Segments {
		total += len(t.Segments[i].Text)
	}
	a := &analysis{
		lx:    rt.lx,
		low:   make([]byte, 0, total),
		toks:  make([]token, 0, total/5+8),
		sents: make([]sentence, 0, total/40+8),
	}
	infos := make([]segInfo, len(t.Segments))
	ann := &hark.Annotations{
		Schema:          hark.SchemaVersion,
		RecordingID:     t.RecordingID,
		Codebook:        rt.codebook,
		CodebookVersion: rt.version,
		Tagger:          rt.Name(),
		Tags:            make([]hark.Tag, 0, len(t.Segments)/2+1),
	}
	var ctxToks []int32
	reflected := make([]bool, len(t.Segments))
	for i := range t.Segments {
		if i&127 == 127 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		seg := &t.Segments[i]
		infos[i] = a.addSegment(seg.Text)
		rt.scan(a, seg.Text, infos[i])
		if shapes != nil {
			*shapes = append(*shapes, shapeOf(a, infos[i]))
		}
		sc := previousTurn(a, t.Segments, infos, i, ctxToks[:0])
		sc.continues = continuesReflection(t.Segments, infos, reflected, i)
		ctxToks = sc.prev
		for k := range rt.codes {
			cr := &rt.codes[k]
			if !cr.code.AppliesTo(seg.Role) {
				continue
			}
			if tag, ok := rt.tagCode(a, seg, infos[i], cr, sc); ok {
				tag.Segment = seg.Index
				ann.Tags = append(ann.Tags, tag)
				reflected[i] = reflected[i] || cr.id == codeReflection
			}
		}
	}
	return ann, nil
}

// shapeOf is the shape of the segment's sentences.
func shapeOf(a *analysis, info segInfo) uint16 {
	var sh uint16
	for k := info.s0; k < info.s1; k++ {
		s := &a.sents[k]
		sh |= 1 << s.form
		if s.so {
			sh |= shapeSo
		}
		if s.cut {
			sh |= shapeCut
		}
		if s.isQuestion() {
			if k == info.s0 {
				sh |= shapeFirstQ
			}
			if k == info.s1-1 {
				sh |= shapeLastQ
			}
		}
	}
	return sh
}

// scan runs the prefilter over each sentence of a segment, and keeps the
// union for the whole segment.
func (rt *RuleTagger) scan(a *analysis, text string, info segInfo) {
	// Lower-casing bytes misses the two letters that fold to ASCII ones.
	fold := strings.Contains(text, "\u212a") || strings.Contains(text, "\u017f")
	a.words = rt.pf.words
	a.bits = a.bits[:0]
	for w := 0; w < a.words; w++ {
		a.bits = append(a.bits, 0)
	}
	a.sbits = a.sbits[:int(info.s0)*a.words]
	for k := info.s0; k < info.s1; k++ {
		s := &a.sents[k]
		n := len(a.sbits)
		a.sbits = rt.pf.scanAppend(a.low[info.base+s.start:info.base+s.end], fold, a.sbits)
		for w := 0; w < a.words; w++ {
			a.bits[w] |= a.sbits[n+w]
		}
	}
}

// speakerOf names who says a segment: its speaker label, or its role when
// the transcript has no labels.
func speakerOf(s *hark.Segment) string {
	if s.Speaker != "" {
		return s.Speaker
	}
	return string(s.Role)
}

// previousTurn finds the other speaker's turn before segment i: the
// segments by someone else since this speaker last said something of
// substance. Backchannels ("Mm-hmm.") are skipped on both sides, so a
// reflection split by the parent's "Yeah" still finds what it reflects. The
// content tokens are appended to dst.
func previousTurn(a *analysis, segs []hark.Segment, infos []segInfo, i int, dst []int32) segContext {
	sc := segContext{}
	me := speakerOf(&segs[i])
	found := false
	for j := i - 1; j >= 0 && j >= i-6; j-- {
		info := infos[j]
		if speakerOf(&segs[j]) == me {
			if found && info.content > 0 {
				break
			}
			continue
		}
		if info.content == 0 {
			continue
		}
		for k := info.t0; k < info.t1; k++ {
			if a.toks[k].stem > 0 {
				dst = append(dst, k)
			}
		}
		sc.prevAsked = sc.prevAsked || info.asks
		found = true
	}
	sc.prev = dst
	return sc
}

// continuesReflection reports whether segment i carries on a reflection its
// speaker began before the other speaker's backchannel: in "So you've been
// working hard-" / "Mm-hmm." / "-and it's paying off", the second half is
// part of the same reflection. Transcripts mark such a continuation with a
// leading dash or ellipsis.
func continuesReflection(segs []hark.Segment, infos []segInfo, reflected []bool, i int) bool {
	text := strings.TrimLeft(segs[i].Text, " \t")
	if !(strings.HasPrefix(text, "-") || strings.HasPrefix(text, "—") || strings.HasPrefix(text, "–") || strings.HasPrefix(text, "…") || strings.HasPrefix(text, "...")) {
		return false
	}
	me := speakerOf(&segs[i])
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		if speakerOf(&segs[j]) == me {
			return reflected[j]
		}
		if !infos[j].backchannel && infos[j].content > 0 {
			return false
		}
	}
	return false
}

// segContext is what the rules know about a segment's place in the
// conversation.
type segContext struct {
	prev      []int32 // content tokens of the other speaker's previous turn
	prevAsked bool    // that turn asked a question
	continues bool    // the segment carries on its speaker's reflection
}

// candidate is the best evidence found so far for one code in one segment.
type candidate struct {
	start, end int
	conf       float64
}

// tagCode looks for one code in one segment.
func (rt *RuleTagger) tagCode(a *analysis, seg *hark.Segment, info segInfo, cr *codeRule, sc segContext) (hark.Tag, bool) {
	text := seg.Text
	var best candidate
	consider := func(s *sentence, conf float64) {
		if conf > best.conf {
			best = candidate{start: s.start, end: s.end, conf: conf}
		}
	}
	// Built-in rules.
	for k := info.s0; k < info.s1; k++ {
		s := &a.sents[k]
		if conf := rt.builtin(a, s, text[s.start:s.end], cr.id, &sc, info); conf > 0 {
			consider(s, conf)
		}
	}
	if best.conf == 0 && cr.id == codeReflection && sc.continues && info.s1 > info.s0 {
		s := &a.sents[info.s0]
		if st := text[s.start:s.end]; !s.isQuestion() && !rt.re.reassures.match(a.sentBits(s, st), st) {
			consider(s, 0.55)
		}
	}
	// Cues: the first sentence with a match the code's exclusions allow.
	if cr.cue != nil && cr.cue.possible(a.bits) {
		for k := info.s0; k < info.s1; k++ {
			s := &a.sents[k]
			st := text[s.start:s.end]
			bits := a.sentBits(s, st)
			if !cr.cue.match(bits, st) || rt.excluded(a, s, st, cr.id) {
				continue
			}
			conf := cueConfidence
			if best.conf > 0 && best.start == s.start {
				conf = min(0.95, best.conf+0.1) // a cue and a rule agree
			}
			consider(s, conf)
			break
		}
	}
	if best.conf == 0 {
		return hark.Tag{}, false
	}
	return hark.Tag{
		Code:       cr.id,
		Start:      best.start,
		End:        best.end,
		Evidence:   text[best.start:best.end],
		Confidence: best.conf,
		Source:     hark.SourceRules,
		Review:     hark.ReviewPending,
	}, true
}

// builtin runs the built-in rule for code id on one sentence and returns
// the tag's confidence, or 0 when the rule does not find the code.
func (rt *RuleTagger) builtin(a *analysis, s *sentence, text, id string, sc *segContext, info segInfo) float64 {
	switch id {
	case codeReflection:
		if score := rt.reflectionScore(a, s, text, sc, info); score >= reflectionThreshold {
			return min(0.95, 0.5+0.05*float64(score))
		}
	case codeOpenQ:
		if s.form == formOpen {
			return 0.85
		}
	case codeThreat:
		if rt.isThreat(a, s, text) {
			return 0.8
		}
	case codeDirective:
		if ok, conf := rt.isDirective(a, s, text, false); ok {
			return conf
		}
	}
	return 0
}

// excluded reports whether a cue match in sentence s must be dropped: the
// built-in exclusions of the standard codes.
func (rt *RuleTagger) excluded(a *analysis, s *sentence, text, id string) bool {
	switch id {
	case codeReflection:
		return s.isQuestion() || s.form == formBackchannel || rt.isThreat(a, s, text) || rt.re.reassures.match(a.sentBits(s, text), text)
	case codeOpenQ:
		return s.form == formYesNo || s.form == formClosedWh || s.form == formWhyNot
	case codeThreat:
		bits := a.sentBits(s, text)
		return rt.re.reassurance.match(bits, text) && !rt.re.noChoice.match(bits, text)
	case codeExplaining:
		return s.isQuestion() || rt.isThreat(a, s, text)
	case codeDirective:
		ok, _ := rt.isDirective(a, s, text, true)
		return !ok
	case codeAffirmation, codeShared:
		return s.isQuestion()
	}
	return false
}
