package annotate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// fakeLLM is a chat completions server that behaves like OpenAI's where
// hark depends on it: it checks the bearer key, the model, the messages and
// the response_format json_schema; it answers in the real response shape
// with usage; it sends 429 with Retry-After, 5xx, 401 for a bad key, 404 for
// an unknown model and the context-length 400 in OpenAI's error shape. Its
// "model" codes turns with a few fixed rules (see fakeModel), and can be
// told to quote words that are not in the text.
type fakeLLM struct {
	t      *testing.T
	key    string
	model  string
	codes  []string // the codebook ids the schema's enum must hold
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []fakeRequest
	tokens struct{ prompt, completion int }

	// Behaviour, set before requests.
	busy         int           // answer this many requests with 429 and Retry-After
	retryAfter   string        // the Retry-After header of a 429
	fail5xx      int           // then this many with 503
	maxPrompt    int           // prompts longer than this many characters get the context-length 400; 0: no limit
	delay        time.Duration // wait before answering
	content      string        // answer with this content instead of the model's
	inventFor    map[int]bool  // segments for which the model quotes words not in the text
	extras       []fakeTag     // tags the model adds to every answer whose turns include their segment
	rejectCodes  map[string]bool
	confirmCodes map[string]bool // in confirm mode, candidates of these codes are returned as tags
}

type fakeTag struct {
	Segment  int    `json:"segment"`
	Code     string `json:"code"`
	Evidence string `json:"evidence"`
}

type fakeRejected struct {
	Segment int    `json:"segment"`
	Code    string `json:"code"`
}

type fakeTurn struct {
	seg  int
	role string
	text string
}

// fakeRequest is what the server understood of one request.
type fakeRequest struct {
	context    []fakeTurn
	turns      []fakeTurn
	candidates []fakeTag
	confirm    bool
	status     int
}

func newFakeLLM(t *testing.T, cb *hark.Codebook) *fakeLLM {
	f := &fakeLLM{t: t, key: "sk-test-123", model: "practice-coder-1", retryAfter: "7"}
	for _, c := range cb.Codes {
		f.codes = append(f.codes, c.ID)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLLM) url() string { return f.srv.URL + "/v1" }

func (f *fakeLLM) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// apiError writes an error in the shape of OpenAI's API.
func apiError(w http.ResponseWriter, status int, msg, typ string, param, code any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": param, "code": code}})
}

var turnLine = regexp.MustCompile(`^\[(\d+)\] ([a-z]+): (.*)$`)
var candLine = regexp.MustCompile(`^\[(\d+)\] ([a-z_]+): (".*")$`)

func (f *fakeLLM) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		apiError(w, http.StatusNotFound, "Unknown request URL: "+r.Method+" "+r.URL.Path, "invalid_request_error", nil, "unknown_url")
		return
	}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, fakeRequest{})
	record := func(fr fakeRequest) {
		f.mu.Lock()
		f.reqs[n] = fr
		f.mu.Unlock()
	}
	busy := n < f.busy
	fail := !busy && n < f.busy+f.fail5xx
	f.mu.Unlock()

	if r.Header.Get("Authorization") != "Bearer "+f.key {
		record(fakeRequest{status: 401})
		apiError(w, http.StatusUnauthorized, "Incorrect API key provided: sk-wr***ng. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", nil, "invalid_api_key")
		return
	}
	var body struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		Stream         bool `json:"stream"`
		ResponseFormat struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Name   string          `json:"name"`
				Strict bool            `json:"strict"`
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
	}
	data, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(data, &body); err != nil {
		apiError(w, 400, "We could not parse the JSON body of your request.", "invalid_request_error", nil, nil)
		return
	}
	if body.Model != f.model {
		record(fakeRequest{status: 404})
		apiError(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", body.Model), "invalid_request_error", nil, "model_not_found")
		return
	}
	if busy {
		record(fakeRequest{status: 429})
		w.Header().Set("Retry-After", f.retryAfter)
		apiError(w, http.StatusTooManyRequests, "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1.", "requests", nil, "rate_limit_exceeded")
		return
	}
	if fail {
		record(fakeRequest{status: 503})
		apiError(w, http.StatusServiceUnavailable, "The server is overloaded or not ready yet.", "server_error", nil, nil)
		return
	}
	// The request itself.
	rf := body.ResponseFormat
	if rf.Type != "json_schema" || !rf.JSONSchema.Strict || rf.JSONSchema.Name == "" || body.Stream {
		t.Errorf("response_format: type %q strict %v name %q stream %v; want a strict json_schema", rf.Type, rf.JSONSchema.Strict, rf.JSONSchema.Name, body.Stream)
		apiError(w, 400, "Invalid parameter: 'response_format' must be json_schema.", "invalid_request_error", "response_format", nil)
		return
	}
	confirm := f.checkSchema(rf.JSONSchema.Schema)
	if len(body.Messages) != 2 || body.Messages[0].Role != "system" || body.Messages[1].Role != "user" {
		t.Errorf("messages: want a system and a user message, got %d", len(body.Messages))
		apiError(w, 400, "Invalid messages.", "invalid_request_error", "messages", nil)
		return
	}
	prompt := body.Messages[0].Content + body.Messages[1].Content
	if f.maxPrompt > 0 && len(prompt) > f.maxPrompt {
		record(fakeRequest{status: 400})
		apiError(w, 400, fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens. Please reduce the length of the messages.", f.maxPrompt/4, len(prompt)/4), "invalid_request_error", "messages", "context_length_exceeded")
		return
	}
	if !strings.Contains(body.Messages[0].Content, "open_question") {
		t.Errorf("the system prompt does not carry the codebook")
	}
	fr := f.parse(body.Messages[1].Content)
	fr.confirm, fr.status = confirm, 200
	record(fr)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	content := f.content
	if content == "" {
		tags, rejected := f.fakeModel(fr)
		ans := map[string]any{"tags": tags}
		if confirm {
			ans["rejected"] = rejected
		}
		b, _ := json.Marshal(ans)
		content = string(b)
	}
	pt, ct := len(prompt)/4, len(content)/4+1
	f.mu.Lock()
	f.tokens.prompt += pt
	f.tokens.completion += ct
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id":      fmt.Sprintf("chatcmpl-%d", n),
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   f.model + "-2026-01-01",
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content, "refusal": nil},
			"logprobs":      nil,
			"finish_reason": "stop",
		}},
		"usage": map[string]any{"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct},
	})
}

// checkSchema checks the schema is one strict mode accepts, with the
// codebook's ids as the code enum, and reports whether it asks for
// rejections.
func (f *fakeLLM) checkSchema(raw json.RawMessage) bool {
	t := f.t
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Errorf("schema: %v", err)
		return false
	}
	var strict func(path string, v map[string]any)
	strict = func(path string, v map[string]any) {
		switch v["type"] {
		case "object":
			props, _ := v["properties"].(map[string]any)
			req, _ := v["required"].([]any)
			if v["additionalProperties"] != false || len(req) != len(props) {
				t.Errorf("schema %s: strict mode needs every property required and additionalProperties false", path)
			}
			for k, p := range props {
				strict(path+"."+k, p.(map[string]any))
			}
		case "array":
			strict(path+"[]", v["items"].(map[string]any))
		}
	}
	strict("$", s)
	props := s["properties"].(map[string]any)
	enum := props["tags"].(map[string]any)["items"].(map[string]any)["properties"].(map[string]any)["code"].(map[string]any)["enum"].([]any)
	var got []string
	for _, e := range enum {
		got = append(got, e.(string))
	}
	if !slices.Equal(got, f.codes) {
		t.Errorf("schema: code enum %v, want %v", got, f.codes)
	}
	_, confirm := props["rejected"]
	return confirm
}

// parse reads the user message: context turns, turns to code, candidates.
func (f *fakeLLM) parse(msg string) fakeRequest {
	var fr fakeRequest
	section := ""
	for _, l := range strings.Split(msg, "\n") {
		switch {
		case strings.HasPrefix(l, "Context"):
			section = "context"
		case strings.HasPrefix(l, "Turns to code"):
			section = "turns"
		case strings.HasPrefix(l, "Candidate tags"):
			section = "candidates"
		case section == "candidates" && candLine.MatchString(l):
			m := candLine.FindStringSubmatch(l)
			var ev string
			json.Unmarshal([]byte(m[3]), &ev)
			fr.candidates = append(fr.candidates, fakeTag{Segment: atoi(m[1]), Code: m[2], Evidence: ev})
		case turnLine.MatchString(l):
			m := turnLine.FindStringSubmatch(l)
			turn := fakeTurn{seg: atoi(m[1]), role: m[2], text: m[3]}
			if section == "context" {
				fr.context = append(fr.context, turn)
			} else {
				fr.turns = append(fr.turns, turn)
			}
		}
	}
	return fr
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

var sentenceRE = regexp.MustCompile(`[^.?!]+[.?!]?`)

// fakeModel codes turns the way a careful but imperfect model would: a
// worker's question starting with what, how or tell is an open question
// (quoted exactly); a worker's sentence with "sounds like" or "you feel" is
// a reflection (quoted in lower case without its full stop, as models
// often do); "well done" or "I can see" is an affirmation. Segments in
// inventFor get an affirmation quoting words the turn does not have.
func (f *fakeLLM) fakeModel(fr fakeRequest) ([]fakeTag, []fakeRejected) {
	tags := []fakeTag{}
	asked := map[int]bool{}
	for _, turn := range fr.turns {
		asked[turn.seg] = true
		if f.inventFor[turn.seg] {
			tags = append(tags, fakeTag{turn.seg, "affirmation", "You have done brilliantly with all of this."})
		}
		if turn.role != "worker" {
			continue
		}
		for _, s := range sentenceRE.FindAllString(turn.text, -1) {
			s = strings.TrimSpace(s)
			low := strings.ToLower(s)
			switch {
			case strings.HasSuffix(s, "?") && (strings.HasPrefix(low, "what") || strings.HasPrefix(low, "how") || strings.HasPrefix(low, "tell")):
				tags = append(tags, fakeTag{turn.seg, "open_question", s})
			case strings.Contains(low, "sounds like") || strings.Contains(low, "you feel"):
				tags = append(tags, fakeTag{turn.seg, "reflective_listening", strings.TrimRight(low, ".")})
			case strings.Contains(low, "well done") || strings.Contains(low, "i can see"):
				tags = append(tags, fakeTag{turn.seg, "affirmation", s})
			}
		}
	}
	for _, e := range f.extras {
		if asked[e.Segment] || e.Segment >= 900 && len(fr.turns) > 0 {
			tags = append(tags, e)
		}
	}
	rejected := []fakeRejected{}
	for _, c := range fr.candidates {
		if f.rejectCodes[c.Code] {
			rejected = append(rejected, fakeRejected{c.Segment, c.Code})
		}
		if f.confirmCodes[c.Code] {
			tags = append(tags, c)
		}
	}
	return tags, rejected
}

// waits records the tagger's waits between attempts instead of sleeping.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func newLLMTestTagger(t *testing.T, f *fakeLLM, cfg LLMConfig) (*LLMTagger, *waits) {
	t.Helper()
	if cfg.BaseURL == "" {
		cfg.BaseURL = f.url()
	}
	if cfg.Model == "" {
		cfg.Model = f.model
	}
	if cfg.APIKey == "" {
		cfg.APIKey = f.key
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	lt, err := NewLLMTagger(DefaultCodebook(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &waits{}
	lt.sleep = w.sleep
	return lt, w
}

// llmMeeting is a meeting of n turns, worker first, of sentences the fake
// model codes.
func llmMeeting(n int) *hark.Transcript {
	worker := []string{
		"Thanks for letting me come round. What would you like to talk about first?",
		"It sounds like the mornings have been a real battle.",
		"How did the appointment with the health visitor go?",
		"You've got him to nursery every day this week. Well done.",
		"Tell me about a good evening with the boys.",
		"So you feel the school haven't listened to you.",
		"Did he sleep through last night?",
		"I can see how much effort you've put into the routine.",
	}
	parent := []string{
		"Honestly, I'm just tired all the time.",
		"The school ring me nearly every day about him.",
		"It went fine, she said his weight is good now.",
		"My sister helps on Thursdays, that's about it.",
		"He was up twice, but he went back down.",
	}
	tr := &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: "rec_llm", Engine: "test"}
	for i := 0; i < n; i++ {
		s := hark.Segment{Index: i, Start: float64(6 * i), End: float64(6*i + 5), Confidence: 1}
		if i%2 == 0 {
			s.Speaker, s.Role, s.Text = "Jo", hark.RoleWorker, worker[(i/2)%len(worker)]
		} else {
			s.Speaker, s.Role, s.Text = "Sam", hark.RoleParent, parent[(i/2)%len(parent)]
		}
		tr.Segments = append(tr.Segments, s)
	}
	return tr
}

// checkLLMTags checks the invariants of every tag: a segment that exists,
// evidence that is the text between its offsets, a confidence in (0, 1], a
// source, a code whose role is the speaker's, one tag per code a segment.
func checkLLMTags(t *testing.T, tr *hark.Transcript, a *hark.Annotations) {
	t.Helper()
	cb := DefaultCodebook()
	segs := map[int]*hark.Segment{}
	for i := range tr.Segments {
		segs[tr.Segments[i].Index] = &tr.Segments[i]
	}
	seen := map[segCode]bool{}
	for _, tag := range a.Tags {
		s, ok := segs[tag.Segment]
		if !ok {
			t.Errorf("tag %+v: no segment %d", tag, tag.Segment)
			continue
		}
		if tag.Start < 0 || tag.End > len(s.Text) || tag.Start >= tag.End || s.Text[tag.Start:tag.End] != tag.Evidence {
			t.Errorf("tag %+v: evidence is not text[%d:%d] of %q", tag, tag.Start, tag.End, s.Text)
		}
		if tag.Confidence <= 0 || tag.Confidence > 1 {
			t.Errorf("tag %+v: confidence outside (0, 1]", tag)
		}
		if tag.Source != hark.SourceLLM && tag.Source != hark.SourceRules || tag.Review != hark.ReviewPending {
			t.Errorf("tag %+v: source %q review %q", tag, tag.Source, tag.Review)
		}
		if c := cb.Code(tag.Code); c == nil || !c.AppliesTo(s.Role) {
			t.Errorf("tag %+v: code does not apply to a %s", tag, s.Role)
		}
		k := segCode{tag.Segment, tag.Code}
		if seen[k] {
			t.Errorf("segment %d has two %s tags", tag.Segment, tag.Code)
		}
		seen[k] = true
	}
	if a.Codebook != cb.ID || a.CodebookVersion != cb.Version {
		t.Errorf("annotations: codebook %s %s, want %s %s", a.Codebook, a.CodebookVersion, cb.ID, cb.Version)
	}
}

func TestLLMTagger(t *testing.T) {
	f := newFakeLLM(t, DefaultCodebook())
	// Segment 12 gets an invented quote; the model also makes each kind of
	// mistake validation must catch.
	f.inventFor = map[int]bool{12: true}
	f.extras = []fakeTag{
		{Segment: 2, Code: "praise", Evidence: "How did the appointment with the health visitor go?"},        // not in the codebook
		{Segment: 1, Code: "open_question", Evidence: "Honestly, I'm just tired all the time."},              // a parent's turn
		{Segment: 999, Code: "open_question", Evidence: "What would you like to talk about first?"},          // no such segment
		{Segment: 4, Code: "open_question", Evidence: "How did the appointment with the health visitor go?"}, // a duplicate
		{Segment: 24, Code: "open_question", Evidence: "Tell me about a good evening"},                       // fine: part of a sentence
		{Segment: 26, Code: "shared_concern", Evidence: "so you feel ... listened to you"},                   // fine: an elision
	}
	lt, _ := newLLMTestTagger(t, f, LLMConfig{})
	tr := llmMeeting(45)
	a, stats, err := lt.TagStats(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	checkLLMTags(t, tr, a)
	if a.Tagger != "llm:"+f.model {
		t.Errorf("tagger %q", a.Tagger)
	}

	// Three batches of at most 20 turns, each after three turns of context.
	reqs := f.requests()
	slices.SortFunc(reqs, func(x, y fakeRequest) int { return x.turns[0].seg - y.turns[0].seg })
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		from := 20 * i
		if len(r.turns) != min(20, 45-from) || r.turns[0].seg != from {
			t.Errorf("request %d: %d turns from %d, want %d from %d", i, len(r.turns), r.turns[0].seg, min(20, 45-from), from)
		}
		wantCtx := min(3, from)
		if len(r.context) != wantCtx || wantCtx > 0 && r.context[0].seg != from-3 {
			t.Errorf("request %d: context %v, want %d turns before %d", i, r.context, wantCtx, from)
		}
		if r.confirm {
			t.Errorf("request %d asks for rejections in llm mode", i)
		}
	}

	got := map[string]bool{}
	for _, tag := range a.Tags {
		got[fmt.Sprintf("%d %s", tag.Segment, tag.Code)] = true
		if tag.Source != hark.SourceLLM || tag.Confidence != llmConfidence {
			t.Errorf("tag %+v: want source llm, confidence %v", tag, llmConfidence)
		}
	}
	for _, want := range []string{"0 open_question", "2 reflective_listening", "4 open_question", "6 affirmation", "10 reflective_listening", "14 affirmation", "24 open_question", "26 shared_concern"} {
		if !got[want] {
			t.Errorf("no tag %s; got %v", want, got)
		}
	}
	for _, bad := range []string{"12 affirmation", "2 praise", "1 open_question", "999 open_question"} {
		if got[bad] {
			t.Errorf("tag %s was kept", bad)
		}
	}
	// The reflection was quoted in lower case without its full stop; the
	// tag's evidence is the text as said, as far as the quote went.
	for _, tag := range a.Tags {
		if tag.Segment == 2 && tag.Code == "reflective_listening" && tag.Evidence != "It sounds like the mornings have been a real battle" {
			t.Errorf("reflection evidence %q", tag.Evidence)
		}
		if tag.Segment == 26 && tag.Evidence != tr.Segments[26].Text[:len(tr.Segments[26].Text)-1] {
			t.Errorf("elided evidence %q", tag.Evidence)
		}
	}
	wantDropped := map[string]int{DropSpanNotFound: 1, DropUnknownCode: 1, DropWrongRole: 1, DropOutOfRange: 3, DropDuplicate: 1}
	for k, v := range wantDropped {
		if stats.Dropped[k] != v {
			t.Errorf("dropped %s: %d, want %d (all: %v)", k, stats.Dropped[k], v, stats.Dropped)
		}
	}
	if stats.LLMTags != len(a.Tags) || stats.Returned != len(a.Tags)+stats.DroppedTotal() {
		t.Errorf("stats %+v: %d tags kept", stats, len(a.Tags))
	}
	// Token use is the sum of the responses' usage.
	u := stats.Usage
	if u.Requests != 3 || u.Retries != 0 || u.PromptTokens != f.tokens.prompt || u.CompletionTokens != f.tokens.completion || u.TotalTokens != u.PromptTokens+u.CompletionTokens || u.PromptTokens == 0 {
		t.Errorf("usage %+v; server counted %+v", u, f.tokens)
	}
	if lt.TotalUsage() != u {
		t.Errorf("total usage %+v, want %+v", lt.TotalUsage(), u)
	}
	// Segment 12's invented quote is dropped, and the tagger's tags are in
	// transcript order.
	if !slices.IsSortedFunc(a.Tags, func(x, y hark.Tag) int { return x.Segment - y.Segment }) {
		t.Errorf("tags out of order")
	}
}

// The fake's hallucination is also caught when the invented quote is
// close to the text: words the turn does not have in that order.
func TestLLMTaggerDropsNearMisses(t *testing.T) {
	f := newFakeLLM(t, DefaultCodebook())
	f.extras = []fakeTag{
		{Segment: 0, Code: "open_question", Evidence: "What would you like to discuss first?"},
		{Segment: 2, Code: "reflective_listening", Evidence: "the mornings have been a battle"},
		{Segment: 4, Code: "affirmation", Evidence: ""},
	}
	f.content = ""
	lt, _ := newLLMTestTagger(t, f, LLMConfig{})
	tr := llmMeeting(6)
	tr.Segments[2].Text = "Mornings sound hard."
	_, stats, err := lt.TagStats(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Dropped[DropSpanNotFound] != 3 {
		t.Errorf("dropped %v, want 3 spans not found", stats.Dropped)
	}
}

func TestLLMTaggerRetryAfter(t *testing.T) {
	f := newFakeLLM(t, DefaultCodebook())
	f.busy, f.fail5xx = 2, 1
	lt, w := newLLMTestTagger(t, f, LLMConfig{})
	a, stats, err := lt.TagStats(context.Background(), llmMeeting(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Tags) == 0 {
		t.Error("no tags")
	}
	// Two 429s with Retry-After: 7, then a 503 without: a backoff of about
	// four seconds (two, with jitter, after the third attempt).
	if len(w.d) != 3 || w.d[0] != 7*time.Second || w.d[1] != 7*time.Second || w.d[2] < 2*time.Second || w.d[2] > 6*time.Second {
		t.Errorf("waits %v", w.d)
	}
	if stats.Usage.Requests != 4 || stats.Usage.Retries != 3 {
		t.Errorf("usage %+v", stats.Usage)
	}
}

func TestLLMTaggerRetryAfterCapped(t *testing.T) {
	f := newFakeLLM(t, DefaultCodebook())
	f.busy, f.retryAfter = 1, "3600"
	lt, w := newLLMTestTagger(t, f, LLMConfig{MaxBackoff: 30 * time.Second})
	if _, err := lt.Tag(context.Background(), llmMeeting(4)); err != nil {
		t.Fatal(err)
	}
	if len(w.d) != 1 || w.d[0] != 30*time.Second {
		t.Errorf("waits %v, want one of 30s", w.d)
	}
}

func TestLLMTaggerErrors(t *testing.T) {
	cb := DefaultCodebook()
	for _, tc := range []struct {
		name     string
		setup    func(f *fakeLLM, cfg *LLMConfig)
		code     string
		msg      string
		requests int
	}{
		{"bad key", func(f *fakeLLM, cfg *LLMConfig) { cfg.APIKey = "sk-wrong" }, hark.EINVALID, "HARK_LLM_API_KEY", 1},
		{"unknown model", func(f *fakeLLM, cfg *LLMConfig) { cfg.Model = "no-such-model" }, hark.EINVALID, "HARK_LLM_MODEL", 1},
		{"always busy", func(f *fakeLLM, cfg *LLMConfig) { f.busy = 100 }, hark.EUNAVAILABLE, "failed 3 times (429", 3},
		{"always failing", func(f *fakeLLM, cfg *LLMConfig) { f.fail5xx = 100 }, hark.EUNAVAILABLE, "503", 3},
		{"slow", func(f *fakeLLM, cfg *LLMConfig) { f.delay, cfg.RequestTimeout = time.Second, 50*time.Millisecond }, hark.EUNAVAILABLE, "no answer within 50ms", 3},
		{"not json", func(f *fakeLLM, cfg *LLMConfig) { f.content = "Sure! Here are the tags you asked for." }, hark.EINVALID, "structured output", 3},
		{"one turn too long", func(f *fakeLLM, cfg *LLMConfig) { f.maxPrompt = 10 }, hark.EINVALID, "too long for model", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLLM(t, cb)
			cfg := LLMConfig{MaxAttempts: 3, BatchTurns: 20}
			tc.setup(f, &cfg)
			lt, _ := newLLMTestTagger(t, f, cfg)
			_, err := lt.Tag(context.Background(), llmMeeting(4))
			if hark.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v (%s), want %s with %q", err, hark.ErrorCode(err), tc.code, tc.msg)
			}
			if tc.requests > 0 && len(f.requests()) != tc.requests {
				t.Errorf("%d requests, want %d", len(f.requests()), tc.requests)
			}
			if strings.Contains(err.Error(), f.key) {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
}

func TestLLMTaggerServerDown(t *testing.T) {
	f := newFakeLLM(t, DefaultCodebook())
	lt, _ := newLLMTestTagger(t, f, LLMConfig{MaxAttempts: 2})
	f.srv.Close()
	_, err := lt.Tag(context.Background(), llmMeeting(4))
	if !hark.IsTemporary(err) || !strings.Contains(err.Error(), "network error") {
		t.Fatalf("error %v, want unavailable after network errors", err)
	}
}

func TestLLMTaggerCancelled(t *testing.T) {
	f := newFakeLLM(t, DefaultCodebook())
	f.busy = 100
	lt, _ := newLLMTestTagger(t, f, LLMConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	lt.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	_, err := lt.Tag(ctx, llmMeeting(4))
	if !hark.IsTemporary(err) {
		t.Fatalf("error %v, want unavailable", err)
	}
}

// A batch too long for the model's context is split until it fits.
func TestLLMTaggerContextLength(t *testing.T) {
	f := newFakeLLM(t, DefaultCodebook())
	lt, _ := newLLMTestTagger(t, f, LLMConfig{})
	tr := llmMeeting(20)
	full := lt.request(tr, lt.makeBatch(0, 20), nil, false)
	half := lt.request(tr, lt.makeBatch(10, 15), nil, false)
	f.maxPrompt = len(half.Messages[0].Content+half.Messages[1].Content) + 20
	if len(full.Messages[0].Content+full.Messages[1].Content) <= f.maxPrompt {
		t.Fatal("the test's batch fits")
	}
	a, stats, err := lt.TagStats(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	var tooLong, ok int
	covered := map[int]int{}
	for _, r := range f.requests() {
		switch r.status {
		case 400:
			tooLong++
		case 200:
			ok++
			for _, turn := range r.turns {
				covered[turn.seg]++
			}
		}
	}
	if tooLong == 0 || ok < 4 || len(covered) != 20 {
		t.Errorf("%d too long, %d answered, %d segments covered", tooLong, ok, len(covered))
	}
	for seg, n := range covered {
		if n != 1 {
			t.Errorf("segment %d coded %d times", seg, n)
		}
	}
	// The same tags as without a limit.
	f2 := newFakeLLM(t, DefaultCodebook())
	lt2, _ := newLLMTestTagger(t, f2, LLMConfig{})
	b, _ := lt2.Tag(context.Background(), tr)
	if !sameTags(a.Tags, b.Tags) {
		t.Errorf("split batches gave %v, whole %v", a.Tags, b.Tags)
	}
	if stats.Usage.Requests != len(f.requests()) {
		t.Errorf("usage %+v, %d requests", stats.Usage, len(f.requests()))
	}
}

func sameTags(a, b []hark.Tag) bool {
	return slices.EqualFunc(a, b, func(x, y hark.Tag) bool {
		return x.Segment == y.Segment && x.Code == y.Code && x.Start == y.Start && x.End == y.End && x.Source == y.Source && x.Confidence == y.Confidence
	})
}

func TestTaggerModes(t *testing.T) {
	cb := DefaultCodebook()
	rules := newTestTagger(t)
	f := newFakeLLM(t, cb)
	lt, _ := newLLMTestTagger(t, f, LLMConfig{})
	tr := readMeeting(t, "mixed")
	ctx := context.Background()

	ra, err := rules.Tag(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(ra.Tags) < 4 {
		t.Fatalf("the mixed meeting has %d rule tags", len(ra.Tags))
	}

	// rules: the rule tagger's own.
	tg, err := NewTagger(ModeRules, rules, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, stats, err := tg.TagStats(ctx, tr)
	if err != nil || !sameTags(a.Tags, ra.Tags) || stats.RuleTags != len(ra.Tags) || len(f.requests()) != 0 {
		t.Fatalf("rules mode: %v, %+v, %d requests", err, stats, len(f.requests()))
	}

	// rules+llm: the model rejects directives, confirms reflections and
	// finds its own tags.
	f.rejectCodes = map[string]bool{"directive": true}
	f.confirmCodes = map[string]bool{"reflective_listening": true}
	tg, err = NewTagger(ModeRulesLLM, rules, lt, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, stats, err = tg.TagStats(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	checkLLMTags(t, tr, a)
	if a.Tagger != "rules+llm:"+f.model || tg.Name() != "rules+llm" {
		t.Errorf("tagger %q, name %q", a.Tagger, tg.Name())
	}
	reqs := f.requests()
	if len(reqs) != 1 || !reqs[0].confirm || len(reqs[0].candidates) != len(ra.Tags) {
		t.Fatalf("requests %+v: want one asking to confirm %d candidates", reqs, len(ra.Tags))
	}
	ruleBy := map[segCode]hark.Tag{}
	for _, r := range ra.Tags {
		ruleBy[segCode{r.Segment, r.Code}] = r
	}
	var confirmedN, added, rejected int
	out := map[segCode]hark.Tag{}
	for _, tag := range a.Tags {
		out[segCode{tag.Segment, tag.Code}] = tag
		r, isRule := ruleBy[segCode{tag.Segment, tag.Code}]
		switch {
		case isRule && tag.Confidence == confirmed(r.Confidence):
			// Confirmed: the rule's evidence and source, a higher confidence.
			confirmedN++
			if tag.Source != hark.SourceRules || tag.Evidence != r.Evidence {
				t.Errorf("confirmed tag %+v from rule %+v", tag, r)
			}
		case isRule:
			if tag.Source != hark.SourceRules || tag.Confidence != r.Confidence || tag.Code == "reflective_listening" {
				t.Errorf("rule tag %+v changed from %+v, or a reflection not confirmed", tag, r)
			}
		default:
			added++
			if tag.Source != hark.SourceLLM || tag.Confidence != llmConfidence {
				t.Errorf("added tag %+v", tag)
			}
		}
	}
	for k := range ruleBy {
		if _, ok := out[k]; !ok {
			rejected++
			if k.code != "directive" {
				t.Errorf("rule tag %v dropped without a rejection", k)
			}
		}
	}
	if rejected == 0 || confirmedN == 0 {
		t.Errorf("the mixed meeting should have a rejected directive and a confirmed reflection: %+v", stats)
	}
	if stats.Confirmed != confirmedN || stats.Added != added || stats.Rejected != rejected || stats.Tags != len(a.Tags) || stats.RuleTags != len(ra.Tags) {
		t.Errorf("stats %+v; counted %d confirmed, %d added, %d rejected", stats, confirmedN, added, rejected)
	}
	if stats.Usage.TotalTokens == 0 {
		t.Errorf("no token use recorded: %+v", stats.Usage)
	}

	// llm: the model's own.
	tg, err = NewTagger(ModeLLM, nil, lt, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err = tg.TagStats(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range a.Tags {
		if tag.Source != hark.SourceLLM {
			t.Errorf("llm mode tag %+v", tag)
		}
	}
	if last := f.requests()[len(f.requests())-1]; last.confirm || len(last.candidates) != 0 {
		t.Errorf("llm mode sent candidates")
	}
}

func TestNewTaggerErrors(t *testing.T) {
	rules := newTestTagger(t)
	f := newFakeLLM(t, DefaultCodebook())
	lt, _ := newLLMTestTagger(t, f, LLMConfig{})
	other := DefaultCodebook()
	other.Version = "0.0.1"
	lt2, err := NewLLMTagger(other, LLMConfig{BaseURL: f.url(), Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode  Mode
		rules *RuleTagger
		llm   *LLMTagger
		msg   string
	}{
		{"both", rules, lt, "unknown tagger"},
		{ModeRules, nil, lt, "needs the rule tagger"},
		{ModeLLM, rules, nil, "HARK_LLM_MODEL"},
		{ModeRulesLLM, rules, nil, "needs the LLM tagger"},
		{ModeRulesLLM, rules, lt2, "codebook"},
	} {
		_, err := NewTagger(tc.mode, tc.rules, tc.llm, nil)
		if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("NewTagger(%s): %v, want %q", tc.mode, err, tc.msg)
		}
	}
	for _, s := range []string{"rules", "LLM", "rules+llm", ""} {
		if _, err := ParseMode(s); err != nil {
			t.Errorf("ParseMode(%q): %v", s, err)
		}
	}
	if _, err := ParseMode("gpt"); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("ParseMode(gpt): %v", err)
	}
}

func TestNewLLMTaggerErrors(t *testing.T) {
	cb := DefaultCodebook()
	for _, tc := range []struct {
		cfg LLMConfig
		msg string
	}{
		{LLMConfig{BaseURL: "http://llm:8000/v1"}, "HARK_LLM_MODEL"},
		{LLMConfig{BaseURL: "llm:8000", Model: "m"}, "HARK_LLM_BASE_URL"},
		{LLMConfig{Model: "gpt-4o-mini"}, "HARK_LLM_API_KEY"},
		{LLMConfig{BaseURL: "http://llm/v1", Model: "m", BatchTurns: -1}, "positive"},
	} {
		_, err := NewLLMTagger(cb, tc.cfg)
		if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("NewLLMTagger(%+v): %v, want %q", tc.cfg, err, tc.msg)
		}
	}
	if _, err := NewLLMTagger(nil, LLMConfig{BaseURL: "http://llm/v1", Model: "m"}); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("no codebook: %v", err)
	}
	lt, err := NewLLMTagger(cb, LLMConfig{BaseURL: "http://llm/v1", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lt.Tag(context.Background(), nil); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("nil transcript: %v", err)
	}
}

func TestFindEvidence(t *testing.T) {
	const text = "Okay. So you’re saying the mornings are a real battle, and nobody helps? That must be exhausting."
	for _, tc := range []struct {
		evidence string
		want     string // "" for not found
	}{
		{"So you’re saying the mornings are a real battle, and nobody helps?", "So you’re saying the mornings are a real battle, and nobody helps?"},
		{`"That must be exhausting."`, "That must be exhausting."},
		{"so you're saying the mornings are a real battle and nobody helps", "So you’re saying the mornings are a real battle, and nobody helps"},
		{"So you're saying the mornings are a real battle, and nobody helps?", "So you’re saying the mornings are a real battle, and nobody helps?"},
		{"  THAT MUST BE   EXHAUSTING  ", "THAT MUST BE   EXHAUSTING"[0:0] + "That must be exhausting"},
		{"So you're saying ... nobody helps?", "So you’re saying the mornings are a real battle, and nobody helps?"},
		{"the mornings are a real struggle", ""},
		{"That must be exhausting for you.", ""},
		{"orn", ""},     // inside a word
		{"ok … be", ""}, // too little left after the elision
		{"", ""},
		{"...", ""},
	} {
		start, end, ok := findEvidence(text, tc.evidence)
		got := ""
		if ok {
			got = text[start:end]
		}
		if got != tc.want {
			t.Errorf("findEvidence(%q) = %q, want %q", tc.evidence, got, tc.want)
		}
	}
}

func FuzzFindEvidence(f *testing.F) {
	f.Add("So you’re saying the mornings are hard?", "you're saying ... hard?")
	f.Add("Well done.", "well done")
	f.Add("a\u00a0b", "A B")
	f.Fuzz(func(t *testing.T, text, ev string) {
		start, end, ok := findEvidence(text, ev)
		if ok && (start < 0 || end > len(text) || start >= end) {
			t.Fatalf("findEvidence(%q, %q) = %d, %d", text, ev, start, end)
		}
	})
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
