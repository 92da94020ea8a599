package transcribe

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("sk-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromEnv(env(map[string]string{
		"HARK_OPENAI_BASE_URL": "http://whisper:8000/v1", "HARK_OPENAI_MODEL": "Systran/faster-whisper-small",
		"HARK_OPENAI_API_KEY_FILE": keyFile, "HARK_OPENAI_LANGUAGE": "en", "HARK_OPENAI_PROMPT": "Core group.",
		"HARK_OPENAI_CONCURRENCY": "2", "HARK_OPENAI_TIMEOUT": "90s", "HARK_OPENAI_MAX_CHUNK_MB": "10", "HARK_OPENAI_RESPONSE_FORMAT": "json",
		"HARK_SPHINX_MODEL_DIR": "/opt/model", "HARK_SPHINX_CONCURRENCY": "3", "HARK_SPHINX_CHUNK_SECONDS": "30", "HARK_ENGINE": "sphinx",
	}))
	if err != nil {
		t.Fatal(err)
	}
	o := c.OpenAI
	if c.Name != "sphinx" || o.BaseURL != "http://whisper:8000/v1" || o.Model != "Systran/faster-whisper-small" || o.APIKey != "sk-from-file" ||
		o.Language != "en" || o.Prompt != "Core group." || o.ResponseFormat != "json" || o.Concurrency != 2 || o.RequestTimeout.Seconds() != 90 || o.MaxChunkBytes != 10_000_000 ||
		c.Sphinx.Program != DefaultSphinxProgram || c.Sphinx.ModelDir != "/opt/model" || c.Sphinx.Concurrency != 3 || c.Sphinx.ChunkDuration.Seconds() != 30 {
		t.Errorf("config %+v", c)
	}
	c, err = FromEnv(env(nil))
	if err != nil || c.OpenAI.Configured() || c.Sphinx.Program != DefaultSphinxProgram || c.Name != "" {
		t.Errorf("empty environment: %+v, %v", c, err)
	}
	c, _ = FromEnv(env(map[string]string{"HARK_SPHINX_PROGRAM": "off"}))
	if c.Sphinx.Program != "" {
		t.Errorf("HARK_SPHINX_PROGRAM=off: program %q", c.Sphinx.Program)
	}
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HARK_ENGINE": "whisperx"}, `HARK_ENGINE="whisperx"`},
		{map[string]string{"HARK_OPENAI_API_KEY": "k", "HARK_OPENAI_API_KEY_FILE": keyFile}, "not both"},
		{map[string]string{"HARK_OPENAI_API_KEY_FILE": "/nonexistent/key"}, "HARK_OPENAI_API_KEY_FILE"},
		{map[string]string{"HARK_OPENAI_CONCURRENCY": "0"}, "HARK_OPENAI_CONCURRENCY"},
		{map[string]string{"HARK_OPENAI_TIMEOUT": "10"}, "HARK_OPENAI_TIMEOUT"},
		{map[string]string{"HARK_OPENAI_MAX_CHUNK_MB": "0.5"}, "HARK_OPENAI_MAX_CHUNK_MB"},
		{map[string]string{"HARK_SPHINX_CHUNK_SECONDS": "0"}, "HARK_SPHINX_CHUNK_SECONDS"},
	} {
		if _, err := FromEnv(env(tt.env)); hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FromEnv(%v) = %v, want EINVALID containing %q", tt.env, err, tt.want)
		}
	}
}

// fakeSphinx installs a stand-in for pocketsphinx_continuous that prints
// one utterance, "hello there", and an empty model directory that passes
// NewSphinx's checks.
func fakeSphinx(t *testing.T) SphinxConfig {
	t.Helper()
	dir := t.TempDir()
	prog := filepath.Join(dir, "pocketsphinx_continuous")
	script := "#!/bin/sh\nprintf 'hello there\\n<s> 0.1 0.2 1.0\\nhello 0.30 0.60 0.9\\nthere 0.70 1.00 0.8\\n</s> 1.1 1.2 1.0\\n'\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model")
	for _, f := range []string{"en-us/mdef", "en-us.lm.bin", "cmudict-en-us.dict"} {
		os.MkdirAll(filepath.Dir(filepath.Join(model, f)), 0o755)
		if err := os.WriteFile(filepath.Join(model, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return SphinxConfig{Program: prog, ModelDir: model, Logger: slog.New(slog.DiscardHandler)}
}

func TestNewEngine(t *testing.T) {
	f := newFakeWhisper(t)
	openaiCfg := OpenAIConfig{BaseURL: f.URL(), APIKey: f.key}
	quiet := slog.New(slog.DiscardHandler)
	tests := []struct {
		name    string
		cfg     EngineConfig
		engine  string // the engine built
		errPart string // or part of the error
	}{
		{"default is openai when configured", EngineConfig{OpenAI: openaiCfg, Sphinx: fakeSphinx(t)}, "openai", ""},
		{"default is sphinx without openai", EngineConfig{Sphinx: fakeSphinx(t)}, "sphinx", ""},
		{"neither", EngineConfig{}, "", "HARK_OPENAI_BASE_URL"},
		{"sphinx not installed", EngineConfig{Sphinx: SphinxConfig{Program: "no-such-program"}}, "", "pocketsphinx"},
		{"named sphinx", EngineConfig{Name: "sphinx", OpenAI: openaiCfg, Sphinx: fakeSphinx(t)}, "sphinx", ""},
		{"named openai, not configured", EngineConfig{Name: "openai"}, "", "not configured"},
		{"sidecar", EngineConfig{Name: "sidecar"}, "hark", ""},
		{"unknown", EngineConfig{Name: "whisperx"}, "", `unknown transcript engine "whisperx"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = quiet
			e, err := NewEngine(tt.cfg)
			switch {
			case tt.errPart != "":
				if hark.ErrorCode(err) != hark.EINVALID && hark.ErrorCode(err) != hark.EUNAVAILABLE || !strings.Contains(err.Error(), tt.errPart) {
					t.Errorf("error %v, want one containing %q", err, tt.errPart)
				}
			case err != nil:
				t.Errorf("error %v", err)
			case e.Name() != tt.engine:
				t.Errorf("built %s, want %s", e.Name(), tt.engine)
			}
		})
	}
}

// stubEngine returns a fixed transcript and counts its calls.
type stubEngine struct {
	name  string
	segs  []hark.Segment
	calls int
}

func (s *stubEngine) Name() string { return s.name }
func (s *stubEngine) Transcribe(ctx context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	s.calls++
	if _, err := InspectWAV(in.Recording.Key, in.Audio); err != nil {
		return nil, err
	}
	return &hark.Transcript{Engine: s.name, Segments: append([]hark.Segment(nil), s.segs...)}, nil
}

func TestServiceChoosesEngine(t *testing.T) {
	f := newFakeWhisper(t)
	words := monologue(2)
	audio := wordsAudio(words, 1, 3)
	vtt := &hark.Sidecar{Name: "team/m.vtt", Data: []byte("WEBVTT\n\n00:00:00.500 --> 00:00:01.100\n<v Sam>Hello.\n")}
	full := EngineConfig{OpenAI: OpenAIConfig{BaseURL: f.URL(), APIKey: f.key, TempDir: t.TempDir()}, Sphinx: fakeSphinx(t), Logger: slog.New(slog.DiscardHandler)}
	none := EngineConfig{Logger: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name    string
		cfg     EngineConfig
		engine  string // Recording.Engine
		sidecar *hark.Sidecar
		audio   []byte
		want    string // the transcript's engine, or an error substring
	}{
		{"sidecar wins", full, "openai", vtt, audio, "sidecar"},
		{"upload asks for sphinx", full, "sphinx", nil, audio, "sphinx"},
		{"upload asks for openai", full, "OpenAI", nil, audio, "openai"},
		{"deployment default", full, "", nil, audio, "openai"},
		{"deployment default set to sphinx", EngineConfig{Name: "sphinx", OpenAI: full.OpenAI, Sphinx: full.Sphinx, Logger: full.Logger}, "", nil, audio, "sphinx"},
		{"unknown engine", full, "whisperx", nil, audio, `unknown transcript engine "whisperx"`},
		{"engine not offered", none, "openai", nil, audio, "asks for the openai engine, which this deployment does not offer"},
		{"sidecar asked, none given", full, "sidecar", nil, audio, "asks for the sidecar engine, but no transcript"},
		{"no engine at all", none, "", nil, audio, "HARK_OPENAI_BASE_URL"},
		{"no engine, broken audio", none, "", nil, []byte("RIFF\x10\x00\x00\x00WAVEfmt garbage"), "m.wav"},
		{"mp3 with any engine", full, "", nil, append([]byte("ID3\x03"), make([]byte, 64)...), "MP3 audio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewService(Config{Engines: tt.cfg})
			tr, err := s.Transcribe(context.Background(), hark.EngineInput{
				Recording: &hark.Recording{ID: "rec_1", Key: "team/m.wav", Engine: tt.engine, WorkerSpeaker: "Sam"},
				Audio:     bytes.NewReader(tt.audio), Sidecar: tt.sidecar,
			})
			got := ""
			if err != nil {
				got = err.Error()
				if hark.ErrorCode(err) != hark.EINVALID {
					t.Errorf("error code %s, want invalid", hark.ErrorCode(err))
				}
			} else {
				got = tr.Engine
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if tr != nil && tr.Engine == "sidecar" && tr.Segments[0].Role != hark.RoleWorker {
				t.Errorf("sidecar voice Sam is the worker: %+v", tr.Segments)
			}
		})
	}
	if d, err := NewService(Config{Engines: full}).Default(); d != "openai" || err != nil {
		t.Errorf("Default() = %q, %v", d, err)
	}
	if _, err := NewService(Config{Engines: none}).Default(); err == nil || !strings.Contains(err.Error(), "pocketsphinx") {
		t.Errorf("Default() error %v, want one naming both options", err)
	}
}

// TestServiceAudioEngine checks that an engine given as Config.Audio is the
// default and that roles it leaves unset come from speaker names.
func TestServiceAudioEngine(t *testing.T) {
	stub := &stubEngine{name: "stub", segs: []hark.Segment{{Speaker: "Sam", Text: "Hi."}, {Speaker: "Jo", Text: "Hello."}, {Speaker: "Worker", Role: hark.RoleParent, Text: "Kept."}}}
	s := NewService(Config{Audio: stub})
	tr, err := s.Transcribe(context.Background(), hark.EngineInput{
		Recording: &hark.Recording{ID: "rec_1", Key: "m.wav", WorkerSpeaker: "sam"},
		Audio:     bytes.NewReader(wordsAudio(monologue(1), 1, 2)),
	})
	if err != nil {
		t.Fatal(err)
	}
	roles := []hark.Role{tr.Segments[0].Role, tr.Segments[1].Role, tr.Segments[2].Role}
	if roles[0] != hark.RoleWorker || roles[1] != hark.RoleParent || roles[2] != hark.RoleParent || stub.calls != 1 {
		t.Errorf("roles %v after %d calls", roles, stub.calls)
	}
}

func TestLocalSidecar(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "m.wav")
	if sc, err := LocalSidecar(rec); sc != nil || err != nil {
		t.Errorf("no sidecar: %v, %v", sc, err)
	}
	os.WriteFile(filepath.Join(dir, "m.srt"), []byte("1\n00:00:01,000 --> 00:00:02,000\nHi\n"), 0o644)
	sc, err := LocalSidecar(rec)
	if err != nil || sc == nil || sc.Name != "m.srt" || !bytes.Contains(sc.Data, []byte("Hi")) {
		t.Errorf("got %+v, %v", sc, err)
	}
}
