package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
)

// EvalReport is what `hark eval --format json` prints: the tagger's
// agreement with a human-coded set, per code of the codebook, in codebook
// order. Scripts depend on its shape.
type EvalReport struct {
	Gold            string               `json:"gold"`
	Transcripts     int                  `json:"transcripts"`
	Turns           int                  `json:"turns"`
	Codebook        string               `json:"codebook"`
	CodebookVersion string               `json:"codebook_version"`
	Tagger          string               `json:"tagger"`
	Codes           []annotate.Agreement `json:"codes"`
}

type evalOptions struct {
	gold, codebook, tagger, model, format string
}

func newEvalCmd(g *globals) *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval --gold FILE",
		Short: "Measure a tagger against human-coded transcripts: precision, recall, F1 and kappa per code",
		Long: `eval tags the transcripts of a gold file and compares the tags with the codes
human coders gave, turn by turn: for each code of the codebook it prints how
many turns each side coded, true and false positives, false negatives, true
negatives, precision, recall, F1 and Cohen's kappa (the agreement of tagger
and coders beyond chance; "-" when undefined because both sides gave every
turn the same answer).

The gold file is a CSV with a header row and one row per turn, the turns of a
transcript in order:

  transcript_id,index,speaker,role,start,end,text,codes
  visit-01,0,Jo,worker,,,"What would you like to talk about today?",open_question;joint_agenda_setting
  visit-01,1,Sam,parent,,,"The mornings, mostly.",

role is worker, parent, child, other or unknown; codes are codebook ids
separated by semicolons, empty for none; speaker, start and end may be left
empty or out. docs/eval.md describes it in full.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEval(cmd, g, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.gold, "gold", "", "gold CSV file of human-coded turns (required)")
	f.StringVar(&o.codebook, "codebook", "", "codebook YAML file (default: hark's own)")
	f.StringVar(&o.tagger, "tagger", env("HARK_TAGGER", ""), taggerHelp)
	f.StringVar(&o.model, "model", env("HARK_MODEL", ""), "model file for --tagger rules+model (default: hark's own)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	cmd.AddCommand(newEvalSpeakersCmd(g), newEvalCodersCmd(g))
	return cmd
}

func runEval(cmd *cobra.Command, g *globals, o *evalOptions) error {
	if o.gold == "" {
		return hark.Errorf(hark.EINVALID, "no gold file: give one with --gold FILE (docs/eval.md describes the format)")
	}
	if o.format != "text" && o.format != "json" {
		return hark.Errorf(hark.EINVALID, "unknown format %q: use text or json", o.format)
	}
	cb, err := loadCodebook(o.codebook)
	if err != nil {
		return err
	}
	tg, err := newTaggerFromEnv(o.tagger, o.model, cb, g.logger())
	if err != nil {
		return err
	}
	data, err := readGoldFile(o.gold, cb)
	if err != nil {
		return err
	}
	codes := make([]string, len(cb.Codes))
	for i, c := range cb.Codes {
		codes[i] = c.ID
	}
	stats := &statsTagger{tg: tg}
	agree, err := annotate.AgreementByCode(cmd.Context(), stats, data, codes)
	if err != nil {
		return err
	}
	reportStats(g.stderr, stats.total)
	r := EvalReport{
		Gold: o.gold, Transcripts: len(data), Codebook: cb.ID, CodebookVersion: cb.Version,
		Tagger: tg.Name(), Codes: agree,
	}
	for _, lt := range data {
		r.Turns += len(lt.Transcript.Segments)
	}
	if o.format == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printEval(g.stdout, &r)
	return nil
}

// statsTagger adds up the stats of every transcript a Tagger tags.
type statsTagger struct {
	tg    *annotate.Tagger
	total annotate.TagStats
}

func (s *statsTagger) Name() string { return s.tg.Name() }

func (s *statsTagger) Tag(ctx context.Context, t *hark.Transcript) (*hark.Annotations, error) {
	a, st, err := s.tg.TagStats(ctx, t)
	s.total.Add(st)
	return a, err
}

func printEval(w io.Writer, r *EvalReport) {
	fmt.Fprintf(w, "%s: %d transcripts, %d turns; codebook %s %s; tagger %s\n\n", r.Gold, r.Transcripts, r.Turns, r.Codebook, r.CodebookVersion, r.Tagger)
	fmt.Fprintf(w, "%-26s %5s %6s %5s %5s %5s %5s %9s %7s %6s %6s\n", "code", "gold", "tagged", "TP", "FP", "FN", "TN", "precision", "recall", "F1", "kappa")
	for _, a := range r.Codes {
		k := "-"
		if a.Kappa != nil {
			k = fmt.Sprintf("%.3f", *a.Kappa)
		}
		fmt.Fprintf(w, "%-26s %5d %6d %5d %5d %5d %5d %9.3f %7.3f %6.3f %6s\n", a.Code, a.Gold, a.Tagged,
			a.TruePositives, a.FalsePositives, a.FalseNegatives, a.TrueNegatives, a.Precision, a.Recall, a.F1, k)
	}
}
