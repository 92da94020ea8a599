package transcribe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/retry"
)

// Defaults of the openai engine.
const (
	DefaultOpenAIBaseURL = "https://api.openai.com/v1"
	DefaultOpenAIModel   = openai.Whisper1
)

// OpenAIConfig configures the openai engine, which sends audio to OpenAI's
// speech-to-text API or to any server that speaks it: self-hosted Whisper
// servers (speaches, whisper.cpp's whisper-server, LocalAI, vLLM).
type OpenAIConfig struct {
	// BaseURL is the API's base URL, up to and including /v1; empty means
	// OpenAI's hosted API.
	BaseURL string
	// Model is the speech-to-text model; empty means whisper-1. A model
	// whose name has "diarize" in it (OpenAI's gpt-4o-transcribe-diarize)
	// tells the speakers apart itself: it is sent no prompt, and the audio
	// is cut into chunks by the server too ("chunking_strategy": "auto").
	Model string
	// ResponseFormat is what the server is asked to answer with:
	// FormatVerboseJSON (segments, and the words' times, which a
	// WhisperX-style server gives speakers), FormatDiarizedJSON (segments
	// with speakers, from a diarizing model) or FormatJSON (text only, one
	// segment a chunk). Empty means diarized_json for a diarizing model,
	// else verbose_json.
	ResponseFormat string
	// APIKey authenticates to the server. The hosted API needs one; many
	// self-hosted servers do not. Read it from the environment or a file,
	// never from a command-line flag.
	APIKey string
	// Language is the spoken language as an ISO-639-1 code ("en"); empty
	// lets the server detect it.
	Language string
	// Prompt is text that guides recognition: names, places, terms
	// ("child protection plan", "core group"). It is sent with every chunk,
	// followed by the previous chunk's last words. Diarizing models take
	// none.
	Prompt string
	// Concurrency is how many requests may be in flight for one recording;
	// 0 means 4.
	Concurrency int
	// MaxChunkBytes is the largest audio file sent in one request; 0
	// means DefaultMaxChunkBytes, the hosted API's 25 MB limit.
	MaxChunkBytes int64
	// RequestTimeout bounds one request; 0 means 10 minutes.
	RequestTimeout time.Duration
	// MaxAttempts is how many times a request is tried when the server is
	// busy or failing (429, 5xx, network errors); 0 means 6.
	MaxAttempts int
	// MaxBackoff caps the wait between attempts, Retry-After included; 0
	// means 2 minutes.
	MaxBackoff time.Duration
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// TempDir is where audio chunks are written; "" means the system's.
	TempDir string
	// Logger logs progress, never transcript text; nil means slog.Default().
	Logger *slog.Logger
}

// Configured reports whether the openai engine has been configured at all:
// a base URL or an API key is set.
func (c OpenAIConfig) Configured() bool { return c.BaseURL != "" || c.APIKey != "" }

// diarizing reports whether the model tells speakers apart itself, as
// OpenAI's gpt-4o-transcribe-diarize does: such models take no prompt and
// no timestamp granularities, and want a chunking strategy.
func (c OpenAIConfig) diarizing() bool { return strings.Contains(strings.ToLower(c.Model), "diarize") }

func (c OpenAIConfig) withDefaults() OpenAIConfig {
	if c.BaseURL == "" {
		c.BaseURL = DefaultOpenAIBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Model == "" {
		c.Model = DefaultOpenAIModel
	}
	c.ResponseFormat = strings.ToLower(strings.TrimSpace(c.ResponseFormat))
	if c.ResponseFormat == "" {
		c.ResponseFormat = FormatVerboseJSON
		if c.diarizing() {
			c.ResponseFormat = FormatDiarizedJSON
		}
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	if c.MaxChunkBytes == 0 {
		c.MaxChunkBytes = DefaultMaxChunkBytes
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10 * time.Minute
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 6
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 2 * time.Minute
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

var languageCode = regexp.MustCompile(`^[a-z]{2,3}$`)

func (c OpenAIConfig) validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return hark.Errorf(hark.EINVALID, "openai engine: the base URL %q is not an http(s) URL; set HARK_OPENAI_BASE_URL to e.g. http://whisper:8000/v1", c.BaseURL)
	}
	if u.Host == "api.openai.com" && c.APIKey == "" {
		return hark.Errorf(hark.EINVALID, "openai engine: OpenAI's hosted API needs a key; set HARK_OPENAI_API_KEY or HARK_OPENAI_API_KEY_FILE, or point HARK_OPENAI_BASE_URL at a self-hosted Whisper server")
	}
	if c.Language != "" && !languageCode.MatchString(c.Language) {
		return hark.Errorf(hark.EINVALID, "openai engine: the language %q is not an ISO-639-1 code such as en or cy; fix HARK_OPENAI_LANGUAGE", c.Language)
	}
	switch c.ResponseFormat {
	case FormatVerboseJSON, FormatDiarizedJSON, FormatJSON:
	default:
		return hark.Errorf(hark.EINVALID, "openai engine: the response format %q is not one hark reads; set HARK_OPENAI_RESPONSE_FORMAT to verbose_json, diarized_json or json", c.ResponseFormat)
	}
	if c.diarizing() && c.Prompt != "" {
		return hark.Errorf(hark.EINVALID, "openai engine: the model %s tells speakers apart and takes no prompt; unset HARK_OPENAI_PROMPT or choose another HARK_OPENAI_MODEL", c.Model)
	}
	if c.Concurrency < 1 || c.MaxAttempts < 1 || c.RequestTimeout < 0 || c.MaxBackoff < 0 {
		return hark.Errorf(hark.EINVALID, "openai engine: concurrency, attempts and timeouts must be positive")
	}
	if _, err := (PrepareConfig{MaxChunkBytes: c.MaxChunkBytes}).maxSamples(); err != nil {
		return hark.Errorf(hark.EINVALID, "openai engine: the chunk limit of %d bytes is too small; chunks must hold at least a second", c.MaxChunkBytes)
	}
	return nil
}

// OpenAI is the openai engine.
type OpenAI struct {
	cfg      OpenAIConfig
	client   *openai.Client
	endpoint retry.Endpoint // what the server's failures mean
	speech   speechEngine
	// sleep waits between attempts; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

var _ hark.Engine = (*OpenAI)(nil)

// NewOpenAI returns an openai engine. It checks the configuration but does
// not contact the server. Errors are EINVALID and name the setting to fix.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cc := openai.DefaultConfig(cfg.APIKey)
	cc.BaseURL = cfg.BaseURL
	cc.HTTPClient = keepBody{next: retry.Doer{Client: cfg.HTTPClient}}
	e := &OpenAI{cfg: cfg, client: openai.NewClientWithConfig(cc), sleep: retry.Sleep,
		endpoint: retry.Endpoint{Server: "the speech-to-text server at " + cfg.BaseURL, BaseURL: cfg.BaseURL, Name: "transcription",
			Path: "/audio/transcriptions", Model: cfg.Model, Answer: "OpenAI's " + cfg.ResponseFormat, Env: "HARK_OPENAI",
			Timeout: cfg.RequestTimeout, Quote: 200}}
	e.speech = speechEngine{
		name: "openai", model: cfg.Model, rec: e, concurrency: cfg.Concurrency,
		prompt: cfg.Prompt, carry: !cfg.diarizing(), log: cfg.Logger,
		prep: PrepareConfig{MaxChunkBytes: cfg.MaxChunkBytes, Dir: cfg.TempDir},
	}
	return e, nil
}

// Name returns "openai".
func (e *OpenAI) Name() string { return "openai" }

// Model returns the model the engine asks for.
func (e *OpenAI) Model() string { return e.cfg.Model }

// Transcribe prepares the recording's audio, sends its chunks to the
// server and stitches the segments back together. With a worker channel in
// the recording's metadata each channel is transcribed on its own and the
// turns are merged by time. Errors: EINVALID, at once, for audio hark or the
// server cannot use and when the server refuses hark's configuration (401,
// 403, 404, a bad model, language or prompt): the recording fails with a
// message saying what to fix, and `hark retry` sends it again afterwards;
// EUNAVAILABLE when the server is busy, down or unreachable after the
// retries.
func (e *OpenAI) Transcribe(ctx context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	t, err := e.speech.transcribe(ctx, in)
	if err != nil {
		return nil, err
	}
	if e.cfg.Language != "" {
		t.Language = e.cfg.Language
	}
	return t, nil
}

// recognize sends one chunk, retrying when the server is busy or failing.
func (e *OpenAI) recognize(ctx context.Context, j chunkJob) (chunkResult, error) {
	log := e.cfg.Logger.With("engine", "openai", "chunk", j.index+1, "track", j.track+1)
	for attempt := 1; ; attempt++ {
		r, wait, err := e.send(ctx, j)
		if err == nil {
			return r, nil
		}
		if ctx.Err() != nil {
			return chunkResult{}, hark.WrapError(hark.EUNAVAILABLE, ctx.Err(), "transcribe %s: stopped", j.name)
		}
		var again *retry.Error
		if !errors.As(err, &again) {
			return chunkResult{}, err
		}
		if attempt >= e.cfg.MaxAttempts {
			return chunkResult{}, hark.WrapError(hark.EUNAVAILABLE, again.Err, "the speech-to-text server at %s failed %d times on %s (%s); hark will try again later", e.cfg.BaseURL, attempt, j.describe(), again.What)
		}
		if wait <= 0 {
			wait = retry.Backoff(attempt)
		}
		wait = min(wait, e.cfg.MaxBackoff)
		log.Info("speech-to-text server busy or failing; retrying", "attempt", attempt, "reason", again.What, "wait", wait)
		if err := e.sleep(ctx, wait); err != nil {
			return chunkResult{}, hark.WrapError(hark.EUNAVAILABLE, err, "transcribe %s: stopped", j.name)
		}
	}
}

// send makes one request and reads its answer. It returns how long the
// server asked hark to wait (Retry-After) along with a *retry.Error.
func (e *OpenAI) send(ctx context.Context, j chunkJob) (chunkResult, time.Duration, error) {
	sctx, slot := retry.WithSlot(ctx)
	bctx, body := withBodySlot(sctx)
	rctx, cancel := context.WithTimeout(bctx, e.cfg.RequestTimeout)
	defer cancel()
	req := openai.AudioRequest{
		Model:    e.cfg.Model,
		FilePath: j.Path,
		Prompt:   j.prompt,
		Language: e.cfg.Language,
		Format:   openai.AudioResponseFormat(e.cfg.ResponseFormat),
	}
	if e.cfg.ResponseFormat == FormatVerboseJSON {
		req.TimestampGranularities = []openai.TranscriptionTimestampGranularity{openai.TranscriptionTimestampGranularityWord, openai.TranscriptionTimestampGranularitySegment}
	}
	if e.cfg.diarizing() {
		req.ChunkingStrategy = "auto" // required above 30 s of audio
	}
	// go-openai reads only some of the answer (no speakers, and none of
	// diarized_json): hark reads the body keepBody kept.
	_, err := e.client.CreateTranscription(rctx, req)
	if err == nil {
		var r chunkResult
		if r, err = parseTranscription(body.data, j.Duration); err == nil {
			return r, 0, nil
		}
	}
	if ctx.Err() != nil {
		return chunkResult{}, 0, ctx.Err()
	}
	return chunkResult{}, slot.Wait, e.classify(j, err)
}

// maxAnswerBytes bounds the answer to one chunk hark reads: a 25 MB chunk's
// transcript, every word timed, is a few megabytes.
const maxAnswerBytes = 64 << 20

// bodySlot receives the body of a successful answer to one request.
type bodySlot struct{ data []byte }

type bodySlotKey struct{}

// withBodySlot returns a context whose requests, sent through keepBody,
// keep their successful answer's body in the returned slot.
func withBodySlot(ctx context.Context) (context.Context, *bodySlot) {
	s := &bodySlot{}
	return context.WithValue(ctx, bodySlotKey{}, s), s
}

// keepBody is the HTTP client go-openai sends through: it keeps a
// successful answer's body in the slot of the request's context, and gives
// go-openai an empty object to read instead, so that an answer go-openai's
// types do not fit (a server's own fields, a segment id that is a string)
// is hark's to judge. Failed answers go through untouched, for go-openai's
// errors and retry.Endpoint.Classify.
type keepBody struct{ next openai.HTTPDoer }

// Do sends req and keeps the body of a 2xx answer.
func (k keepBody) Do(req *http.Request) (*http.Response, error) {
	resp, err := k.next.Do(req)
	slot, ok := req.Context().Value(bodySlotKey{}).(*bodySlot)
	if err != nil || !ok || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, &url.Error{Op: "read", URL: req.URL.String(), Err: err}
	}
	if len(data) > maxAnswerBytes {
		return nil, fmt.Errorf("the answer is larger than %d MB", maxAnswerBytes>>20)
	}
	slot.data = data
	resp.Body = io.NopCloser(strings.NewReader("{}"))
	return resp, nil
}

// classify turns a failed request into a hark error, or a *retry.Error
// when another attempt may succeed.
func (e *OpenAI) classify(j chunkJob, err error) error {
	f, known := e.endpoint.Classify(err)
	if known != nil {
		return known
	}
	server, what := e.endpoint.Server, f.What
	switch {
	case f.Status == http.StatusRequestEntityTooLarge:
		return hark.WrapError(hark.EINVALID, err, "%s refused %s (%.1f MB) as too large (%s): set HARK_OPENAI_MAX_CHUNK_MB below the server's limit", server, j.describe(), float64(j.Bytes)/1e6, what)
	case configParam(f.Param, f.What):
		return hark.WrapError(hark.EINVALID, err, "%s rejected hark's settings (%s): check HARK_OPENAI_MODEL, HARK_OPENAI_RESPONSE_FORMAT, HARK_OPENAI_LANGUAGE and HARK_OPENAI_PROMPT", server, what)
	}
	return hark.WrapError(hark.EINVALID, err, "%s rejected %s (%s)", server, j.describe(), what)
}

// configParam reports whether a 4xx error is about hark's settings rather
// than the audio.
func configParam(param, msg string) bool {
	switch param {
	case "model", "language", "prompt", "response_format", "timestamp_granularities", "timestamp_granularities[]", "chunking_strategy", "temperature":
		return true
	}
	m := strings.ToLower(msg)
	return strings.Contains(m, "model") || strings.Contains(m, "language") || strings.Contains(m, "response_format") || strings.Contains(m, "chunking_strategy")
}
