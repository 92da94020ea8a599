// Command practice measures how hark's model carries to meetings written
// by someone it never learned from: on the project's practice corpus
// (testdata/practice), it trains on all writers' meetings but one's and
// tags that one's, for each writer in turn, and prints the rules alone
// against the rules with the model, per writer and pooled. From the
// repository root:
//
//	go run ./bench/practice
//
// -writers ABCDEFGH tags only those writers' meetings (still training on
// every other writer), so that what a new writer's meetings add to the
// others can be measured on the same meetings as before.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
)

func main() {
	dir := flag.String("dir", "testdata/practice", "the practice corpus")
	drop := flag.Bool("drop-rule-tags", false, "let the model drop rule tags it finds unlikely (hark train --drop-rule-tags)")
	keep := flag.String("keep-rule-tags", "", "with -drop-rule-tags, codes whose rule tags are all kept (comma-separated)")
	l2 := flag.Float64("l2", 0, "the penalty on weights (hark train --l2; 0: the default)")
	epochs := flag.Int("epochs", 0, "training epochs (hark train --epochs; 0: the default)")
	minPrecision := flag.Float64("min-precision", 0, "the precision the thresholds keep (hark train --min-precision; 0: the default)")
	l2Code := flag.String("l2-code", "", "the penalty for some codes instead of -l2 (code=penalty, comma-separated; hark train --l2-code)")
	tagged := flag.String("writers", "", "the writers to tag, each by a model trained on all the others (default: every writer; e.g. ABCDEFGH to see what a new writer's meetings add to the first eight's)")
	flag.Parse()
	l2For := map[string]float64{}
	for _, kv := range strings.Split(*l2Code, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				fmt.Fprintln(os.Stderr, "practice: -l2-code:", err)
				os.Exit(2)
			}
			l2For[k] = f
		}
	}
	var keepFor []string
	if *keep != "" {
		keepFor = strings.Split(*keep, ",")
	}
	cfg := annotate.TrainConfig{KeepRules: !*drop, KeepRulesFor: keepFor, L2: *l2, L2For: l2For, Epochs: *epochs, MinPrecision: *minPrecision}
	if err := run(*dir, *tagged, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "practice:", hark.ErrorMessage(err))
		os.Exit(1)
	}
}

func run(dir, tagged string, cfg annotate.TrainConfig) error {
	ctx := context.Background()
	cb := annotate.DefaultCodebook()
	rules, err := annotate.NewRuleTagger(cb)
	if err != nil {
		return err
	}
	var all []annotate.LabelledTranscript
	for _, name := range []string{"train.csv", "dev.csv", "test.csv"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return hark.WrapError(hark.ENOTFOUND, err, "read the corpus; run from the repository root or give -dir")
		}
		d, err := annotate.ReadGold(name, f, cb)
		f.Close()
		if err != nil {
			return err
		}
		all = append(all, d...)
	}
	codes := make([]string, len(cb.Codes))
	for i, c := range cb.Codes {
		codes[i] = c.ID
	}
	writers := map[byte]bool{}
	for _, lt := range all {
		writers[lt.Transcript.RecordingID[0]] = true
	}
	var order []byte
	for w := range writers {
		if tagged == "" || strings.IndexByte(tagged, w) >= 0 {
			order = append(order, w)
		}
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	var before, after [][]annotate.Agreement
	for _, w := range order {
		var train, test []annotate.LabelledTranscript
		for _, lt := range all {
			if lt.Transcript.RecordingID[0] == w {
				test = append(test, lt)
			} else {
				train = append(train, lt)
			}
		}
		cfg.Rules = rules
		m, err := annotate.Train(ctx, train, cfg)
		if err != nil {
			return err
		}
		mt, err := annotate.NewModelTagger(rules, m)
		if err != nil {
			return err
		}
		b, err := annotate.AgreementByCode(ctx, rules, test, codes)
		if err != nil {
			return err
		}
		a, err := annotate.AgreementByCode(ctx, mt, test, codes)
		if err != nil {
			return err
		}
		before, after = append(before, b), append(after, a)
		fmt.Printf("writer %c (%d meetings): macro F1 rules %.3f → rules with the model %.3f\n", w, len(test), macro(b), macro(a))
	}
	b, a := annotate.SumAgreements(before), annotate.SumAgreements(after)
	fmt.Printf("\npooled over the %d writers %s, each tagged by a model that never saw them (trained on the %d others):\n", len(order), order, len(writers)-1)
	fmt.Printf("%-24s %-15s %-15s %s\n", "code", "precision", "recall", "F1")
	for i := range a {
		fmt.Printf("%-24s %.3f → %.3f  %.3f → %.3f  %.3f → %.3f\n", a[i].Code, b[i].Precision, a[i].Precision, b[i].Recall, a[i].Recall, b[i].F1, a[i].F1)
	}
	fmt.Printf("%-24s %34s %.3f → %.3f\n", "macro F1", "", macro(b), macro(a))
	return nil
}

func macro(as []annotate.Agreement) float64 {
	var s float64
	for _, a := range as {
		s += a.F1
	}
	return s / float64(len(as))
}
