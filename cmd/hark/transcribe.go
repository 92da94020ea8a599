package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/transcribe"
)

func newTranscribeCmd(g *globals) *cobra.Command {
	var engine, format, workerChannel, workerSpeaker, workDir string
	cmd := &cobra.Command{
		Use:   "transcribe FILE",
		Short: "Transcribe one local WAV file, without any server, to try an engine",
		Long: `transcribe runs a speech engine on a local WAV file and prints the transcript.
Without --engine it uses a transcript next to the file (FILE.vtt, .srt or .json)
if there is one, else the deployment's default engine: openai when
HARK_OPENAI_BASE_URL or HARK_OPENAI_API_KEY is set, else sphinx (CMU PocketSphinx,
offline, low accuracy) when it is installed. See docs/engines.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			path := args[0]
			f, err := os.Open(path)
			if err != nil {
				return hark.Errorf(hark.EINVALID, "%s: cannot open it", path)
			}
			defer f.Close()
			cfg, err := transcribe.FromEnv(os.Getenv)
			if err != nil {
				return err
			}
			wd, err := openLocalWorkDir(workDir, g)
			if err != nil {
				return err
			}
			defer wd.Close()
			cfg.TempDir = wd.Dir()
			log := g.logger()
			cfg.Logger = log
			svc := transcribe.NewService(transcribe.Config{Engines: cfg, Logger: log})
			in := hark.EngineInput{
				Recording: &hark.Recording{ID: "local", Key: filepath.Base(path), Engine: engine, WorkerChannel: workerChannel, WorkerSpeaker: workerSpeaker},
				Audio:     f,
			}
			if engine == "" || engine == "sidecar" {
				if in.Sidecar, err = transcribe.LocalSidecar(path); err != nil {
					return err
				}
			}
			t, err := svc.Transcribe(ctx, in)
			if err != nil {
				return err
			}
			return transcribe.WriteTranscript(g.stdout, format, t)
		},
	}
	f := cmd.Flags()
	f.StringVar(&engine, "engine", "", "openai, sphinx or sidecar (default: a transcript next to FILE, else the deployment's default)")
	f.StringVar(&format, "format", "text", "output: "+strings.Join(transcribe.Formats, ", "))
	f.StringVar(&workerChannel, "worker-channel", "", "for a stereo recording with one microphone per speaker: left, right or a channel number")
	f.StringVar(&workerSpeaker, "worker-speaker", "", "the speaker name that is the worker in a transcript next to FILE")
	f.StringVar(&workDir, "work-dir", env("HARK_WORK_DIR", ""), "private directory (0700) for the decoded audio's chunks while they are recognised (default: the system's temporary directory)")
	return cmd
}
