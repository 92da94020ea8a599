package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
)

// CodersReport is what `hark eval coders --format json` prints.
type CodersReport struct {
	First       string               `json:"first"`
	Second      string               `json:"second"`
	Transcripts int                  `json:"transcripts"`
	Turns       int                  `json:"turns"`
	Codes       []annotate.Agreement `json:"codes"`
}

func newEvalCodersCmd(g *globals) *cobra.Command {
	var first, second, codebook, format string
	cmd := &cobra.Command{
		Use:   "coders --gold FIRST.csv --second SECOND.csv",
		Short: "Measure how two human coders of the same turns agree: Cohen's kappa per code",
		Long: `coders compares two codings of the same transcripts (two gold files with the
same transcripts and turns, coded independently) and prints, per code, how
many turns each coder gave it, the turns both gave it, the first only and the
second only, and Cohen's kappa between them: the ceiling a tagger can be held
to. "precision" and "recall" read the first coding as the reference.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if first == "" || second == "" {
				return hark.Errorf(hark.EINVALID, "give both codings: --gold FIRST.csv --second SECOND.csv")
			}
			if format != "text" && format != "json" {
				return hark.Errorf(hark.EINVALID, "unknown format %q: use text or json", format)
			}
			cb, err := loadCodebook(codebook)
			if err != nil {
				return err
			}
			a, err := readGoldFile(first, cb)
			if err != nil {
				return err
			}
			b, err := readGoldFile(second, cb)
			if err != nil {
				return err
			}
			codes := make([]string, len(cb.Codes))
			for i, c := range cb.Codes {
				codes[i] = c.ID
			}
			agree, err := annotate.CoderAgreement(a, b, codes)
			if err != nil {
				return err
			}
			r := CodersReport{First: first, Second: second, Transcripts: len(a), Codes: agree}
			for _, lt := range a {
				r.Turns += len(lt.Transcript.Segments)
			}
			if format == "json" {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			fmt.Fprintf(g.stdout, "%s against %s: %d transcripts, %d turns\n\n", second, first, r.Transcripts, r.Turns)
			fmt.Fprintf(g.stdout, "%-26s %6s %7s %5s %11s %12s %6s\n", "code", "first", "second", "both", "first only", "second only", "kappa")
			var sum float64
			n := 0
			for _, x := range agree {
				fmt.Fprintf(g.stdout, "%-26s %6d %7d %5d %11d %12d %6s\n", x.Code, x.Gold, x.Tagged, x.TruePositives, x.FalseNegatives, x.FalsePositives, kappaText(x.Kappa))
				if x.Kappa != nil {
					sum += *x.Kappa
					n++
				}
			}
			if n > 0 {
				fmt.Fprintf(g.stdout, "%-26s %49.3f\n", "mean kappa", sum/float64(n))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&first, "gold", "", "the first coding (gold CSV)")
	f.StringVar(&second, "second", "", "the second, independent coding of the same turns")
	f.StringVar(&codebook, "codebook", "", "codebook YAML file (default: hark's own)")
	f.StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}
