package transcribe

import (
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// Engine names, as given in EngineConfig.Name, HARK_ENGINE and an upload's
// engine metadata (Recording.Engine).
const (
	EngineOpenAI  = "openai"
	EngineSphinx  = "sphinx"
	EngineSidecar = "sidecar"
)

// EngineConfig configures the transcript engines a deployment offers.
// FromEnv reads it from the environment.
type EngineConfig struct {
	// Name is the deployment's default engine: EngineOpenAI, EngineSphinx
	// or EngineSidecar (sidecar transcripts only). Empty means openai when
	// it is configured, else sphinx when it is enabled and installed.
	Name string
	// OpenAI configures the openai engine, which is offered when a base URL
	// or an API key is set.
	OpenAI OpenAIConfig
	// Sphinx configures the sphinx engine, which is offered when
	// Sphinx.Program is set and installed. FromEnv sets it to
	// pocketsphinx_continuous unless HARK_SPHINX_PROGRAM is "off".
	Sphinx SphinxConfig
	// TempDir is where audio chunks are written, for engines that do not
	// set their own; "" means the system's temporary directory.
	TempDir string
	// Logger is for engines that do not set their own; nil means
	// slog.Default(). Transcript text is never logged.
	Logger *slog.Logger
}

// sphinxEnabled reports whether the sphinx engine is to be offered.
func (c EngineConfig) sphinxEnabled() bool { return c.Sphinx.Program != "" }

func (c EngineConfig) withDefaults() EngineConfig {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.OpenAI.Logger == nil {
		c.OpenAI.Logger = c.Logger
	}
	if c.Sphinx.Logger == nil {
		c.Sphinx.Logger = c.Logger
	}
	if c.OpenAI.TempDir == "" {
		c.OpenAI.TempDir = c.TempDir
	}
	if c.Sphinx.TempDir == "" {
		c.Sphinx.TempDir = c.TempDir
	}
	c.Name = strings.ToLower(strings.TrimSpace(c.Name))
	return c
}

// FromEnv reads an EngineConfig from environment variables through getenv
// (os.Getenv, or a map's lookup in tests):
//
//	HARK_ENGINE                the default engine: openai, sphinx or sidecar (default: openai if configured, else sphinx if installed)
//	HARK_OPENAI_BASE_URL       an OpenAI-compatible API, up to /v1 (default: OpenAI's, when a key is set)
//	HARK_OPENAI_MODEL          the model (default whisper-1)
//	HARK_OPENAI_RESPONSE_FORMAT verbose_json, diarized_json or json (default: diarized_json for a diarizing model, else verbose_json)
//	HARK_OPENAI_API_KEY        the API key, or
//	HARK_OPENAI_API_KEY_FILE   a file holding it (for Docker and Kubernetes secrets)
//	HARK_OPENAI_LANGUAGE       the spoken language, ISO-639-1 (default: detected)
//	HARK_OPENAI_PROMPT         words that guide recognition: names, terms
//	HARK_OPENAI_CONCURRENCY    requests in flight per recording (default 4)
//	HARK_OPENAI_TIMEOUT        the limit on one request, e.g. 10m (default 10m)
//	HARK_OPENAI_MAX_CHUNK_MB   the largest audio file per request in MB (default 25)
//	HARK_SPHINX_PROGRAM        pocketsphinx_continuous, a path to it, or off (default pocketsphinx_continuous)
//	HARK_SPHINX_MODEL_DIR      the en-us model (default /usr/share/pocketsphinx/model/en-us)
//	HARK_SPHINX_CONCURRENCY    recognisers per recording (default: one per CPU)
//	HARK_SPHINX_CHUNK_SECONDS  the longest piece of audio one recogniser gets, in seconds (default 120)
//
// The API key is never taken from a command-line flag. Errors are EINVALID
// and name the variable.
func FromEnv(getenv func(string) string) (EngineConfig, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := EngineConfig{
		Name: get("HARK_ENGINE"),
		OpenAI: OpenAIConfig{
			BaseURL:        get("HARK_OPENAI_BASE_URL"),
			Model:          get("HARK_OPENAI_MODEL"),
			ResponseFormat: get("HARK_OPENAI_RESPONSE_FORMAT"),
			APIKey:         get("HARK_OPENAI_API_KEY"),
			Language:       get("HARK_OPENAI_LANGUAGE"),
			Prompt:         get("HARK_OPENAI_PROMPT"),
		},
		Sphinx: SphinxConfig{
			Program:  get("HARK_SPHINX_PROGRAM"),
			ModelDir: get("HARK_SPHINX_MODEL_DIR"),
		},
	}
	switch c.Name {
	case "", EngineOpenAI, EngineSphinx, EngineSidecar:
	default:
		return c, hark.Errorf(hark.EINVALID, "HARK_ENGINE=%q: use openai, sphinx or sidecar", c.Name)
	}
	if file := get("HARK_OPENAI_API_KEY_FILE"); file != "" {
		if c.OpenAI.APIKey != "" {
			return c, hark.Errorf(hark.EINVALID, "set HARK_OPENAI_API_KEY or HARK_OPENAI_API_KEY_FILE, not both")
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return c, hark.WrapError(hark.EINVALID, err, "read the OpenAI API key from HARK_OPENAI_API_KEY_FILE")
		}
		if c.OpenAI.APIKey = strings.TrimSpace(string(data)); c.OpenAI.APIKey == "" {
			return c, hark.Errorf(hark.EINVALID, "HARK_OPENAI_API_KEY_FILE names an empty file")
		}
	}
	var err error
	intVar := func(k string, dst *int) {
		if v := get(k); v != "" && err == nil {
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 1 {
				err = hark.Errorf(hark.EINVALID, "%s=%q: want a whole number above 0", k, v)
			}
			*dst = n
		}
	}
	intVar("HARK_OPENAI_CONCURRENCY", &c.OpenAI.Concurrency)
	intVar("HARK_SPHINX_CONCURRENCY", &c.Sphinx.Concurrency)
	var chunk int
	if intVar("HARK_SPHINX_CHUNK_SECONDS", &chunk); chunk > 0 {
		c.Sphinx.ChunkDuration = time.Duration(chunk) * time.Second
	}
	if v := get("HARK_OPENAI_TIMEOUT"); v != "" && err == nil {
		d, perr := time.ParseDuration(v)
		if perr != nil || d <= 0 {
			err = hark.Errorf(hark.EINVALID, "HARK_OPENAI_TIMEOUT=%q: want a duration such as 10m", v)
		}
		c.OpenAI.RequestTimeout = d
	}
	if v := get("HARK_OPENAI_MAX_CHUNK_MB"); v != "" && err == nil {
		mb, perr := strconv.ParseFloat(v, 64)
		if perr != nil || mb < 1 {
			err = hark.Errorf(hark.EINVALID, "HARK_OPENAI_MAX_CHUNK_MB=%q: want a size in MB, at least 1", v)
		}
		c.OpenAI.MaxChunkBytes = int64(mb * 1e6)
	}
	if err != nil {
		return c, err
	}
	switch strings.ToLower(c.Sphinx.Program) {
	case "":
		c.Sphinx.Program = DefaultSphinxProgram
	case "off", "none", "no", "false":
		c.Sphinx.Program = ""
	}
	return c, nil
}

// NewEngine builds the engine cfg.Name names: openai, sphinx, sidecar (a
// Service that only uses sidecar transcripts), or for "" the deployment's
// default. Errors say what to configure or install.
func NewEngine(cfg EngineConfig) (hark.Engine, error) {
	cfg = cfg.withDefaults()
	switch cfg.Name {
	case EngineOpenAI:
		if !cfg.OpenAI.Configured() {
			return nil, hark.Errorf(hark.EINVALID, "the openai engine is not configured: set HARK_OPENAI_BASE_URL to a Whisper server's /v1 URL, or HARK_OPENAI_API_KEY for OpenAI's API (see docs/engines.md)")
		}
		return NewOpenAI(cfg.OpenAI)
	case EngineSphinx:
		return NewSphinx(cfg.Sphinx)
	case EngineSidecar:
		return NewService(Config{Logger: cfg.Logger}), nil
	case "":
		if cfg.OpenAI.Configured() {
			return NewOpenAI(cfg.OpenAI)
		}
		if cfg.sphinxEnabled() {
			if s, err := NewSphinx(cfg.Sphinx); err == nil {
				return s, nil
			}
		}
		return nil, noEngineError()
	}
	return nil, unknownEngineError(cfg.Name)
}

func noEngineError() error {
	return hark.Errorf(hark.EINVALID, "no speech recognition engine is available: point hark at a Whisper server with HARK_OPENAI_BASE_URL (or set HARK_OPENAI_API_KEY for OpenAI's API), or install Debian's pocketsphinx and pocketsphinx-en-us for offline recognition; see docs/engines.md")
}

func unknownEngineError(name string) error {
	return hark.Errorf(hark.EINVALID, "unknown transcript engine %q: use openai, sphinx or sidecar", name)
}
