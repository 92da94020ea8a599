package annotate

import (
	"context"
	"regexp"
	"strings"

	"github.com/harkworks/hark"
)

// RuleTagger is hark's default tagger: fast, deterministic and explainable.
// Every tag it makes carries the sentence that triggered it as evidence.
//
// It combines built-in rules for the standard codes, which look at sentence
// form and at the previous turn of the other speaker, with the codebook's
// cues, which are regular expressions matched case-insensitively. A code a
// team adds to its own codebook with only cues is found through its cues.
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
}

var _ hark.Tagger = (*RuleTagger)(nil)

// codeRule is one code of the codebook, ready to match.
type codeRule struct {
	id   string
	code hark.Code
	cue  *regexp.Regexp // every cue of the code in one expression; nil without cues
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
	rt := &RuleTagger{
		codebook: cb.ID,
		version:  cb.Version,
		lx:       newLexicon(),
		re:       compileBuiltins(),
	}
	for _, c := range cb.Codes {
		cr := codeRule{id: c.ID, code: c}
		cr.code.Cues = append([]string(nil), c.Cues...)
		if len(c.Cues) > 0 {
			parts := make([]string, len(c.Cues))
			for i, cue := range c.Cues {
				if _, err := regexp.Compile(cue); err != nil {
					return nil, hark.WrapError(hark.EINVALID, err, "rule tagger: code %q: cue %q is not a valid regular expression", c.ID, cue)
				}
				parts[i] = "(?:" + cue + ")"
			}
			re, err := regexp.Compile("(?i)" + strings.Join(parts, "|"))
			if err != nil {
				return nil, hark.WrapError(hark.EINVALID, err, "rule tagger: code %q: cues", c.ID)
			}
			cr.cue = re
		}
		rt.codes = append(rt.codes, cr)
	}
	return rt, nil
}

// Name returns "rules", the name recorded in every annotation it makes.
func (rt *RuleTagger) Name() string { return "rules" }

// Tag finds the codebook's practice markers in the transcript. It returns
// EINVALID for a nil transcript and the context's error if ctx is done.
func (rt *RuleTagger) Tag(ctx context.Context, t *hark.Transcript) (*hark.Annotations, error) {
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
	for i := range t.Segments {
		if i&127 == 127 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		seg := &t.Segments[i]
		infos[i] = a.addSegment(seg.Text)
		ctxToks = previousTurn(a, t.Segments, infos, i, ctxToks[:0])
		for k := range rt.codes {
			cr := &rt.codes[k]
			if !cr.code.AppliesTo(seg.Role) {
				continue
			}
			if tag, ok := rt.tagCode(a, seg, infos[i], cr, ctxToks); ok {
				tag.Segment = seg.Index
				ann.Tags = append(ann.Tags, tag)
			}
		}
	}
	return ann, nil
}

// speakerOf names who says a segment: its speaker label, or its role when
// the transcript has no labels.
func speakerOf(s *hark.Segment) string {
	if s.Speaker != "" {
		return s.Speaker
	}
	return string(s.Role)
}

// previousTurn appends to dst the content tokens of the other speaker's
// turn before segment i: the segments by someone else since this speaker
// last said something of substance. Backchannels ("Mm-hmm.") are skipped on
// both sides, so a reflection split by the parent's "Yeah" still finds what
// it reflects.
func previousTurn(a *analysis, segs []hark.Segment, infos []segInfo, i int, dst []int32) []int32 {
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
		found = true
	}
	return dst
}

// candidate is the best evidence found so far for one code in one segment.
type candidate struct {
	start, end int
	conf       float64
}

// tagCode looks for one code in one segment.
func (rt *RuleTagger) tagCode(a *analysis, seg *hark.Segment, info segInfo, cr *codeRule, ctx []int32) (hark.Tag, bool) {
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
		if conf := rt.builtin(a, s, text[s.start:s.end], cr.id, ctx); conf > 0 {
			consider(s, conf)
		}
	}
	// Cues: the first match in a sentence the code's exclusions allow.
	if cr.cue != nil {
		from := 0
		for from < len(text) {
			loc := cr.cue.FindStringIndex(text[from:])
			if loc == nil {
				break
			}
			ms, me := from+loc[0], from+loc[1]
			first, last := sentenceAt(a, info, ms), sentenceAt(a, info, max(ms, me-1))
			if first < 0 {
				from = me + 1
				continue
			}
			s := &a.sents[first]
			end := s.end
			if last >= first {
				end = max(end, a.sents[last].end)
			}
			if !rt.excluded(a, s, text[s.start:end], cr.id) {
				conf := cueConfidence
				if best.conf > 0 && best.start <= s.start && s.start < best.end {
					conf = min(0.95, best.conf+0.1) // a cue and a rule agree
				}
				if conf > best.conf {
					best = candidate{start: s.start, end: end, conf: conf}
				}
				break
			}
			from = max(end, me)
			if from <= ms {
				from = ms + 1
			}
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

// sentenceAt returns the index of the sentence of the segment that holds
// byte offset off, or -1 when off falls between sentences.
func sentenceAt(a *analysis, info segInfo, off int) int {
	for k := info.s0; k < info.s1; k++ {
		s := &a.sents[k]
		if off < s.start {
			return int(k) // in the space before a sentence: take that sentence
		}
		if off < s.end {
			return int(k)
		}
	}
	if info.s1 > info.s0 {
		return int(info.s1 - 1)
	}
	return -1
}

// builtin runs the built-in rule for code id on one sentence and returns
// the tag's confidence, or 0 when the rule does not find the code.
func (rt *RuleTagger) builtin(a *analysis, s *sentence, text, id string, ctx []int32) float64 {
	switch id {
	case codeReflection:
		if score := rt.reflectionScore(a, s, text, ctx); score >= 3 {
			return min(0.95, 0.35+0.1*float64(score))
		}
	case codeOpenQ:
		if s.form == formOpen {
			return 0.85
		}
	case codeThreat:
		if rt.isThreat(text) {
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
		return s.isQuestion() || s.form == formBackchannel || rt.isThreat(text)
	case codeOpenQ:
		return s.form == formYesNo || s.form == formClosedWh || s.form == formWhyNot
	case codeThreat:
		return rt.re.reassurance.MatchString(text) && !rt.re.noChoice.MatchString(text)
	case codeExplaining:
		return s.isQuestion() || rt.isThreat(text)
	case codeDirective:
		ok, _ := rt.isDirective(a, s, text, true)
		return !ok
	case codeAffirmation, codeShared:
		return s.isQuestion()
	}
	return false
}
