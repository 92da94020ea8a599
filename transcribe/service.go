// Package transcribe turns recordings into transcripts: it reads and checks
// WAV audio as a stream, runs a transcript engine, and assigns speaker roles.
package transcribe

import (
	"context"
	"io"
	"path"
	"strings"

	"github.com/harkworks/hark"
)

// Config configures a Service.
type Config struct {
	// Audio is the engine that recognises speech; nil when none is
	// configured, in which case only recordings with a sidecar transcript
	// can be transcribed.
	Audio hark.Engine
}

// Service is the engine the transcribe stage runs: it checks the audio,
// uses a sidecar transcript when one was uploaded and the audio engine
// otherwise, and assigns roles.
type Service struct {
	cfg Config
}

var _ hark.Engine = (*Service)(nil)

// NewService returns a Service.
func NewService(cfg Config) *Service { return &Service{cfg: cfg} }

// Name names the service.
func (s *Service) Name() string { return "hark" }

// Transcribe checks the recording's audio and transcribes it.
func (s *Service) Transcribe(ctx context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	name := path.Base(in.Recording.Key)
	if ext := strings.ToLower(path.Ext(name)); ext != ".wav" && ext != ".wave" {
		// Read the first bytes to tell compressed audio from anything else.
		var head [12]byte
		n, _ := io.ReadFull(in.Audio, head[:])
		if kind := sniffCompressed(head[:n]); kind != "" {
			return nil, compressedError(name, kind)
		}
		return nil, hark.Errorf(hark.EINVALID, "%s: unknown format %q; hark reads WAV recordings: convert it, e.g. `ffmpeg -i INPUT -ar 16000 OUTPUT.wav`", name, ext)
	}
	if in.Sidecar == nil && s.cfg.Audio != nil {
		t, err := s.cfg.Audio.Transcribe(ctx, in)
		if err != nil {
			return nil, err
		}
		AssignRoles(t.Segments, in.Recording.WorkerSpeaker)
		return t, nil
	}
	audio, err := InspectWAV(name, in.Audio)
	if err != nil {
		return nil, err
	}
	if in.Sidecar == nil {
		return nil, hark.Errorf(hark.EINVALID, "%s: no speech engine is configured and no transcript was uploaded next to it; upload a .vtt/.srt transcript with the same name, or configure an engine (see docs/engines.md)", name)
	}
	segs, err := ParseSidecar(path.Base(in.Sidecar.Name), in.Sidecar.Data)
	if err != nil {
		return nil, err
	}
	if end := lastEnd(segs); end > audio.DurationSeconds+1 {
		return nil, hark.Errorf(hark.EINVALID, "%s: the transcript %s runs to %.1f s but the recording is only %.1f s long; is it the transcript of another recording?", name, path.Base(in.Sidecar.Name), end, audio.DurationSeconds)
	}
	AssignRoles(segs, in.Recording.WorkerSpeaker)
	return &hark.Transcript{
		Schema:      hark.SchemaVersion,
		RecordingID: in.Recording.ID,
		Engine:      "sidecar",
		Model:       strings.TrimPrefix(path.Ext(in.Sidecar.Name), "."),
		Audio:       audio,
		Segments:    segs,
	}, nil
}

func lastEnd(segs []hark.Segment) float64 {
	var end float64
	for _, s := range segs {
		end = max(end, s.End)
	}
	return end
}
