package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/transcribe"
)

// AnnotateOutput is what `hark annotate --format json` prints: one segment
// per cue of the input, in input order, each with its tags, and the
// session's metrics, the moments suggested for a coach to start from and
// the figures from the parent's side. Scripts depend on its shape.
type AnnotateOutput struct {
	Segments []AnnotatedSegment  `json:"segments"`
	Metrics  hark.SessionMetrics `json:"metrics"`
	Moments  []hark.Moment       `json:"moments"`
	Family   *hark.FamilyLens    `json:"family"`
}

// AnnotatedSegment is one cue of the input with its tags. Index is the
// cue's position in the input, from 0.
type AnnotatedSegment struct {
	Index   int            `json:"index"`
	Start   float64        `json:"start"`
	End     float64        `json:"end"`
	Speaker string         `json:"speaker"`
	Role    hark.Role      `json:"role"`
	Text    string         `json:"text"`
	Tags    []AnnotatedTag `json:"tags"`
}

// AnnotatedTag is one tag of a segment. Start and End are byte offsets
// into the segment's text; Evidence is the text between them.
type AnnotatedTag struct {
	Code       string      `json:"code"`
	Start      int         `json:"start"`
	End        int         `json:"end"`
	Evidence   string      `json:"evidence"`
	Confidence float64     `json:"confidence"`
	Source     hark.Source `json:"source"`
}

type annotateOptions struct {
	codebook string
	workers  []string
	format   string
	tagger   string
	model    string
}

func newAnnotateCmd(g *globals) *cobra.Command {
	var o annotateOptions
	cmd := &cobra.Command{
		Use:   "annotate FILE",
		Short: "Tag a local transcript with practice markers, without a server",
		Long: `annotate reads a transcript file — WebVTT (.vtt, speakers as <v Name> voices),
SRT (.srt, speakers as "Name:" at the start of a cue) or hark transcript JSON
(.json) — tags it with the codebook's practice markers and prints each
segment with its tags, and the session's metrics.

Name the worker's speakers with --worker (repeat it for several); every other
speaker is then a parent. Without --worker, speakers called Worker, Social
worker, Parent, Mum, Dad, Child … get those roles (and a JSON transcript keeps
the roles it has); worker-only codes need the worker to be known.

--format json prints
  {"segments": [{"index", "start", "end", "speaker", "role", "text",
                 "tags": [{"code", "start", "end", "evidence", "confidence", "source"}]}],
   "metrics": {...}}
with one segment per cue, in input order; tag start and end are byte offsets
into the segment's text.

--tagger llm and rules+llm use a chat model on an OpenAI-compatible server:
HARK_LLM_BASE_URL, HARK_LLM_MODEL and HARK_LLM_API_KEY (or
HARK_LLM_API_KEY_FILE). What the model used is reported on stderr.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnnotate(cmd, g, &o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.codebook, "codebook", "", "codebook YAML file (default: hark's own)")
	f.StringArrayVar(&o.workers, "worker", nil, "speaker name that is the worker (repeatable); the other speakers are parents")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.StringVar(&o.tagger, "tagger", env("HARK_TAGGER", ""), taggerHelp)
	f.StringVar(&o.model, "model", env("HARK_MODEL", ""), "model file for --tagger rules+model (default: hark's own)")
	return cmd
}

func runAnnotate(cmd *cobra.Command, g *globals, o *annotateOptions, path string) error {
	if o.format != "text" && o.format != "json" {
		return hark.Errorf(hark.EINVALID, "unknown format %q: use text or json", o.format)
	}
	cb, err := loadCodebook(o.codebook)
	if err != nil {
		return err
	}
	tg, err := newTaggerFromEnv(o.tagger, o.model, cb, g.logger())
	if err != nil {
		return err
	}
	t, err := readTranscript(path, o.workers)
	if err != nil {
		return err
	}
	if len(o.workers) > 0 {
		if missing := unknownSpeakers(t, o.workers); len(missing) > 0 {
			fmt.Fprintf(g.stderr, "hark: warning: no speaker is called %s; the speakers are %s\n", strings.Join(missing, ", "), strings.Join(speakers(t), ", "))
		}
	}
	if !hasRole(t, hark.RoleWorker) {
		fmt.Fprintf(g.stderr, "hark: warning: no speaker is the worker, so worker codes cannot be found; name the worker with --worker (speakers: %s)\n", strings.Join(speakers(t), ", "))
	}
	a, stats, err := tg.TagStats(cmd.Context(), t)
	if err != nil {
		return err
	}
	reportStats(g.stderr, stats)
	out := annotateOutput(t, a)
	if o.format == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printAnnotations(g.stdout, filepath.Base(path), a, out)
	printMoments(g.stdout, out)
	return nil
}

// readTranscript reads a transcript file and gives its segments roles: the
// named workers' segments are the worker's and every other speaker's a
// parent's; without names, well-known speaker labels decide, and a JSON
// transcript keeps the roles it has. Segments are numbered by position.
func readTranscript(path string, workers []string) (*hark.Transcript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, hark.WrapError(hark.ENOTFOUND, err, "transcript %s does not exist", path)
		}
		return nil, hark.WrapError(hark.EINVALID, err, "read transcript %s", path)
	}
	name := filepath.Base(path)
	segs, err := transcribe.ParseSidecar(name, data)
	if err != nil {
		return nil, err
	}
	id := strings.TrimSuffix(name, filepath.Ext(name))
	if strings.EqualFold(filepath.Ext(name), ".json") {
		var head struct {
			RecordingID string `json:"recording_id"`
		}
		if json.Unmarshal(data, &head) == nil && head.RecordingID != "" {
			id = head.RecordingID
		}
	}
	had := make([]hark.Role, len(segs))
	for i := range segs {
		had[i] = segs[i].Role
		segs[i].Index = i
	}
	transcribe.AssignRoles(segs, workers...)
	if len(workers) == 0 {
		for i := range segs {
			if segs[i].Role == hark.RoleUnknown && had[i] != "" {
				if r, ok := hark.ParseRole(string(had[i])); ok {
					segs[i].Role = r
				}
			}
		}
	}
	return &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: id, Engine: "file", Segments: segs}, nil
}

// speakers lists the transcript's speakers in order of appearance.
func speakers(t *hark.Transcript) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range t.Segments {
		name := s.Speaker
		if name == "" {
			name = "(no name)"
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, strconv.Quote(name))
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

func unknownSpeakers(t *hark.Transcript, workers []string) []string {
	have := map[string]bool{}
	for _, s := range t.Segments {
		have[strings.ToLower(strings.TrimSpace(s.Speaker))] = true
	}
	var missing []string
	for _, w := range workers {
		if !have[strings.ToLower(strings.TrimSpace(w))] {
			missing = append(missing, strconv.Quote(w))
		}
	}
	return missing
}

func hasRole(t *hark.Transcript, r hark.Role) bool {
	for _, s := range t.Segments {
		if s.Role == r {
			return true
		}
	}
	return false
}

// annotateOutput puts each tag under its segment.
func annotateOutput(t *hark.Transcript, a *hark.Annotations) AnnotateOutput {
	out := AnnotateOutput{Segments: make([]AnnotatedSegment, len(t.Segments)), Metrics: annotate.MeasureSession(t, a),
		Moments: annotate.SuggestMoments(t, a), Family: annotate.MeasureFamily(t, a)}
	if out.Moments == nil {
		out.Moments = []hark.Moment{}
	}
	pos := make(map[int]int, len(t.Segments))
	for i, s := range t.Segments {
		pos[s.Index] = i
		out.Segments[i] = AnnotatedSegment{Index: s.Index, Start: s.Start, End: s.End, Speaker: s.Speaker, Role: s.Role, Text: s.Text, Tags: []AnnotatedTag{}}
	}
	for _, tag := range a.Tags {
		i, ok := pos[tag.Segment]
		if !ok {
			continue
		}
		out.Segments[i].Tags = append(out.Segments[i].Tags, AnnotatedTag{
			Code: tag.Code, Start: tag.Start, End: tag.End, Evidence: tag.Evidence, Confidence: tag.Confidence, Source: tag.Source,
		})
	}
	return out
}

// printAnnotations prints the transcript turn by turn with its tags, then
// the metrics.
func printAnnotations(w io.Writer, name string, a *hark.Annotations, out AnnotateOutput) {
	tags := 0
	for _, s := range out.Segments {
		tags += len(s.Tags)
	}
	fmt.Fprintf(w, "%s: %d segments, %d tags (codebook %s %s, tagger %s)\n", name, len(out.Segments), tags, a.Codebook, a.CodebookVersion, a.Tagger)
	for _, s := range out.Segments {
		who := s.Speaker
		if who == "" {
			who = "(no name)"
		}
		fmt.Fprintf(w, "\n[%d] %s  %s (%s)\n", s.Index, transcribe.FormatTimestamp(s.Start), who, s.Role)
		fmt.Fprintf(w, "    %s\n", s.Text)
		for _, t := range s.Tags {
			fmt.Fprintf(w, "    + %-24s %q  %.2f %s\n", t.Code, t.Evidence, t.Confidence, t.Source)
		}
	}
	m := out.Metrics
	fmt.Fprintf(w, "\nmetrics (%s):\n", time.Duration(m.DurationSeconds*float64(time.Second)).Round(time.Second))
	roles := make([]string, 0, len(m.Roles))
	for r := range m.Roles {
		roles = append(roles, string(r))
	}
	sort.Strings(roles)
	for _, r := range roles {
		rm := m.Roles[hark.Role(r)]
		fmt.Fprintf(w, "  %-8s %3.0f%% of talk, %d turns, longest monologue %.0fs\n", r, 100*rm.TalkShare, rm.Turns, rm.LongestMonologueSeconds)
	}
	ratio := "n/a (no questions)"
	if m.ReflectionToQuestion != nil {
		ratio = fmt.Sprintf("%.2f", *m.ReflectionToQuestion)
	}
	fmt.Fprintf(w, "  reflections %d, open questions %d, closed questions %d, reflection-to-question %s\n", m.Reflections, m.OpenQuestions, m.ClosedQuestions, ratio)
	codes := make([]string, 0, len(m.Codes))
	for c := range m.Codes {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Fprintf(w, "  %-26s %3d  %6.1f/hour\n", c, m.Codes[c].Count, m.Codes[c].PerHour)
	}
}

// printMoments prints the suggested moments, strengths and things to
// reflect on, and the family lens.
func printMoments(w io.Writer, out AnnotateOutput) {
	for _, kind := range []hark.MomentKind{hark.MomentReflect, hark.MomentStrength} {
		title := "to reflect on"
		if kind == hark.MomentStrength {
			title = "strengths"
		}
		first := true
		for _, m := range out.Moments {
			if m.Kind != kind {
				continue
			}
			if first {
				fmt.Fprintf(w, "\nstart here: %s\n", title)
				first = false
			}
			fmt.Fprintf(w, "  %2d. %s–%s  %s\n      %s\n", m.Rank, transcribe.FormatTimestamp(m.Start), transcribe.FormatTimestamp(m.End), m.Cue, m.Reason)
		}
	}
	f := out.Family
	if f == nil {
		return
	}
	pct := func(v *float64) string {
		if v == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.0f%%", 100**v)
	}
	when := func(ok bool, at *float64) string {
		if !ok || at == nil {
			return "no"
		}
		return "at " + transcribe.FormatTimestamp(*at)
	}
	yes := func(v *bool) string {
		if v == nil {
			return "n/a"
		}
		if *v {
			return "yes"
		}
		return "no"
	}
	fmt.Fprintf(w, "\nthe family lens:\n")
	fmt.Fprintf(w, "  parent's talk %.0f%%, turns %.0f%% (%d), cut off or talked over %d (%s of their turns)\n",
		100*f.ParentTalkShare, 100*f.ParentTurnShare, f.ParentTurns, f.ParentInterrupted, pct(f.ParentInterruptedShare))
	fmt.Fprintf(w, "  parent's questions %d, answered in the next worker turn %d (%s)\n", f.ParentQuestions, f.ParentQuestionsAnswered, pct(f.ParentQuestionsAnsweredShare))
	fmt.Fprintf(w, "  rights explained %s, what happens next explained %s, before any decision: %s\n",
		when(f.RightsExplained, f.RightsExplainedAt), when(f.NextStepsExplained, f.NextStepsExplainedAt), yes(f.ExplainedBeforeDecision))
	fmt.Fprintf(w, "  permission asked %d, directions %d, permission before advice: %s\n", f.PermissionAsked, f.Advice, yes(f.PermissionBeforeAdvice))
	fmt.Fprintf(w, "  fears voiced %d, met with a reflection or explanation %d (%s)\n", f.ParentFears, f.ParentFearsMet, pct(f.ParentFearsMetShare))
}

// reportStats tells a person what the LLM cost and what it dropped.
func reportStats(w io.Writer, s annotate.TagStats) {
	if !s.Mode.NeedsLLM() {
		return
	}
	fmt.Fprintf(w, "hark: llm %s: %d requests (%d retries), %d prompt + %d completion = %d tokens; %d tags returned, %d dropped",
		s.Model, s.Usage.Requests, s.Usage.Retries, s.Usage.PromptTokens, s.Usage.CompletionTokens, s.Usage.TotalTokens, s.Returned, s.DroppedTotal())
	if len(s.Dropped) > 0 {
		reasons := make([]string, 0, len(s.Dropped))
		for k, v := range s.Dropped {
			reasons = append(reasons, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(reasons)
		fmt.Fprintf(w, " (%s)", strings.Join(reasons, ", "))
	}
	if s.Mode == annotate.ModeRulesLLM {
		fmt.Fprintf(w, "; %d rule tags confirmed, %d rejected, %d added", s.Confirmed, s.Rejected, s.Added)
	}
	fmt.Fprintln(w)
}

// taggerHelp is the --tagger flag's help: its default is "" (see
// newTaggerFromEnv).
const taggerHelp = "tagger: rules, llm, rules+llm or rules+model (default: rules+model when the model fits the codebook, else rules)"

// newTaggerFromEnv builds the tagger for a mode (rules, llm, rules+llm or
// rules+model) and a codebook; the LLM's settings come from the
// environment (see llmConfigFromEnv), the model from the file modelPath,
// else hark's own trained for its codebook. An empty mode is the default:
// rules+model when the model fits the codebook, else the rules alone (a
// team's own codebook, which hark's model was not trained for), said in
// the log. Errors are EINVALID and name the setting to fix.
func newTaggerFromEnv(mode, modelPath string, cb *hark.Codebook, log *slog.Logger) (*annotate.Tagger, error) {
	var (
		rules *annotate.RuleTagger
		llm   *annotate.LLMTagger
		model *annotate.Model
		m     annotate.Mode
		err   error
	)
	if strings.TrimSpace(mode) == "" {
		m = annotate.ModeRulesModel
		if modelPath != "" {
			if _, err := os.Stat(modelPath); err != nil {
				return nil, hark.Errorf(hark.EINVALID, "HARK_MODEL names %s, which cannot be read", modelPath)
			}
		}
		if model, err = loadModel(modelPath, cb); err != nil {
			// The model was trained for another codebook (a team's own,
			// or one sent for re-annotation): the rules alone tag it.
			m, model = annotate.ModeRules, nil
			if log != nil {
				log.Info("tagging with the rules alone: the model does not fit this codebook; train one with `hark train` and give it with HARK_MODEL",
					"codebook", cb.ID, "version", cb.Version, "why", hark.ErrorMessage(err))
			}
		}
	} else if m, err = annotate.ParseMode(mode); err != nil {
		return nil, err
	} else if m == annotate.ModeRulesModel {
		if model, err = loadModel(modelPath, cb); err != nil {
			return nil, err
		}
	}
	if model != nil && model.CodebookVersion != "" && model.CodebookVersion != cb.Version && log != nil {
		// The model fits (same codebook, every code known), but it learnt
		// from the rules of another version: its confidences and the tags
		// it drops or adds may have moved.
		log.Warn("the model was trained with another version of the codebook; retrain it with `hark train` to match",
			"model", model.Version, "trained_with", model.CodebookVersion, "codebook", cb.ID, "version", cb.Version)
	}
	if m != annotate.ModeLLM {
		if rules, err = annotate.NewRuleTagger(cb); err != nil {
			return nil, err
		}
	}
	if m.NeedsLLM() {
		cfg, err := llmConfigFromEnv()
		if err != nil {
			return nil, err
		}
		cfg.Logger = log
		if llm, err = annotate.NewLLMTagger(cb, cfg); err != nil {
			return nil, err
		}
	}
	return annotate.NewTagger(m, rules, llm, model)
}

// loadModel is the model file at path, or hark's own for the codebook.
func loadModel(path string, cb *hark.Codebook) (*annotate.Model, error) {
	if path != "" {
		return annotate.LoadModel(path, cb)
	}
	m, err := annotate.DefaultModel(cb)
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "tagger rules+model: hark's own model does not fit codebook %s %s; train one with `hark train` and give it with --model (HARK_MODEL)", cb.ID, cb.Version)
	}
	return m, nil
}

// llmConfigFromEnv reads the LLM tagger's settings: HARK_LLM_BASE_URL,
// HARK_LLM_MODEL, HARK_LLM_API_KEY or HARK_LLM_API_KEY_FILE (a secret,
// never a flag), and the optional HARK_LLM_BATCH_TURNS,
// HARK_LLM_CONTEXT_TURNS, HARK_LLM_CONCURRENCY, HARK_LLM_TIMEOUT and
// HARK_LLM_MAX_ATTEMPTS.
func llmConfigFromEnv() (annotate.LLMConfig, error) {
	cfg := annotate.LLMConfig{
		BaseURL: os.Getenv("HARK_LLM_BASE_URL"),
		Model:   os.Getenv("HARK_LLM_MODEL"),
	}
	if f := os.Getenv("HARK_LLM_API_KEY_FILE"); f != "" && os.Getenv("HARK_LLM_API_KEY") == "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return cfg, hark.Errorf(hark.EINVALID, "HARK_LLM_API_KEY_FILE names %s, which cannot be read: %v", f, errors.Unwrap(err))
		}
		if strings.TrimSpace(string(data)) == "" {
			return cfg, hark.Errorf(hark.EINVALID, "HARK_LLM_API_KEY_FILE names %s, which is empty", f)
		}
	}
	cfg.APIKey = secretEnv("HARK_LLM_API_KEY")
	for _, v := range []struct {
		name string
		dst  *int
	}{{"HARK_LLM_BATCH_TURNS", &cfg.BatchTurns}, {"HARK_LLM_CONTEXT_TURNS", &cfg.ContextTurns}, {"HARK_LLM_CONCURRENCY", &cfg.Concurrency}, {"HARK_LLM_MAX_ATTEMPTS", &cfg.MaxAttempts}} {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return cfg, hark.Errorf(hark.EINVALID, "%s=%q is not a whole number", v.name, s)
			}
			*v.dst = n
			if v.name == "HARK_LLM_CONTEXT_TURNS" && n == 0 {
				*v.dst = -1 // 0 asks for no context
			}
		}
	}
	if s := os.Getenv("HARK_LLM_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return cfg, hark.Errorf(hark.EINVALID, "HARK_LLM_TIMEOUT=%q is not a duration such as 90s or 2m", s)
		}
		cfg.RequestTimeout = d
	}
	return cfg, nil
}
