package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
	"github.com/harkworks/hark/ingest"
)

func newVoiceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "voice",
		Short: "Learn, list and forget workers' voices, by which hark tells the worker among a recording's speakers",
		Long: `A team can let hark learn each worker's voice from a clip of them speaking
alone (at least 10 s of speech; a minute is better). Recordings uploaded with
that --team and --worker then have the worker told apart by voice among the
speakers hark finds, before it guesses from the words. A voice is biometric
data: it holds no audio and no words, only the statistics of the voice, and
"hark voice forget" removes it. See docs/speakers.md.`,
	}
	cmd.AddCommand(newVoiceEnrolCmd(g), newVoiceListCmd(g), newVoiceForgetCmd(g))
	return cmd
}

// voiceTarget is a team and worker, and where the store is.
type voiceTarget struct {
	c            conn
	db           string
	team, worker string
}

func (v *voiceTarget) flags(cmd *cobra.Command, worker bool) {
	v.c.storeOnly = true
	v.c.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&v.team, "team", "", "the team (required)")
	if worker {
		f.StringVar(&v.worker, "worker", "", "the worker's id, as uploads give it with --worker (required)")
	}
	f.StringVar(&v.db, "db", "", "index database for the audit log (default: HARK_DB, else <data-dir>/index.db)")
}

func (v *voiceTarget) check(worker bool) error {
	if strings.TrimSpace(v.team) == "" {
		return hark.Errorf(hark.EINVALID, "no team: give --team")
	}
	if worker && strings.TrimSpace(v.worker) == "" {
		return hark.Errorf(hark.EINVALID, "no worker: give --worker with the id uploads use")
	}
	return nil
}

func (v *voiceTarget) store(g *globals) (*ingest.Store, error) {
	sc, _, err := v.c.resolve(g)
	if err != nil {
		return nil, err
	}
	return ingest.NewStore(sc)
}

// audit records what was done in the index's audit log.
func (v *voiceTarget) audit(ctx context.Context, g *globals, action, detail string) error {
	idx, err := openIndex(ctx, g, v.db)
	if err != nil {
		return err
	}
	defer idx.Close()
	return idx.Audit(ctx, &hark.AuditEntry{At: time.Now(), User: "cli", Action: action, Detail: detail})
}

func newVoiceEnrolCmd(g *globals) *cobra.Command {
	var v voiceTarget
	cmd := &cobra.Command{
		Use:   "enrol --team TEAM --worker ID CLIP.wav",
		Short: "Learn a worker's voice from a clip of them speaking alone",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := v.check(true); err != nil {
				return err
			}
			ctx := cmd.Context()
			voice, err := learnVoice(ctx, args[0])
			if err != nil {
				return err
			}
			data, err := json.Marshal(voice)
			if err != nil {
				return hark.WrapError(hark.EINTERNAL, err, "encode the voice")
			}
			store, err := v.store(g)
			if err != nil {
				return err
			}
			defer store.Close(ctx)
			key := hark.VoiceKey(v.team, v.worker)
			if _, err := store.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "application/json", nil); err != nil {
				return err
			}
			if err := v.audit(ctx, g, "voice-enrol", v.team+"/"+v.worker); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "learned the voice of worker %s in team %s from %.0f s of speech\n", v.worker, v.team, voice.Seconds)
			return nil
		},
	}
	v.flags(cmd, true)
	return cmd
}

// learnVoice decodes a local WAV and learns the voice in it.
func learnVoice(ctx context.Context, path string) (diarize.Voice, error) {
	var voice diarize.Voice
	err := decodeLocal(ctx, path, diarize.Config{}, func(d *diarize.Diarizer) error {
		var err error
		voice, err = d.Voice()
		if err != nil {
			return hark.WrapError(hark.ErrorCode(err), err, "%s", path)
		}
		return nil
	})
	return voice, err
}

func newVoiceListCmd(g *globals) *cobra.Command {
	var v voiceTarget
	cmd := &cobra.Command{
		Use:   "list [--team TEAM]",
		Short: "List the workers whose voices hark knows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := v.store(g)
			if err != nil {
				return err
			}
			defer store.Close(cmd.Context())
			prefix := hark.VoicesPrefix
			if v.team != "" {
				prefix = hark.VoiceKey(v.team, "x")
				prefix = prefix[:strings.LastIndexByte(prefix, '/')+1]
			}
			n := 0
			err = store.List(cmd.Context(), prefix, func(o hark.ObjectInfo) error {
				team, worker, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(o.Key, hark.VoicesPrefix), ".json"), "/")
				fmt.Fprintf(g.stdout, "%s\t%s\tlearned %s\n", team, worker, o.LastModified.UTC().Format("2006-01-02 15:04"))
				n++
				return nil
			})
			if err == nil && n == 0 {
				fmt.Fprintln(g.stdout, "no voices learned")
			}
			return err
		},
	}
	v.flags(cmd, false)
	return cmd
}

func newVoiceForgetCmd(g *globals) *cobra.Command {
	var v voiceTarget
	cmd := &cobra.Command{
		Use:   "forget --team TEAM --worker ID",
		Short: "Remove a worker's voice",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := v.check(true); err != nil {
				return err
			}
			ctx := cmd.Context()
			store, err := v.store(g)
			if err != nil {
				return err
			}
			defer store.Close(ctx)
			key := hark.VoiceKey(v.team, v.worker)
			if _, err := store.Stat(ctx, key); err != nil {
				if hark.ErrorCode(err) == hark.ENOTFOUND {
					return hark.Errorf(hark.ENOTFOUND, "hark knows no voice of worker %s in team %s", v.worker, v.team)
				}
				return err
			}
			if err := store.Remove(ctx, key); err != nil {
				return err
			}
			if err := v.audit(ctx, g, "voice-forget", v.team+"/"+v.worker); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "forgot the voice of worker %s in team %s\n", v.worker, v.team)
			return nil
		},
	}
	v.flags(cmd, true)
	return cmd
}
