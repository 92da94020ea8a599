package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

// SpeakerEval is one file's diarization error, or the total, at one collar.
type SpeakerEval struct {
	File        string  `json:"file"`
	Collar      float64 `json:"collar"`
	RefSpeakers int     `json:"ref_speakers,omitempty"`
	HypSpeakers int     `json:"hyp_speakers,omitempty"`
	Scored      float64 `json:"scored_seconds"`
	Miss        float64 `json:"miss_seconds"`
	FalseAlarm  float64 `json:"false_alarm_seconds"`
	Confusion   float64 `json:"confusion_seconds"`
	DER         float64 `json:"der"`
}

func newEvalSpeakersCmd(g *globals) *cobra.Command {
	var (
		ref, uem, format string
		knownSpeakers    bool
		tune             diarize.Config
	)
	cmd := &cobra.Command{
		Use:   "speakers --ref REF.rttm WAV...",
		Short: "Measure diarization against reference RTTM: DER with its miss, false alarm and confusion",
		Long: `eval speakers diarizes each WAV and scores it against the reference turns of
the same file id (the WAV's base name without its extension) in REF.rttm, as
NIST's md-eval does: overlapping speech is scored, speakers are mapped one to
one to maximise agreement, and the error is printed at a collar of 0.25 s (no
score within 0.25 s of a reference boundary) and at 0. With --uem only the
spans it names are scored. --known-speakers tells the diarizer how many people
the reference has, to measure the rest apart from the estimate.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, wavs []string) error {
			if ref == "" {
				return hark.Errorf(hark.EINVALID, "no reference: give --ref REF.rttm")
			}
			if format != "text" && format != "json" {
				return hark.Errorf(hark.EINVALID, "--format %q: use text or json", format)
			}
			refs, err := diarize.ReadRTTMFile(ref)
			if err != nil {
				return err
			}
			var uems map[string][]diarize.Span
			if uem != "" {
				f, err := os.Open(uem)
				if err != nil {
					return hark.Errorf(hark.EINVALID, "%s: cannot open it", uem)
				}
				uems, err = diarize.ReadUEM(f)
				f.Close()
				if err != nil {
					return err
				}
			}
			collars := []float64{0.25, 0}
			totals := make([]diarize.Result, len(collars))
			var rows []SpeakerEval
			for _, wav := range wavs {
				id := fileID(wav)
				r, ok := refs[id]
				if !ok {
					return hark.Errorf(hark.EINVALID, "%s: %s has no turns of file %q", wav, ref, id)
				}
				cfg := tune
				if knownSpeakers {
					cfg.Speakers = countSpeakers(r)
				}
				res, err := diarizeFile(cmd.Context(), wav, cfg)
				if err != nil {
					return err
				}
				var span []diarize.Span
				if uems != nil {
					if span = uems[id]; span == nil {
						return hark.Errorf(hark.EINVALID, "%s: the UEM %s has no span for file %q", wav, uem, id)
					}
				}
				for i, c := range collars {
					sc := diarize.Score(r, res.Turns, span, c)
					totals[i].Add(sc)
					rows = append(rows, speakerEval(id, c, sc, countSpeakers(r), res.Speakers))
				}
			}
			for i, c := range collars {
				rows = append(rows, speakerEval("overall", c, totals[i], 0, 0))
			}
			if format == "json" {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"files": rows})
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "file\tcollar\tspeakers ref/hyp\tscored s\tmiss %\tfalse alarm %\tconfusion %\tDER %\t")
			for _, r := range rows {
				spk := ""
				if r.RefSpeakers > 0 {
					spk = fmt.Sprintf("%d/%d", r.RefSpeakers, r.HypSpeakers)
				}
				pct := func(x float64) string { return fmt.Sprintf("%.1f", 100*x/max(r.Scored, 1e-9)) }
				fmt.Fprintf(tw, "%s\t%.2f\t%s\t%.1f\t%s\t%s\t%s\t%.1f\t\n", r.File, r.Collar, spk, r.Scored,
					pct(r.Miss), pct(r.FalseAlarm), pct(r.Confusion), 100*r.DER)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&ref, "ref", "", "reference RTTM file (required)")
	f.StringVar(&uem, "uem", "", "UEM file naming the scored span of each file (default: all of it)")
	f.StringVar(&format, "format", "text", "output: text or json")
	f.BoolVar(&knownSpeakers, "known-speakers", false, "tell the diarizer the reference's number of speakers")
	// The diarizer's settings, for tuning on development data (0: the default).
	f.Float64Var(&tune.VADShare, "vad-share", 0, "tuning: speech threshold between noise floor (0) and speech level (1)")
	f.Float64Var(&tune.SegmentSeconds, "segment-seconds", 0, "tuning: length of the pieces clustered")
	f.Float64Var(&tune.Lambda, "lambda", 0, "tuning: weight of the BIC penalty")
	f.IntVar(&tune.Components, "components", 0, "tuning: Gaussians per speaker model")
	f.Float64Var(&tune.SwitchPenalty, "switch-penalty", 0, "tuning: log-likelihood cost of a change of speaker")
	f.IntVar(&tune.Rounds, "rounds", 0, "tuning: rounds of resegmentation")
	return cmd
}

func speakerEval(file string, collar float64, r diarize.Result, ref, hyp int) SpeakerEval {
	return SpeakerEval{File: file, Collar: collar, RefSpeakers: ref, HypSpeakers: hyp, Scored: r.Scored,
		Miss: r.Miss, FalseAlarm: r.FalseAlarm, Confusion: r.Confusion, DER: r.DER()}
}

// countSpeakers is how many speakers turns name.
func countSpeakers(turns []diarize.Turn) int {
	seen := map[string]bool{}
	for _, t := range turns {
		seen[t.Speaker] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return len(names)
}
