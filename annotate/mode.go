package annotate

import (
	"context"
	"strings"

	"github.com/harkworks/hark"
)

// Mode says which taggers tag a transcript.
type Mode string

// The modes a deployment can choose.
const (
	// ModeRules tags with the rule tagger only: no network, no cost.
	ModeRules Mode = "rules"
	// ModeLLM tags with the LLM tagger only.
	ModeLLM Mode = "llm"
	// ModeRulesLLM tags with the rule tagger and then asks the LLM to
	// confirm, reject and add: see Tagger.
	ModeRulesLLM Mode = "rules+llm"
	// ModeRulesModel tags with the rule tagger and a trained model
	// together: see ModelTagger.
	ModeRulesModel Mode = "rules+model"
)

// Modes lists the modes, for help texts.
var Modes = []Mode{ModeRules, ModeLLM, ModeRulesLLM, ModeRulesModel}

// ParseMode returns the mode named s ("rules", "llm" or "rules+llm"), or
// an EINVALID error.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case ModeRules, ModeLLM, ModeRulesLLM, ModeRulesModel:
		return m, nil
	case "":
		return ModeRules, nil
	}
	return "", hark.Errorf(hark.EINVALID, "unknown tagger %q: use rules, llm, rules+llm or rules+model", s)
}

// NeedsLLM reports whether the mode uses the LLM tagger.
func (m Mode) NeedsLLM() bool { return m == ModeLLM || m == ModeRulesLLM }

// Tagger is the tagger a deployment runs: the rule tagger, the LLM tagger,
// or both, as its Mode says.
//
// In rules+llm mode the rule tagger runs first and its tags go to the LLM
// as candidates with the batch they fall in. Then:
//   - a rule tag the LLM also gives (same segment and code) is confirmed:
//     it keeps its evidence and Source rules, and its confidence rises
//     halfway to 1;
//   - a tag only the LLM gives is added with Source llm;
//   - a rule tag the LLM explicitly rejects is dropped, and counted in
//     TagStats.Rejected: the LLM reads the whole turn and its context, the
//     rules only cues and form, so a veto from the stronger reader removes a
//     false positive a coach would otherwise have to reject by hand;
//   - a rule tag the LLM neither gives nor rejects is kept as it is.
//
// Every tag records its Source, and the annotations the codebook and its
// version. A Tagger is safe for concurrent use.
type Tagger struct {
	mode  Mode
	rules *RuleTagger
	llm   *LLMTagger
	model *ModelTagger
}

var _ hark.Tagger = (*Tagger)(nil)

// NewTagger returns a tagger for the mode. rules is needed for every mode
// but llm, llm for llm and rules+llm, model for rules+model; the others
// may be nil. All must use the same codebook. Errors are EINVALID.
func NewTagger(mode Mode, rules *RuleTagger, llm *LLMTagger, model *Model) (*Tagger, error) {
	switch mode {
	case ModeRules, ModeLLM, ModeRulesLLM, ModeRulesModel:
	default:
		return nil, hark.Errorf(hark.EINVALID, "unknown tagger %q: use rules, llm, rules+llm or rules+model", mode)
	}
	if mode != ModeLLM && rules == nil {
		return nil, hark.Errorf(hark.EINVALID, "tagger %s needs the rule tagger", mode)
	}
	if mode.NeedsLLM() && llm == nil {
		return nil, hark.Errorf(hark.EINVALID, "tagger %s needs the LLM tagger: set HARK_LLM_MODEL (and HARK_LLM_BASE_URL, HARK_LLM_API_KEY)", mode)
	}
	if mode == ModeRulesLLM && (rules.codebook != llm.cb.ID || rules.version != llm.cb.Version) {
		return nil, hark.Errorf(hark.EINVALID, "tagger rules+llm: the rule tagger uses codebook %s %s and the LLM tagger %s %s", rules.codebook, rules.version, llm.cb.ID, llm.cb.Version)
	}
	tg := &Tagger{mode: mode, rules: rules, llm: llm}
	if mode == ModeRulesModel {
		if model == nil {
			return nil, hark.Errorf(hark.EINVALID, "tagger rules+model needs a model: train one with `hark train`")
		}
		mt, err := NewModelTagger(rules, model)
		if err != nil {
			return nil, err
		}
		tg.model = mt
	}
	return tg, nil
}

// Name returns the mode: "rules", "llm", "rules+llm" or "rules+model".
func (tg *Tagger) Name() string { return string(tg.mode) }

// Mode returns the tagger's mode.
func (tg *Tagger) Mode() Mode { return tg.mode }

// Tag tags the transcript. See TagStats.
func (tg *Tagger) Tag(ctx context.Context, t *hark.Transcript) (*hark.Annotations, error) {
	a, stats, err := tg.TagStats(ctx, t)
	if a != nil {
		m := MeasureSession(t, a)
		a.Metrics = &m
		turns := readTurns(t, a)
		a.Moments, a.Family = suggest(t, turns), measureFamily(t, turns)
	}
	if a != nil && stats.Usage.Requests > 0 {
		dropped := 0
		for _, n := range stats.Dropped {
			dropped += n
		}
		a.Usage = &hark.TaggerUsage{Model: stats.Model, Requests: stats.Usage.Requests, PromptTokens: stats.Usage.PromptTokens,
			CompletionTokens: stats.Usage.CompletionTokens, TotalTokens: stats.Usage.TotalTokens, Dropped: dropped}
	}
	return a, err
}

// TagStats tags the transcript and says what the LLM cost and how the
// taggers agreed. The annotations' Tagger names the mode, with the model
// for modes that use one ("rules+llm:gpt-4o-mini"). Errors are those of
// RuleTagger.Tag and LLMTagger.TagStats.
func (tg *Tagger) TagStats(ctx context.Context, t *hark.Transcript) (*hark.Annotations, TagStats, error) {
	switch tg.mode {
	case ModeRules:
		a, err := tg.rules.Tag(ctx, t)
		stats := TagStats{Mode: ModeRules}
		if a != nil {
			stats.RuleTags, stats.Tags = len(a.Tags), len(a.Tags)
		}
		return a, stats, err
	case ModeLLM:
		return tg.llm.TagStats(ctx, t)
	case ModeRulesModel:
		a, err := tg.model.Tag(ctx, t)
		stats := TagStats{Mode: ModeRulesModel}
		if a != nil {
			stats.Tags = len(a.Tags)
		}
		return a, stats, err
	}
	stats := TagStats{Mode: ModeRulesLLM, Model: tg.llm.cfg.Model}
	ra, err := tg.rules.Tag(ctx, t)
	if err != nil {
		return nil, stats, err
	}
	stats.RuleTags = len(ra.Tags)
	res, err := tg.llm.run(ctx, t, true, ra.Tags, &stats)
	if err != nil {
		return nil, stats, err
	}
	stats.LLMTags = len(res.tags)
	tags := combine(ra.Tags, res, &stats)
	sortTags(t, tags, tg.llm.order)
	stats.Tags = len(tags)
	return tg.llm.annotations(t, ModeRulesLLM, tags), stats, nil
}

// combine merges rule tags with the LLM's verdict, as Tagger describes.
func combine(rules []hark.Tag, res llmResult, stats *TagStats) []hark.Tag {
	llm := make(map[segCode]int, len(res.tags))
	for i, t := range res.tags {
		llm[segCode{t.Segment, t.Code}] = i
	}
	used := make([]bool, len(res.tags))
	out := make([]hark.Tag, 0, len(rules)+len(res.tags))
	for _, r := range rules {
		k := segCode{r.Segment, r.Code}
		if i, ok := llm[k]; ok {
			used[i] = true
			r.Confidence = confirmed(r.Confidence)
			stats.Confirmed++
			out = append(out, r)
			continue
		}
		if res.rejected[k] {
			stats.Rejected++
			continue
		}
		out = append(out, r)
	}
	for i, t := range res.tags {
		if !used[i] {
			stats.Added++
			out = append(out, t)
		}
	}
	return out
}

// confirmed is the confidence of a rule tag the LLM confirmed: halfway
// from its own to 1.
func confirmed(c float64) float64 {
	return c + (1-c)/2
}
