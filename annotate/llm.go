package annotate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"
	"golang.org/x/sync/errgroup"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/retry"
)

// Defaults of the LLM tagger.
const (
	DefaultLLMBaseURL      = "https://api.openai.com/v1"
	DefaultLLMBatchTurns   = 20
	DefaultLLMContextTurns = 3
)

// Confidence of a tag only the LLM found. Language models do not report a
// calibrated confidence, so every LLM tag gets the same one: lower than a
// rule tag that the LLM confirmed, and in the range of the rule tagger's
// own tags.
const llmConfidence = 0.7

// LLMConfig configures the LLM tagger, which asks a chat model on any
// OpenAI-compatible server (OpenAI, Azure OpenAI's compatible endpoint,
// vLLM, Ollama, LocalAI, llama.cpp's server) to code a transcript with the
// codebook.
type LLMConfig struct {
	// BaseURL is the API's base URL, up to and including /v1; empty means
	// OpenAI's hosted API.
	BaseURL string
	// Model is the chat model. It is required: there is no model every
	// server has.
	Model string
	// APIKey authenticates to the server. The hosted API needs one; many
	// self-hosted servers do not. Read it from the environment or a file
	// (HARK_LLM_API_KEY, HARK_LLM_API_KEY_FILE), never from a flag.
	APIKey string
	// BatchTurns is how many segments one request asks the model to code;
	// 0 means DefaultLLMBatchTurns.
	BatchTurns int
	// ContextTurns is how many segments before a batch are sent with it,
	// marked as context that must not be coded; 0 means
	// DefaultLLMContextTurns, and a negative number none.
	ContextTurns int
	// Concurrency is how many requests may be in flight for one transcript;
	// 0 means 2.
	Concurrency int
	// RequestTimeout bounds one request; 0 means 2 minutes.
	RequestTimeout time.Duration
	// MaxAttempts is how many times a request is tried when the server is
	// busy or failing (429, 5xx, network errors, timeouts); 0 means 5.
	MaxAttempts int
	// MaxBackoff caps the wait between attempts, Retry-After included; 0
	// means 1 minute.
	MaxBackoff time.Duration
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// Logger logs retries and dropped tags, never transcript text; nil
	// means slog.Default().
	Logger *slog.Logger
}

func (c LLMConfig) withDefaults() LLMConfig {
	if c.BaseURL == "" {
		c.BaseURL = DefaultLLMBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.BatchTurns == 0 {
		c.BatchTurns = DefaultLLMBatchTurns
	}
	if c.ContextTurns == 0 {
		c.ContextTurns = DefaultLLMContextTurns
	}
	if c.ContextTurns < 0 {
		c.ContextTurns = 0
	}
	if c.Concurrency == 0 {
		c.Concurrency = 2
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 2 * time.Minute
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 5
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = time.Minute
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c LLMConfig) validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return hark.Errorf(hark.EINVALID, "LLM tagger: the base URL %q is not an http(s) URL; set HARK_LLM_BASE_URL to e.g. http://vllm:8000/v1", c.BaseURL)
	}
	if strings.TrimSpace(c.Model) == "" {
		return hark.Errorf(hark.EINVALID, "LLM tagger: no model; set HARK_LLM_MODEL to a chat model the server at %s serves", c.BaseURL)
	}
	if u.Host == "api.openai.com" && c.APIKey == "" {
		return hark.Errorf(hark.EINVALID, "LLM tagger: OpenAI's hosted API needs a key; set HARK_LLM_API_KEY or HARK_LLM_API_KEY_FILE, or point HARK_LLM_BASE_URL at a self-hosted server")
	}
	if c.BatchTurns < 1 || c.Concurrency < 1 || c.MaxAttempts < 1 || c.RequestTimeout < 0 || c.MaxBackoff < 0 {
		return hark.Errorf(hark.EINVALID, "LLM tagger: batch size, concurrency, attempts and timeouts must be positive")
	}
	return nil
}

// LLMUsage is what an LLM tagger asked of the server: requests and tokens,
// as the server reported them.
type LLMUsage struct {
	Requests         int `json:"requests"` // HTTP requests sent, retries included
	Retries          int `json:"retries"`  // of those, repeats after a busy or failing server
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func (u *LLMUsage) add(v LLMUsage) {
	u.Requests += v.Requests
	u.Retries += v.Retries
	u.PromptTokens += v.PromptTokens
	u.CompletionTokens += v.CompletionTokens
	u.TotalTokens += v.TotalTokens
}

// The reasons an LLM tag is dropped, the keys of TagStats.Dropped.
const (
	DropUnknownCode  = "unknown_code"      // a code the codebook does not have
	DropWrongRole    = "wrong_role"        // a code for another role than the speaker's
	DropOutOfRange   = "segment_not_asked" // a segment outside the batch, or a context turn
	DropSpanNotFound = "span_not_found"    // evidence that is not in the segment's text
	DropDuplicate    = "duplicate"         // a second tag of the same code on a segment
)

// TagStats describe one tagging run: what the LLM cost and returned, what
// was dropped, and how rules and LLM agreed. A rules-only run has only
// RuleTags and Tags.
type TagStats struct {
	Mode  Mode   `json:"mode"`
	Model string `json:"model,omitempty"`
	// Usage sums the requests and the tokens of every response.
	Usage LLMUsage `json:"usage"`
	// RuleTags and LLMTags count the tags each tagger found (LLM tags
	// after validation); Tags counts the tags in the result.
	RuleTags int `json:"rule_tags"`
	LLMTags  int `json:"llm_tags"`
	Tags     int `json:"tags"`
	// Returned counts the tags the model returned, before validation.
	Returned int `json:"returned"`
	// Dropped counts the model's tags that failed validation, by reason
	// (the Drop constants).
	Dropped map[string]int `json:"dropped"`
	// Confirmed, Added and Rejected count, in rules+llm mode, the rule tags
	// the model also gave, the tags only the model gave, and the rule tags
	// it rejected (and that were therefore dropped).
	Confirmed int `json:"confirmed"`
	Added     int `json:"added"`
	Rejected  int `json:"rejected"`
}

// DroppedTotal returns how many of the model's tags were dropped.
func (s *TagStats) DroppedTotal() int {
	n := 0
	for _, v := range s.Dropped {
		n += v
	}
	return n
}

// Add adds the counts of o, the stats of another run, to s: for a
// report over many transcripts.
func (s *TagStats) Add(o TagStats) {
	if s.Mode == "" {
		s.Mode, s.Model = o.Mode, o.Model
	}
	s.Usage.add(o.Usage)
	s.RuleTags += o.RuleTags
	s.LLMTags += o.LLMTags
	s.Tags += o.Tags
	s.Returned += o.Returned
	for k, v := range o.Dropped {
		s.drop(k, v)
	}
	s.Confirmed += o.Confirmed
	s.Added += o.Added
	s.Rejected += o.Rejected
}

func (s *TagStats) drop(reason string, n int) {
	if s.Dropped == nil {
		s.Dropped = make(map[string]int)
	}
	s.Dropped[reason] += n
}

// LLMTagger codes transcripts with a chat model through the chat
// completions API, asking for structured output that follows a JSON schema
// built from the codebook. Segments are sent in batches with a few turns of
// context before each; the model returns, for each tag, the segment, the
// code and the words of the segment that show it. Every tag is checked
// before it is kept: the code must be in the codebook and apply to the
// speaker's role, the segment must be one the request asked about, and the
// quoted evidence must be found in the segment's text, which gives the
// tag's byte offsets. Tags that fail are dropped and counted (TagStats).
//
// An LLMTagger is safe for concurrent use.
type LLMTagger struct {
	cfg      LLMConfig
	cb       *hark.Codebook
	codes    map[string]*hark.Code
	order    map[string]int // codebook position of each code
	client   *openai.Client
	endpoint retry.Endpoint // what the server's failures mean
	system   string         // the system prompt for LLM-only coding
	confirm  string         // the system prompt for confirming rule tags
	schemaT  json.RawMessage
	schemaRT json.RawMessage // with the "rejected" list

	// sleep waits between attempts; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	total LLMUsage
}

var _ hark.Tagger = (*LLMTagger)(nil)

// NewLLMTagger returns an LLM tagger for the codebook. It checks the
// configuration but does not contact the server. Errors are EINVALID and
// name the setting to fix.
func NewLLMTagger(cb *hark.Codebook, cfg LLMConfig) (*LLMTagger, error) {
	if cb == nil || len(cb.Codes) == 0 {
		return nil, hark.Errorf(hark.EINVALID, "LLM tagger: no codebook")
	}
	if cb.ID == "" || cb.Version == "" {
		return nil, hark.Errorf(hark.EINVALID, "LLM tagger: the codebook needs an id and a version")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cc := openai.DefaultConfig(cfg.APIKey)
	cc.BaseURL = cfg.BaseURL
	cc.HTTPClient = retry.Doer{Client: cfg.HTTPClient}
	lt := &LLMTagger{
		cfg:    cfg,
		cb:     cb,
		codes:  make(map[string]*hark.Code, len(cb.Codes)),
		order:  make(map[string]int, len(cb.Codes)),
		client: openai.NewClientWithConfig(cc),
		endpoint: retry.Endpoint{Server: "the LLM server at " + cfg.BaseURL, BaseURL: cfg.BaseURL, Name: "chat completions",
			Path: "/chat/completions", Model: cfg.Model, Answer: "a chat completion", Env: "HARK_LLM",
			Timeout: cfg.RequestTimeout, Quote: 300},
		sleep: retry.Sleep,
	}
	for i := range cb.Codes {
		lt.codes[cb.Codes[i].ID] = &cb.Codes[i]
		lt.order[cb.Codes[i].ID] = i
	}
	lt.system = systemPrompt(cb, false)
	lt.confirm = systemPrompt(cb, true)
	lt.schemaT = responseSchema(cb, false)
	lt.schemaRT = responseSchema(cb, true)
	return lt, nil
}

// Name returns "llm".
func (lt *LLMTagger) Name() string { return string(ModeLLM) }

// Model returns the model the tagger asks.
func (lt *LLMTagger) Model() string { return lt.cfg.Model }

// TotalUsage returns what the tagger has asked of the server since it was
// made, over every transcript: for metrics and cost reports.
func (lt *LLMTagger) TotalUsage() LLMUsage {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return lt.total
}

// Tag codes the transcript with the model. See TagStats.
func (lt *LLMTagger) Tag(ctx context.Context, t *hark.Transcript) (*hark.Annotations, error) {
	a, _, err := lt.TagStats(ctx, t)
	return a, err
}

// TagStats codes the transcript with the model and says what it cost and
// what was dropped. Errors: EINVALID for a nil transcript, a server that
// refuses hark's key or settings (400, 401, 403, 404), answers that do not
// follow the schema, or a segment too long for the model's context;
// EUNAVAILABLE when the server is busy, failing or unreachable after the
// retries, or ctx ends.
func (lt *LLMTagger) TagStats(ctx context.Context, t *hark.Transcript) (*hark.Annotations, TagStats, error) {
	stats := TagStats{Mode: ModeLLM, Model: lt.cfg.Model}
	if t == nil {
		return nil, stats, hark.Errorf(hark.EINVALID, "LLM tagger: no transcript")
	}
	tags, err := lt.run(ctx, t, false, nil, &stats)
	if err != nil {
		return nil, stats, err
	}
	sortTags(t, tags.tags, lt.order)
	stats.LLMTags, stats.Tags = len(tags.tags), len(tags.tags)
	a := lt.annotations(t, ModeLLM, tags.tags)
	return a, stats, nil
}

func (lt *LLMTagger) annotations(t *hark.Transcript, mode Mode, tags []hark.Tag) *hark.Annotations {
	if tags == nil {
		tags = []hark.Tag{}
	}
	return &hark.Annotations{
		Schema:          hark.SchemaVersion,
		RecordingID:     t.RecordingID,
		Codebook:        lt.cb.ID,
		CodebookVersion: lt.cb.Version,
		Tagger:          string(mode) + ":" + lt.cfg.Model,
		Tags:            tags,
	}
}

// llmResult is what the model said about a transcript, validated.
type llmResult struct {
	tags     []hark.Tag
	rejected map[segCode]bool
}

type segCode struct {
	seg  int
	code string
}

// batch is one request's worth of segments: positions [from, to) in the
// transcript, with context from ctxFrom.
type batch struct {
	ctxFrom, from, to int
}

// run sends the transcript in batches and collects the validated tags.
// With confirm, the requests carry the candidates (rule tags) and ask which
// are wrong.
func (lt *LLMTagger) run(ctx context.Context, t *hark.Transcript, confirm bool, candidates []hark.Tag, stats *TagStats) (llmResult, error) {
	segs := t.Segments
	var batches []batch
	for from := 0; from < len(segs); from += lt.cfg.BatchTurns {
		batches = append(batches, lt.makeBatch(from, min(from+lt.cfg.BatchTurns, len(segs))))
	}
	byPos := make(map[int][]hark.Tag) // candidates by segment position
	if confirm {
		pos := make(map[int]int, len(segs))
		for i := range segs {
			pos[segs[i].Index] = i
		}
		for _, c := range candidates {
			if i, ok := pos[c.Segment]; ok {
				byPos[i] = append(byPos[i], c)
			}
		}
	}
	results := make([]batchResult, len(batches))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lt.cfg.Concurrency)
	for i, b := range batches {
		g.Go(func() error {
			r, err := lt.codeBatch(gctx, t, b, byPos, confirm)
			results[i] = r
			return err
		})
	}
	err := g.Wait()
	var out llmResult
	out.rejected = make(map[segCode]bool)
	for _, r := range results {
		stats.Usage.add(r.usage)
		stats.Returned += r.returned
		for reason, n := range r.dropped {
			stats.drop(reason, n)
		}
		out.tags = append(out.tags, r.tags...)
		for k := range r.rejected {
			out.rejected[k] = true
		}
	}
	lt.mu.Lock()
	lt.total.add(stats.Usage)
	lt.mu.Unlock()
	if err != nil {
		return llmResult{}, err
	}
	if n := stats.DroppedTotal(); n > 0 {
		lt.cfg.Logger.Info("LLM tagger dropped tags that failed validation", "recording", t.RecordingID, "dropped", n, "reasons", stats.Dropped)
	}
	return out, nil
}

func (lt *LLMTagger) makeBatch(from, to int) batch {
	return batch{ctxFrom: max(0, from-lt.cfg.ContextTurns), from: from, to: to}
}

// batchResult is what one batch (and the halves it was split into) gave.
type batchResult struct {
	tags     []hark.Tag
	rejected map[segCode]bool
	returned int
	dropped  map[string]int
	usage    LLMUsage
}

func (r *batchResult) merge(o batchResult) {
	r.tags = append(r.tags, o.tags...)
	if r.rejected == nil {
		r.rejected = make(map[segCode]bool)
	}
	for k := range o.rejected {
		r.rejected[k] = true
	}
	r.returned += o.returned
	if r.dropped == nil {
		r.dropped = make(map[string]int)
	}
	for k, v := range o.dropped {
		r.dropped[k] += v
	}
	r.usage.add(o.usage)
}

// errTooLong says a batch did not fit the model's context or its answer did
// not fit the completion limit: the batch is split and sent again.
type errTooLong struct{ what string }

func (e *errTooLong) Error() string { return e.what }

// codeBatch sends one batch, splitting it in halves while it is too long
// for the model.
func (lt *LLMTagger) codeBatch(ctx context.Context, t *hark.Transcript, b batch, cands map[int][]hark.Tag, confirm bool) (batchResult, error) {
	var r batchResult
	req := lt.request(t, b, cands, confirm)
	resp, usage, err := lt.send(ctx, req)
	r.usage = usage
	var tooLong *errTooLong
	if errors.As(err, &tooLong) {
		if b.to-b.from <= 1 {
			return r, hark.WrapError(hark.EINVALID, err, "LLM tagger: segment %d of %s is too long for model %q (%s); use a model with a longer context", t.Segments[b.from].Index, t.RecordingID, lt.cfg.Model, tooLong.what)
		}
		mid := b.from + (b.to-b.from)/2
		lt.cfg.Logger.Info("LLM request too long; splitting the batch", "recording", t.RecordingID, "turns", b.to-b.from, "reason", tooLong.what)
		for _, h := range []batch{lt.makeBatch(b.from, mid), lt.makeBatch(mid, b.to)} {
			hr, err := lt.codeBatch(ctx, t, h, cands, confirm)
			r.merge(hr)
			if err != nil {
				return r, err
			}
		}
		return r, nil
	}
	if err != nil {
		return r, err
	}
	out := lt.validate(t, b, resp, &r)
	r.tags = out
	return r, nil
}

// llmAnswer is the structured output the schema asks for.
type llmAnswer struct {
	Tags []struct {
		Segment  int    `json:"segment"`
		Code     string `json:"code"`
		Evidence string `json:"evidence"`
	} `json:"tags"`
	Rejected []struct {
		Segment int    `json:"segment"`
		Code    string `json:"code"`
	} `json:"rejected"`
}

// validate keeps the model's tags that pass every check, counting the
// others in r.dropped.
func (lt *LLMTagger) validate(t *hark.Transcript, b batch, ans llmAnswer, r *batchResult) []hark.Tag {
	r.dropped = make(map[string]int)
	r.rejected = make(map[segCode]bool)
	asked := make(map[int]*hark.Segment, b.to-b.from)
	for i := b.from; i < b.to; i++ {
		asked[t.Segments[i].Index] = &t.Segments[i]
	}
	seen := make(map[segCode]bool)
	var out []hark.Tag
	r.returned = len(ans.Tags)
	for _, mt := range ans.Tags {
		code, ok := lt.codes[mt.Code]
		if !ok {
			r.dropped[DropUnknownCode]++
			continue
		}
		seg, ok := asked[mt.Segment]
		if !ok {
			r.dropped[DropOutOfRange]++
			continue
		}
		if !code.AppliesTo(seg.Role) {
			r.dropped[DropWrongRole]++
			continue
		}
		start, end, ok := findEvidence(seg.Text, mt.Evidence)
		if !ok {
			r.dropped[DropSpanNotFound]++
			continue
		}
		k := segCode{seg.Index, code.ID}
		if seen[k] {
			r.dropped[DropDuplicate]++
			continue
		}
		seen[k] = true
		out = append(out, hark.Tag{
			Segment:    seg.Index,
			Code:       code.ID,
			Start:      start,
			End:        end,
			Evidence:   seg.Text[start:end],
			Confidence: llmConfidence,
			Source:     hark.SourceLLM,
			Review:     hark.ReviewPending,
		})
	}
	for _, rj := range ans.Rejected {
		if _, ok := asked[rj.Segment]; ok {
			r.rejected[segCode{rj.Segment, rj.Code}] = true
		}
	}
	return out
}

// request builds the chat completion request for one batch.
func (lt *LLMTagger) request(t *hark.Transcript, b batch, cands map[int][]hark.Tag, confirm bool) openai.ChatCompletionRequest {
	var sb strings.Builder
	if b.ctxFrom < b.from {
		sb.WriteString("Context (earlier turns; do not code these):\n")
		for i := b.ctxFrom; i < b.from; i++ {
			writeTurn(&sb, &t.Segments[i])
		}
		sb.WriteString("\n")
	}
	sb.WriteString("Turns to code:\n")
	for i := b.from; i < b.to; i++ {
		writeTurn(&sb, &t.Segments[i])
	}
	if confirm {
		sb.WriteString("\nCandidate tags from the rule tagger:\n")
		n := 0
		for i := b.from; i < b.to; i++ {
			for _, c := range cands[i] {
				fmt.Fprintf(&sb, "[%d] %s: %s\n", c.Segment, c.Code, strconv.Quote(c.Evidence))
				n++
			}
		}
		if n == 0 {
			sb.WriteString("(none)\n")
		}
	}
	system, schema := lt.system, lt.schemaT
	if confirm {
		system, schema = lt.confirm, lt.schemaRT
	}
	return openai.ChatCompletionRequest{
		Model: lt.cfg.Model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: system},
			{Role: openai.ChatMessageRoleUser, Content: sb.String()},
		},
		ResponseFormat: &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name:        "practice_tags",
				Description: "Practice markers found in the turns to code, each with its exact evidence.",
				Schema:      schema,
				Strict:      true,
			},
		},
	}
}

// writeTurn writes one segment as a line the model reads: its index, its
// speaker's role and its text on one line. Speaker names are left out:
// the role is what the codes need.
func writeTurn(sb *strings.Builder, s *hark.Segment) {
	role := s.Role
	if role == "" {
		role = hark.RoleUnknown
	}
	text := strings.Join(strings.Fields(s.Text), " ")
	fmt.Fprintf(sb, "[%d] %s: %s\n", s.Index, role, text)
}

// systemPrompt is the instructions and the codebook, the same for every
// request of a tagger (so servers that cache prompt prefixes can reuse it).
func systemPrompt(cb *hark.Codebook, confirm bool) string {
	var sb strings.Builder
	sb.WriteString(`You code transcripts of meetings between a child and family social worker (role "worker") and parents or other family members (role "parent", "child", "other"; "unknown" when not known), using the practice codebook below.

Each turn is written as "[segment] role: text". For each turn under "Turns to code", find every code of the codebook that applies to it.
- Give a code only to a turn whose speaker's role the code applies to.
- For each tag give the segment number, the code id, and the evidence: the shortest words of that turn (usually one sentence) that show the code, copied exactly as written, character for character. Never paraphrase, never join words from different places, never quote another turn.
- Turns under "Context" are there to help you understand the turns to code. Never code them.
- Give a code at most once per turn. When no code applies, return no tag for the turn.
`)
	if confirm {
		sb.WriteString(`- "Candidate tags" were proposed by a rule-based tagger. Include in "tags" every tag you find, candidates you agree with included. List in "rejected" each candidate (segment and code) that you are confident is wrong; leave out candidates you are unsure of.
`)
	}
	fmt.Fprintf(&sb, "\nCodebook %s, version %s:\n", cb.ID, cb.Version)
	for i := range cb.Codes {
		c := &cb.Codes[i]
		role := c.Role
		if role == "" {
			role = "any"
		}
		fmt.Fprintf(&sb, "\n%s (%s; said by: %s)\n%s\n", c.ID, c.Label, role, strings.Join(strings.Fields(c.Definition), " "))
		if ex := firstN(c.Examples.Positive, 2); len(ex) > 0 {
			fmt.Fprintf(&sb, "Examples: %s\n", strings.Join(quoteAll(ex), "; "))
		}
		if ex := firstN(c.Examples.Negative, 2); len(ex) > 0 {
			fmt.Fprintf(&sb, "Not this code: %s\n", strings.Join(quoteAll(ex), "; "))
		}
	}
	return sb.String()
}

func firstN(s []string, n int) []string { return s[:min(n, len(s))] }

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}

// responseSchema is the JSON schema of the structured output, in the
// subset OpenAI's strict mode accepts: every property required, no
// additional properties. The code is an enum of the codebook's ids.
func responseSchema(cb *hark.Codebook, withRejected bool) json.RawMessage {
	ids := make([]string, len(cb.Codes))
	for i := range cb.Codes {
		ids[i] = cb.Codes[i].ID
	}
	obj := func(props map[string]any, order []string) map[string]any {
		return map[string]any{"type": "object", "properties": props, "required": order, "additionalProperties": false}
	}
	tag := obj(map[string]any{
		"segment":  map[string]any{"type": "integer", "description": "the segment number of a turn to code"},
		"code":     map[string]any{"type": "string", "enum": ids},
		"evidence": map[string]any{"type": "string", "description": "the exact words of the turn that show the code"},
	}, []string{"segment", "code", "evidence"})
	props := map[string]any{"tags": map[string]any{"type": "array", "items": tag}}
	order := []string{"tags"}
	if withRejected {
		props["rejected"] = map[string]any{"type": "array", "items": obj(map[string]any{
			"segment": map[string]any{"type": "integer"},
			"code":    map[string]any{"type": "string", "enum": ids},
		}, []string{"segment", "code"})}
		order = append(order, "rejected")
	}
	data, err := json.Marshal(obj(props, order))
	if err != nil {
		panic("annotate: response schema: " + err.Error())
	}
	return data
}

// send makes one request, retrying while the server is busy or failing,
// and decodes the answer.
func (lt *LLMTagger) send(ctx context.Context, req openai.ChatCompletionRequest) (llmAnswer, LLMUsage, error) {
	var usage LLMUsage
	server := "the LLM server at " + lt.cfg.BaseURL
	for attempt := 1; ; attempt++ {
		usage.Requests++
		if attempt > 1 {
			usage.Retries++
		}
		ans, wait, err := lt.attempt(ctx, req, &usage)
		if err == nil {
			return ans, usage, nil
		}
		if ctx.Err() != nil {
			return llmAnswer{}, usage, hark.WrapError(hark.EUNAVAILABLE, ctx.Err(), "LLM tagger: stopped")
		}
		var again *retry.Error
		if !errors.As(err, &again) {
			return llmAnswer{}, usage, err
		}
		if attempt >= lt.cfg.MaxAttempts {
			if again.Invalid {
				return llmAnswer{}, usage, hark.WrapError(hark.EINVALID, again.Err, "%s answered %d times without following the JSON schema (%s): check that it supports structured output (response_format json_schema) for model %q", server, attempt, again.What, lt.cfg.Model)
			}
			return llmAnswer{}, usage, hark.WrapError(hark.EUNAVAILABLE, again.Err, "%s failed %d times (%s); hark will try again later", server, attempt, again.What)
		}
		if wait <= 0 {
			wait = retry.Backoff(attempt)
		}
		wait = min(wait, lt.cfg.MaxBackoff)
		lt.cfg.Logger.Info("LLM server busy or failing; retrying", "attempt", attempt, "reason", again.What, "wait", wait)
		if err := lt.sleep(ctx, wait); err != nil {
			return llmAnswer{}, usage, hark.WrapError(hark.EUNAVAILABLE, err, "LLM tagger: stopped")
		}
	}
}

// attempt makes one request. It returns how long the server asked hark to
// wait (Retry-After) along with a *retry.Error.
func (lt *LLMTagger) attempt(ctx context.Context, req openai.ChatCompletionRequest, usage *LLMUsage) (llmAnswer, time.Duration, error) {
	sctx, slot := retry.WithSlot(ctx)
	rctx, cancel := context.WithTimeout(sctx, lt.cfg.RequestTimeout)
	defer cancel()
	resp, err := lt.client.CreateChatCompletion(rctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return llmAnswer{}, 0, ctx.Err()
		}
		return llmAnswer{}, slot.Wait, lt.classify(err)
	}
	usage.PromptTokens += resp.Usage.PromptTokens
	usage.CompletionTokens += resp.Usage.CompletionTokens
	usage.TotalTokens += resp.Usage.TotalTokens
	if len(resp.Choices) == 0 {
		return llmAnswer{}, 0, &retry.Error{What: "an answer without choices", Err: errors.New("no choices"), Invalid: true}
	}
	ch := resp.Choices[0]
	switch {
	case ch.FinishReason == openai.FinishReasonLength:
		return llmAnswer{}, 0, &errTooLong{what: "the answer reached the completion limit"}
	case ch.Message.Refusal != "":
		return llmAnswer{}, 0, hark.Errorf(hark.EINVALID, "LLM tagger: model %q refused to code the transcript: %.200s", lt.cfg.Model, ch.Message.Refusal)
	case ch.FinishReason == openai.FinishReasonContentFilter:
		return llmAnswer{}, 0, hark.Errorf(hark.EINVALID, "LLM tagger: the server's content filter stopped model %q coding the transcript", lt.cfg.Model)
	}
	var ans llmAnswer
	content := strings.TrimSpace(ch.Message.Content)
	if err := json.Unmarshal([]byte(content), &ans); err != nil {
		return llmAnswer{}, 0, &retry.Error{What: "an answer that is not the schema's JSON", Err: err, Invalid: true}
	}
	return ans, 0, nil
}

// classify turns a failed request into a hark error, errTooLong, or a
// *retry.Error when another attempt may succeed.
func (lt *LLMTagger) classify(err error) error {
	f, known := lt.endpoint.Classify(err)
	if known != nil {
		return known
	}
	server, what, msg := lt.endpoint.Server, f.What, strings.ToLower(f.What)
	switch {
	case contextTooLong(f.Code, f.What):
		return &errTooLong{what: what}
	case strings.Contains(msg, "response_format") || strings.Contains(msg, "json_schema"):
		return hark.WrapError(hark.EINVALID, err, "%s does not accept structured output for model %q (%s): use a server and model that support response_format json_schema", server, lt.cfg.Model, what)
	}
	return hark.WrapError(hark.EINVALID, err, "%s rejected hark's request (%s): check HARK_LLM_MODEL", server, what)
}

// contextTooLong reports whether a 400 error says the prompt does not fit
// the model's context window, as OpenAI (code context_length_exceeded),
// vLLM and llama.cpp's server say it.
func contextTooLong(code, msg string) bool {
	if code == "context_length_exceeded" {
		return true
	}
	m := strings.ToLower(msg)
	return strings.Contains(m, "context length") || strings.Contains(m, "context window") ||
		strings.Contains(m, "maximum context") || strings.Contains(m, "too many tokens") || strings.Contains(m, "exceeds the context")
}

// sortTags orders tags by segment position, then by the codebook's order
// of codes, so that every tagger's output is deterministic.
func sortTags(t *hark.Transcript, tags []hark.Tag, order map[string]int) {
	pos := make(map[int]int, len(t.Segments))
	for i := range t.Segments {
		pos[t.Segments[i].Index] = i
	}
	sort.SliceStable(tags, func(i, j int) bool {
		a, b := tags[i], tags[j]
		if pa, pb := pos[a.Segment], pos[b.Segment]; pa != pb {
			return pa < pb
		}
		return order[a.Code] < order[b.Code]
	})
}

// findEvidence finds the words a model quoted in a segment's text and
// returns their byte offsets. Models copy imperfectly, so after an exact
// search it compares words only: case, punctuation, curly quotes and white
// space are ignored, and an elision ("...", "…") in the quote may stand
// for words left out. A match must start and end on word boundaries. It
// reports false for a quote that is not in the text, which is how an
// invented quote is caught.
func findEvidence(text, evidence string) (start, end int, ok bool) {
	ev := strings.TrimSpace(evidence)
	ev = strings.Trim(ev, "\"'“”‘’`")
	ev = strings.TrimSpace(ev)
	if ev == "" {
		return 0, 0, false
	}
	for from := 0; from < len(text); {
		i := strings.Index(text[from:], ev)
		if i < 0 {
			break
		}
		i += from
		if wordEdge(text, i) && wordEdge(text, i+len(ev)) {
			return i, i + len(ev), true
		}
		from = i + 1
	}
	nt := normalizeWords(text)
	var pieces []string
	for _, p := range strings.FieldsFunc(strings.ReplaceAll(ev, "...", "…"), func(r rune) bool { return r == '…' }) {
		if n := normalizeWords(p); n.s != "" {
			pieces = append(pieces, n.s)
		}
	}
	if len(pieces) == 0 {
		return 0, 0, false
	}
	// A quote with elisions must keep enough of its words to be checked.
	if len(pieces) > 1 {
		total := 0
		for _, p := range pieces {
			total += len(p)
		}
		if total < 12 {
			return 0, 0, false
		}
	}
	from := 0
	first, last := -1, -1
	for _, p := range pieces {
		i := indexWords(nt.s, p, from)
		if i < 0 {
			return 0, 0, false
		}
		if first < 0 {
			first = i
		}
		last = i + len(p)
		from = last
	}
	start, end = nt.off[first], nt.end[last-1]
	// Keep the sentence's own closing punctuation when the quote had it.
	if r := ev[len(ev)-1]; (r == '?' || r == '.' || r == '!') && end < len(text) && text[end] == r {
		end++
	}
	return start, end, true
}

// normalized is text reduced to its words, lower-case, one space apart,
// with the byte offsets in the original of each byte.
type normalized struct {
	s   string
	off []int // off[i]: where the rune of byte i starts in the original
	end []int // end[i]: where it ends
}

func normalizeWords(text string) normalized {
	var n normalized
	var b strings.Builder
	space := false
	for i, r := range text {
		size := len(string(r))
		if r == '’' || r == '‘' || r == '`' {
			r = '\''
		}
		switch {
		case r == '\'' || unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
				n.off = append(n.off, i)
				n.end = append(n.end, i)
			}
			space = false
			before := b.Len()
			b.WriteRune(unicode.ToLower(r))
			for k := before; k < b.Len(); k++ {
				n.off = append(n.off, i)
				n.end = append(n.end, i+size)
			}
		default:
			space = true
		}
	}
	n.s = b.String()
	return n
}

// wordEdge reports whether byte offset i of text is not inside a word.
func wordEdge(text string, i int) bool {
	if i <= 0 || i >= len(text) {
		return true
	}
	before, _ := utf8.DecodeLastRuneInString(text[:i])
	after, _ := utf8.DecodeRuneInString(text[i:])
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	return !isWord(before) || !isWord(after)
}

// indexWords finds word sequence p in s at or after from, on word
// boundaries.
func indexWords(s, p string, from int) int {
	for from <= len(s) {
		i := strings.Index(s[from:], p)
		if i < 0 {
			return -1
		}
		i += from
		j := i + len(p)
		if (i == 0 || s[i-1] == ' ') && (j == len(s) || s[j] == ' ') {
			return i
		}
		from = i + 1
	}
	return -1
}
