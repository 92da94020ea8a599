package transcribe

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/harkworks/hark"
)

// Config configures a Service.
type Config struct {
	// Audio, when set, is the default speech engine, used instead of the
	// one Engines would choose (tests and embedders use it). When neither
	// gives one, only recordings with a sidecar transcript, or an upload
	// asking for an engine Engines offers, can be transcribed.
	Audio hark.Engine
	// Engines configures the speech engines the deployment offers; the
	// zero value offers none. FromEnv reads it from the environment.
	Engines EngineConfig
	// Logger logs which engine runs, never transcript text; nil means
	// slog.Default().
	Logger *slog.Logger
	// FFmpeg is the program that decodes recordings that are not WAV (MP3,
	// M4A/AAC, Ogg/Opus, FLAC, WMA, a video's audio track); "" means
	// DefaultFFmpegProgram, looked up on PATH.
	FFmpeg string
}

// Service is the engine the transcribe stage runs. For each recording it
// uses the transcript uploaded next to it when there is one, else the
// engine the upload asked for (Recording.Engine), else the deployment's
// default; it checks the audio and assigns speaker roles.
type Service struct {
	cfg         Config
	log         *slog.Logger
	engines     map[string]hark.Engine
	unavailable map[string]error // why an engine the deployment names is not offered
	def         hark.Engine
	defErr      error
}

var _ hark.Engine = (*Service)(nil)

// NewService returns a Service. It builds the engines cfg.Engines offers;
// one that cannot be built (a program not installed, a bad setting) is left
// out, and Default and the recordings that ask for it report why.
func NewService(cfg Config) *Service {
	ec := cfg.Engines.withDefaults()
	if cfg.Logger == nil {
		cfg.Logger = ec.Logger
	}
	s := &Service{cfg: cfg, log: cfg.Logger, engines: map[string]hark.Engine{}, unavailable: map[string]error{}}
	if ec.OpenAI.Configured() {
		if e, err := NewOpenAI(ec.OpenAI); err != nil {
			s.unavailable[EngineOpenAI] = err
		} else {
			s.engines[EngineOpenAI] = e
		}
	} else {
		s.unavailable[EngineOpenAI] = hark.Errorf(hark.EINVALID, "the openai engine is not configured: set HARK_OPENAI_BASE_URL or HARK_OPENAI_API_KEY (see docs/engines.md)")
	}
	if ec.sphinxEnabled() {
		if e, err := NewSphinx(ec.Sphinx); err != nil {
			s.unavailable[EngineSphinx] = err
		} else {
			s.engines[EngineSphinx] = e
		}
	} else {
		s.unavailable[EngineSphinx] = hark.Errorf(hark.EINVALID, "the sphinx engine is turned off in this deployment (HARK_SPHINX_PROGRAM=off)")
	}
	switch {
	case cfg.Audio != nil:
		s.def = cfg.Audio
	case ec.Name == EngineSidecar:
		s.defErr = hark.Errorf(hark.EINVALID, "this deployment only uses transcripts uploaded next to the recordings (HARK_ENGINE=sidecar)")
	case ec.Name != "":
		s.def, s.defErr = s.named(ec.Name)
	case s.engines[EngineOpenAI] != nil:
		s.def = s.engines[EngineOpenAI]
	case s.engines[EngineSphinx] != nil:
		s.def = s.engines[EngineSphinx]
	case ec.OpenAI.Configured():
		s.defErr = s.unavailable[EngineOpenAI]
	default:
		s.defErr = noEngineError()
	}
	return s
}

// named returns the engine called name, or why it is not available.
func (s *Service) named(name string) (hark.Engine, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if e := s.engines[name]; e != nil {
		return e, nil
	}
	if err := s.unavailable[name]; err != nil {
		return nil, err
	}
	return nil, unknownEngineError(name)
}

// Name names the service.
func (s *Service) Name() string { return "hark" }

// Default returns the name of the engine used for recordings that ask for
// none and have no sidecar transcript, or why there is none. cmd/hark logs
// it at start-up.
func (s *Service) Default() (string, error) {
	if s.def == nil {
		return "", s.defErr
	}
	return s.def.Name(), nil
}

// Transcribe transcribes one recording: from its sidecar transcript when
// one was uploaded, else with the engine its upload asked for, else with
// the deployment's default. A recording that is not WAV is decoded with
// ffmpeg, streaming; the transcript's Audio.Format names its container. Errors: EINVALID for input that can never be
// transcribed or an engine this deployment does not offer, EUNAVAILABLE when
// a service it needs is down.
func (s *Service) Transcribe(ctx context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	name := path.Base(in.Recording.Key)
	// The format is told by the content, not the name: WAV is read
	// natively, anything else is decoded by ffmpeg as it streams in.
	audio, err := OpenAudio(ctx, name, in.Audio, s.cfg.FFmpeg, s.cfg.Engines.TempDir)
	if err != nil {
		return nil, err
	}
	defer audio.Close()
	in.Audio = audio
	t, err := s.transcribe(ctx, name, in)
	if err != nil {
		return nil, err
	}
	if audio.Format != "" {
		t.Audio.Format = audio.Format
	}
	t.Audio.Band = audio.Band()
	return t, nil
}

func (s *Service) transcribe(ctx context.Context, name string, in hark.EngineInput) (*hark.Transcript, error) {
	if in.Sidecar != nil {
		return s.fromSidecar(in)
	}
	var (
		eng hark.Engine
		err error
	)
	switch want := strings.ToLower(strings.TrimSpace(in.Recording.Engine)); want {
	case "":
		eng, err = s.def, s.defErr
		if err != nil {
			err = hark.WrapError(hark.ErrorCode(err), err, "%s: no transcript was uploaded next to it and this deployment has no speech engine; upload a .vtt, .srt or .json transcript with the same name, or configure an engine", name)
		}
	case EngineSidecar:
		err = hark.Errorf(hark.EINVALID, "%s: the upload asks for the sidecar engine, but no transcript (.vtt, .srt or .json with the same name) was uploaded next to it", name)
	default:
		if eng, err = s.named(want); err != nil {
			err = hark.WrapError(hark.EINVALID, err, "%s: the upload asks for the %s engine, which this deployment does not offer; upload it again with another --engine, or ask the operator", name, want)
		}
	}
	if err != nil {
		// A broken file gets its own, more specific message.
		if _, aerr := InspectWAV(name, in.Audio); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	s.log.Debug("transcribing", "recording", in.Recording.ID, "engine", eng.Name())
	t, err := eng.Transcribe(ctx, in)
	if err != nil {
		return nil, err
	}
	settleRoles(t, in.Recording.WorkerSpeaker)
	return t, nil
}

// fromSidecar reads the audio to check and measure it and takes the
// transcript from the sidecar.
func (s *Service) fromSidecar(in hark.EngineInput) (*hark.Transcript, error) {
	name := path.Base(in.Recording.Key)
	audio, err := InspectWAV(name, in.Audio)
	if err != nil {
		return nil, err
	}
	segs, err := ParseSidecar(path.Base(in.Sidecar.Name), in.Sidecar.Data)
	if err != nil {
		return nil, err
	}
	if end := lastEnd(segs); end > audio.DurationSeconds+1 {
		return nil, hark.Errorf(hark.EINVALID, "%s: the transcript %s runs to %.1f s but the recording is only %.1f s long; is it the transcript of another recording?", name, path.Base(in.Sidecar.Name), end, audio.DurationSeconds)
	}
	t := &hark.Transcript{
		Schema:      hark.SchemaVersion,
		RecordingID: in.Recording.ID,
		Engine:      EngineSidecar,
		Model:       strings.TrimPrefix(path.Ext(in.Sidecar.Name), "."),
		Audio:       audio,
		Segments:    segs,
		Speakers:    &hark.SpeakerInfo{Source: hark.SpeakersTranscript, Confidence: 1},
	}
	settleRoles(t, in.Recording.WorkerSpeaker)
	return t, nil
}

// assignMissingRoles gives a role, by AssignRoles' rules, to the segments an
// engine left without one; roles an engine set from channels stay.
func assignMissingRoles(segs []hark.Segment, workerSpeaker string) {
	var idx []int
	var missing []hark.Segment
	for i, s := range segs {
		if s.Role == "" || s.Role == hark.RoleUnknown {
			idx = append(idx, i)
			missing = append(missing, s)
		}
	}
	AssignRoles(missing, workerSpeaker)
	for j, i := range idx {
		segs[i].Role = missing[j].Role
	}
}

func lastEnd(segs []hark.Segment) float64 {
	var end float64
	for _, s := range segs {
		end = max(end, s.End)
	}
	return end
}

// LocalSidecar returns the transcript next to a local recording (the same
// name with one of SidecarExtensions), or nil when there is none. The
// `hark transcribe` command uses it.
func LocalSidecar(recording string) (*hark.Sidecar, error) {
	base := strings.TrimSuffix(recording, filepath.Ext(recording))
	for _, ext := range SidecarExtensions {
		data, err := os.ReadFile(base + ext)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "read the transcript %s", base+ext)
		}
		return &hark.Sidecar{Name: filepath.Base(base + ext), Data: data}, nil
	}
	return nil, nil
}
