// Command annomi measures the rule tagger against the AnnoMI corpus of
// expert-annotated motivational-interviewing sessions (Wu et al., 2022):
// precision, recall and F1 per code, counted in turns. From the repository
// root:
//
//	go run ./bench/annomi -data ../shared/eval/annomi-dev.csv
//
// The corpus maps to the codebook as annotate.ReadAnnoMI describes:
// reflections to reflective_listening, open questions to open_question,
// advice to directive, and negotiation or options to
// collaborative_planning.
//
// With -model it tags with the rules and hark's own model (rules+model),
// or with -model-file FILE the model `hark train` wrote.
// With -coders it prints instead how far AnnoMI's own annotators agree,
// on the utterances several of them annotated: the ceiling of what a
// tagger can score against one annotator.
// With -show CODE it also prints the turns it got wrong for that code, with
// the turn before, to study the rules. Those lines quote the corpus: read
// them, do not copy them into the repository.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
)

func main() {
	data := flag.String("data", "../shared/eval/annomi-dev.csv", "the AnnoMI CSV file (AnnoMI-full.csv format)")
	codebook := flag.String("codebook", "", "a codebook YAML file (default: the embedded codebook)")
	show := flag.String("show", "", "print the false positives and negatives of this code")
	limit := flag.Int("n", 40, "how many errors of each kind -show prints")
	model := flag.Bool("model", false, "tag with the rules and hark's own model (rules+model) instead of the rules alone")
	modelFile := flag.String("model-file", "", "with -model, a model file (hark train --out) instead of hark's own")
	coders := flag.Bool("coders", false, "print how far AnnoMI's annotators agree with each other instead")
	flag.Parse()
	if *coders {
		if err := coderAgreement(*data, append(annotate.AnnoMICodes(), "collaborative_planning")); err != nil {
			fmt.Fprintln(os.Stderr, "annomi:", hark.ErrorMessage(err))
			os.Exit(1)
		}
		return
	}
	if err := run(*data, *codebook, *show, *modelFile, *limit, *model); err != nil {
		fmt.Fprintln(os.Stderr, "annomi:", hark.ErrorMessage(err))
		os.Exit(1)
	}
}

func run(path, codebook, show, modelFile string, limit int, model bool) error {
	cb := annotate.DefaultCodebook()
	if codebook != "" {
		var err error
		if cb, err = annotate.LoadCodebook(codebook); err != nil {
			return err
		}
	}
	rules, err := annotate.NewRuleTagger(cb)
	if err != nil {
		return err
	}
	var tg hark.Tagger = rules
	if model {
		var m *annotate.Model
		if modelFile != "" {
			m, err = annotate.LoadModel(modelFile, cb)
		} else {
			m, err = annotate.DefaultModel(cb)
		}
		if err != nil {
			return err
		}
		if tg, err = annotate.NewModelTagger(rules, m); err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return hark.WrapError(hark.ENOTFOUND, err, "cannot read the AnnoMI file; give its path with -data")
	}
	defer f.Close()
	convs, err := annotate.ReadAnnoMI(f)
	if err != nil {
		return err
	}
	ctx := context.Background()
	codes := append(annotate.AnnoMICodes(), "collaborative_planning")
	scores, err := annotate.ScoreTagger(ctx, tg, convs, codes)
	if err != nil {
		return err
	}
	fmt.Printf("%d conversations, codebook %s %s, tagger %s\n", len(convs), cb.ID, cb.Version, tg.Name())
	fmt.Printf("%-24s %6s %6s %6s %9s %7s %6s\n", "code", "TP", "FP", "FN", "precision", "recall", "F1")
	for _, code := range codes {
		s := scores[code]
		fmt.Printf("%-24s %6d %6d %6d %9.3f %7.3f %6.3f\n", code, s.TruePositives, s.FalsePositives, s.FalseNegatives, s.Precision, s.Recall, s.F1)
	}
	if show != "" {
		return showErrors(ctx, tg, convs, show, limit)
	}
	return nil
}

func showErrors(ctx context.Context, tg hark.Tagger, convs []annotate.LabelledTranscript, code string, limit int) error {
	var fps, fns []string
	for _, lt := range convs {
		a, err := tg.Tag(ctx, lt.Transcript)
		if err != nil {
			return err
		}
		ev := map[int]string{}
		for _, t := range a.Tags {
			if t.Code == code {
				ev[t.Segment] = t.Evidence
			}
		}
		segs := lt.Transcript.Segments
		for i, s := range segs {
			want := false
			for _, l := range lt.Labels[i] {
				want = want || l == code
			}
			e, got := ev[s.Index]
			if got == want {
				continue
			}
			prev := ""
			if i > 0 {
				prev = segs[i-1].Text
			}
			line := fmt.Sprintf("  prev: %.110s\n  turn: %.200s", prev, s.Text)
			if got {
				fps = append(fps, line+"\n  evidence: "+e)
			} else {
				fns = append(fns, line)
			}
		}
	}
	sort.Strings(fps)
	sort.Strings(fns)
	fmt.Printf("\nfalse positives of %s (%d):\n%s\n", code, len(fps), strings.Join(sample(fps, limit), "\n"))
	fmt.Printf("\nfalse negatives of %s (%d):\n%s\n", code, len(fns), strings.Join(sample(fns, limit), "\n"))
	return nil
}

// sample picks n lines spread evenly over the list.
func sample(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, lines[i*len(lines)/n])
	}
	return out
}
