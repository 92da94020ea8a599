package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
	"github.com/harkworks/hark/transcribe"
)

// DiarizeOutput is what `hark diarize --format json` prints.
type DiarizeOutput struct {
	File          string         `json:"file"`
	Speakers      int            `json:"speakers"`
	Estimated     bool           `json:"estimated"`
	Confidence    float64        `json:"confidence"`
	SpeechSeconds float64        `json:"speech_seconds"`
	Turns         []diarize.Turn `json:"turns"`
}

func newDiarizeCmd(g *globals) *cobra.Command {
	var (
		format   string
		speakers int
		workDir  string
	)
	cmd := &cobra.Command{
		Use:   "diarize FILE",
		Short: "Find who speaks when in one local WAV file, offline, and print it as RTTM or JSON",
		Long: `diarize finds the speakers of a recording made on one microphone: speech,
changes of speaker, and which stretches are the same person. It runs offline on
the CPU. The speakers are named S1, S2, … in the order they first speak; give
--speakers when you know how many people speak, else hark estimates it (1 to 5).

RTTM lines are SPEAKER <file> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>,
with <file> the WAV's base name without its extension. See docs/speakers.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "rttm" && format != "json" {
				return hark.Errorf(hark.EINVALID, "--format %q: use rttm or json", format)
			}
			wd, err := openLocalWorkDir(workDir, g)
			if err != nil {
				return err
			}
			defer wd.Close()
			res, err := diarizeFile(cmd.Context(), args[0], diarize.Config{Speakers: speakers, Dir: wd.Dir()})
			if err != nil {
				return err
			}
			id := fileID(args[0])
			if format == "rttm" {
				return diarize.WriteRTTM(g.stdout, id, res.Turns)
			}
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(DiarizeOutput{File: id, Speakers: res.Speakers, Estimated: res.Estimated,
				Confidence: res.Confidence, SpeechSeconds: res.SpeechSeconds, Turns: res.Turns})
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "rttm", "output: rttm or json")
	f.IntVar(&speakers, "speakers", 0, "how many people speak, when known (default: estimated)")
	f.StringVar(&workDir, "work-dir", env("HARK_WORK_DIR", ""), "private directory (0700) for the audio's features, and an M4A spooled whole, while the file is read (default: features in memory, the spool in the system's temporary directory)")
	return cmd
}

// openLocalWorkDir is the local tools' work dir: with --work-dir, this
// process's own directory in it, as the workers make theirs
// (transcribe.OpenWorkDir: the root made private, what killed processes
// left swept); without, nil, whose Dir is "" and whose Close does nothing.
func openLocalWorkDir(root string, g *globals) (*transcribe.WorkDir, error) {
	if root == "" {
		return nil, nil
	}
	return transcribe.OpenWorkDir(root, g.logger())
}

// fileID is an RTTM file id: the base name without its extension.
func fileID(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// diarizeFile decodes a local recording to 16 kHz mono, as the transcribe stage
// does, and diarizes it.
func diarizeFile(ctx context.Context, path string, cfg diarize.Config) (*diarize.Diarization, error) {
	var res *diarize.Diarization
	err := decodeLocal(ctx, path, cfg, func(d *diarize.Diarizer) error {
		var err error
		res, err = d.Result()
		return err
	})
	return res, err
}

// decodeLocal decodes a local recording (WAV, or any format ffmpeg reads) to 16 kHz mono into a new diarizer, as
// the transcribe stage does, and hands it to done.
func decodeLocal(ctx context.Context, path string, cfg diarize.Config, done func(*diarize.Diarizer) error) error {
	f, err := os.Open(path)
	if err != nil {
		return hark.Errorf(hark.EINVALID, "%s: cannot open it", path)
	}
	defer f.Close()
	d := diarize.New(cfg)
	defer d.Close()
	if err := listenTo(ctx, filepath.Base(path), f, cfg.Dir, d.Write); err != nil {
		return err
	}
	return done(d)
}

// listenTo decodes a recording in any format hark reads (WAV natively,
// the rest through ffmpeg, as the transcribe stage does) to 16 kHz mono
// and hands its samples to listen; nothing of it is kept. A file ffmpeg
// needs whole (M4A) is spooled to dir ("" for the system's temporary
// directory).
func listenTo(ctx context.Context, name string, r io.Reader, dir string, listen func([]float32)) error {
	audio, err := transcribe.OpenAudio(ctx, name, r, "", dir)
	if err != nil {
		return err
	}
	defer audio.Close()
	p, err := transcribe.Prepare(ctx, name, audio, transcribe.PrepareConfig{Listen: listen})
	if err != nil {
		return err
	}
	p.Remove() // only the samples were wanted
	return nil
}

// audioPCM gives the web server a recording as a PCM WAV (for the
// redacted audio export), decoded as the workers decode it; an M4A is
// spooled to the system's temporary directory while it is decoded.
func audioPCM(ctx context.Context, name string, r io.Reader) (io.ReadCloser, error) {
	return transcribe.PCMWAV(ctx, name, r, "", "")
}
