package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
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
	cmd.AddCommand(newVoiceEnrolCmd(g), newVoiceLearnCmd(g), newVoiceListCmd(g), newVoiceForgetCmd(g))
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

func newVoiceLearnCmd(g *globals) *cobra.Command {
	var (
		v       voiceTarget
		replace bool
	)
	cmd := &cobra.Command{
		Use:   "learn --team TEAM --worker ID RECORDING...",
		Short: "Learn a worker's voice from their turns in sessions a coach has corrected",
		Long: `learn learns a worker's voice from the worker's turns in recordings of theirs
whose speakers a coach has confirmed: a coach set the worker's role on the
review page (or hark correct role), or completed the session's review, or the
worker was named at upload. The recordings' audio is read from the object
store, decoded in the work dir and removed; only the voice is kept. What is
learned is pooled with the voice hark already knows for the worker, unless
--replace.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := v.check(true); err != nil {
				return err
			}
			ctx := cmd.Context()
			idx, err := openIndex(ctx, g, v.db)
			if err != nil {
				return err
			}
			defer idx.Close()
			store, err := v.store(g)
			if err != nil {
				return err
			}
			defer store.Close(ctx)
			var voices []diarize.Voice
			for _, id := range args {
				voice, err := v.learnFrom(ctx, idx, store, id)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "%s: %.0f s of the worker's speech\n", id, voice.Seconds)
				voices = append(voices, voice)
			}
			key := hark.VoiceKey(v.team, v.worker)
			if !replace {
				old, err := storedVoice(ctx, store, key)
				if err != nil {
					return err
				}
				if old != nil {
					voices = append(voices, *old)
					fmt.Fprintf(g.stdout, "pooled with the voice already known (%.0f s)\n", old.Seconds)
				}
			}
			voice := diarize.Merge(voices...)
			data, err := json.Marshal(voice)
			if err != nil {
				return hark.WrapError(hark.EINTERNAL, err, "encode the voice")
			}
			if _, err := store.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "application/json", nil); err != nil {
				return err
			}
			if err := idx.Audit(ctx, &hark.AuditEntry{At: time.Now(), User: "cli", Action: "voice-learn", Detail: v.team + "/" + v.worker + " from " + strings.Join(args, " ")}); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "learned the voice of worker %s in team %s from %.0f s of speech\n", v.worker, v.team, voice.Seconds)
			return nil
		},
	}
	v.flags(cmd, true)
	cmd.Flags().BoolVar(&replace, "replace", false, "forget the voice already known and keep only what these recordings teach")
	return cmd
}

// learnFrom learns the worker's voice from their turns in recording id,
// which must be the worker's, in the team, with its speakers confirmed.
func (v *voiceTarget) learnFrom(ctx context.Context, idx hark.Index, store hark.ObjectStore, id string) (diarize.Voice, error) {
	sess, err := idx.Session(ctx, id)
	if hark.ErrorCode(err) == hark.ENOTFOUND {
		return diarize.Voice{}, hark.Errorf(hark.ENOTFOUND, "recording %q not found", id)
	}
	if err != nil {
		return diarize.Voice{}, err
	}
	r := sess.Recording
	switch {
	case r.Team != v.team:
		return diarize.Voice{}, hark.Errorf(hark.EINVALID, "recording %s is team %s's, not %s's", id, r.Team, v.team)
	case r.Worker != v.worker:
		return diarize.Voice{}, hark.Errorf(hark.EINVALID, "recording %s was uploaded as worker %q's, not %s's: learn a worker's voice from their own sessions", id, r.Worker, v.worker)
	case sess.Transcript == nil:
		return diarize.Voice{}, hark.Errorf(hark.EINVALID, "recording %s has no transcript yet (%s)", id, r.Status)
	case !workerConfirmed(sess):
		return diarize.Voice{}, hark.Errorf(hark.EINVALID, "no coach has confirmed who the worker is in %s: set the worker's role on the review page (or `hark correct role`), or complete its review, first", id)
	}
	var spans [][2]float64
	for _, s := range sess.Transcript.Segments {
		if s.Role == hark.RoleWorker {
			spans = append(spans, [2]float64{s.Start, s.End})
		}
	}
	rd, _, err := store.Get(ctx, r.Key)
	if err != nil {
		return diarize.Voice{}, err
	}
	defer rd.Close()
	d := diarize.New(diarize.Config{})
	if err := listenTo(ctx, path.Base(r.Key), rd, "", d.Write); err != nil {
		return diarize.Voice{}, err
	}
	voice, err := d.VoiceIn(spans)
	if err != nil {
		return diarize.Voice{}, hark.WrapError(hark.ErrorCode(err), err, "%s", id)
	}
	return voice, nil
}

// workerConfirmed says whether a person confirmed which speaker of the
// session is the worker: a coach set a role or completed the review, or
// the upload named the worker.
func workerConfirmed(sess *hark.Session) bool {
	if sess.Review != nil && sess.Review.State == hark.ReviewComplete {
		return true
	}
	if info := sess.Transcript.Speakers; info != nil {
		for _, r := range info.Roles {
			if r.Role == hark.RoleWorker && (r.Source == hark.RoleFromCoach || r.Source == hark.RoleFromMetadata) {
				return true
			}
		}
		if info.Source == hark.SpeakersChannels {
			return true
		}
	}
	return false
}

// storedVoice is the voice at key, or nil when there is none.
func storedVoice(ctx context.Context, store hark.ObjectStore, key string) (*diarize.Voice, error) {
	rd, _, err := store.Get(ctx, key)
	if hark.ErrorCode(err) == hark.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var v diarize.Voice
	if err := json.NewDecoder(rd).Decode(&v); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "the stored voice %s is not a voice: forget it (`hark voice forget`) and learn it again", key)
	}
	return &v, nil
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
