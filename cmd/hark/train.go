package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
)

type trainOptions struct {
	gold               []string
	dev                string
	codebook, out, ver string
	minCount, epochs   int
	minPositives       int
	l2, minPrecision   float64
	fromReviews, prune bool
	keepFor            []string
	l2For              map[string]string
	team               string
	folds              int
	db                 string
}

func newTrainCmd(g *globals) *cobra.Command {
	var o trainOptions
	cmd := &cobra.Command{
		Use:   "train --gold FILE... --out MODEL.json[.gz]",
		Short: "Train the model that tags beside the rules, from human-coded turns or coaches' reviews",
		Long: `train fits hark's model (per code a logistic regression over the words of a
turn, its form, what the rules found and the turn before) on human-coded
transcripts in the gold format (docs/eval.md), and writes it as a small JSON
file: --tagger rules+model --model FILE (HARK_MODEL) tags with it. Training is
deterministic: the same files and options give the same model.

Each code's thresholds are chosen on turns the model did not train on (folds
cut by transcript) for the best F1 that keeps precision at --min-precision.
With --dev, the rules alone and the rules with the new model are measured on
the dev file, code by code.

With --from-reviews --team T, the training data are the team's reviewed
sessions instead: accepted and added tags are the codes, rejected ones are
not, in the turns as the coaches corrected them (sessions whose review is
complete). The agreement with the coaches before (the rules) and after (the
model) is measured by k-fold on sessions each fold did not train on. The
model is written to --out; nothing tags with it until an admin sets
HARK_MODEL to it for the annotate workers, with HARK_TAGGER unset (the
default, rules+model) or rules+model (docs/model.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTrain(cmd, g, &o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.gold, "gold", nil, "gold CSV file of human-coded turns to train on (repeatable)")
	f.StringVar(&o.dev, "dev", "", "gold CSV file to measure the model on (not trained on)")
	f.StringVar(&o.codebook, "codebook", "", "codebook YAML file (default: hark's own)")
	f.StringVar(&o.out, "out", "", "where to write the model (required; gzip-compressed when it ends in .gz)")
	f.StringVar(&o.ver, "version", "", "the model's version (default: the date and time)")
	f.IntVar(&o.minCount, "min-count", 2, "keep features seen in at least this many turns")
	f.IntVar(&o.epochs, "epochs", 15, "passes over the training turns")
	f.IntVar(&o.minPositives, "min-positives", 10, "train a code only if at least this many turns have it")
	f.Float64Var(&o.l2, "l2", 0.003, "penalty on the weights")
	f.Float64Var(&o.minPrecision, "min-precision", 0.8, "the precision each code's thresholds aim to keep")
	f.BoolVar(&o.prune, "drop-rule-tags", false, "let the model drop the rules' tags it finds unlikely (default: it only adds)")
	f.StringToStringVar(&o.l2For, "l2-code", nil, "the L2 penalty for some codes instead of --l2 (code=penalty, comma-separated)")
	f.StringSliceVar(&o.keepFor, "keep-rule-tags", nil, "with --drop-rule-tags, codes whose rule tags are all kept all the same (comma-separated)")
	f.BoolVar(&o.fromReviews, "from-reviews", false, "train on the coaches' reviews of --team's sessions")
	f.StringVar(&o.team, "team", "", "with --from-reviews: the team whose reviews to learn from")
	f.IntVar(&o.folds, "folds", 5, "with --from-reviews: folds of the before-and-after agreement")
	f.StringVar(&o.db, "db", "", "with --from-reviews: index database (default: HARK_DB, else <data-dir>/index.db)")
	return cmd
}

func runTrain(cmd *cobra.Command, g *globals, o *trainOptions) error {
	if o.out == "" {
		return hark.Errorf(hark.EINVALID, "say where to write the model: --out MODEL.json")
	}
	if o.fromReviews == (len(o.gold) > 0) {
		return hark.Errorf(hark.EINVALID, "train on gold files (--gold FILE) or on a team's reviews (--from-reviews --team T): one of the two")
	}
	cb, err := loadCodebook(o.codebook)
	if err != nil {
		return err
	}
	rules, err := annotate.NewRuleTagger(cb)
	if err != nil {
		return err
	}
	if o.ver == "" {
		o.ver = time.Now().UTC().Format("20060102-150405")
	}
	known := map[string]bool{}
	for _, c := range cb.Codes {
		known[c.ID] = true
	}
	for _, c := range o.keepFor {
		if !known[c] {
			return hark.Errorf(hark.EINVALID, "--keep-rule-tags: the codebook has no code %q", c)
		}
	}
	l2For := map[string]float64{}
	for c, v := range o.l2For {
		f, err := strconv.ParseFloat(v, 64)
		if !known[c] || err != nil || f < 0 {
			return hark.Errorf(hark.EINVALID, "--l2-code %s=%s: give a code of the codebook and a penalty of 0 or more", c, v)
		}
		l2For[c] = f
	}
	cfg := annotate.TrainConfig{Rules: rules, Version: o.ver, MinCount: o.minCount, MinPositives: o.minPositives, Epochs: o.epochs, L2: o.l2,
		MinPrecision: o.minPrecision, KeepRules: !o.prune, KeepRulesFor: o.keepFor, L2For: l2For}
	if o.fromReviews {
		return trainFromReviews(cmd, g, o, cb, cfg)
	}
	var data []annotate.LabelledTranscript
	for _, path := range o.gold {
		d, err := readGoldFile(path, cb)
		if err != nil {
			return err
		}
		data = append(data, d...)
	}
	names := make([]string, len(o.gold))
	for i, p := range o.gold {
		names[i] = filepath.Base(p)
	}
	cfg.TrainedOn = strings.Join(names, ", ")
	start := time.Now()
	m, err := annotate.Train(cmd.Context(), data, cfg)
	if err != nil {
		return err
	}
	took := time.Since(start)
	if err := writeModel(o.out, m); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "model %s: %d codes, %d features, trained on %d turns of %d transcripts in %s; written to %s\n",
		m.Version, len(m.Codes), len(m.Features), m.Turns, len(data), took.Round(time.Millisecond), o.out)
	if o.dev == "" {
		return nil
	}
	dev, err := readGoldFile(o.dev, cb)
	if err != nil {
		return err
	}
	return printBeforeAfter(cmd, g, cb, rules, m, dev, o.dev)
}

// printBeforeAfter measures the rules alone and the rules with the model
// on data, code by code.
func printBeforeAfter(cmd *cobra.Command, g *globals, cb *hark.Codebook, rules *annotate.RuleTagger, m *annotate.Model, data []annotate.LabelledTranscript, name string) error {
	mt, err := annotate.NewModelTagger(rules, m)
	if err != nil {
		return err
	}
	codes := make([]string, len(cb.Codes))
	for i, c := range cb.Codes {
		codes[i] = c.ID
	}
	before, err := annotate.AgreementByCode(cmd.Context(), rules, data, codes)
	if err != nil {
		return err
	}
	after, err := annotate.AgreementByCode(cmd.Context(), mt, data, codes)
	if err != nil {
		return err
	}
	printAgreements(g.stdout, name, before, after)
	return nil
}

// printAgreements prints the agreement before (the rules) and after (the
// model) per code, and the macro F1.
func printAgreements(w io.Writer, name string, before, after []annotate.Agreement) {
	fmt.Fprintf(w, "\non %s: rules alone → rules with the model\n", name)
	fmt.Fprintf(w, "%-26s %5s  %-17s %-17s %-17s %s\n", "code", "gold", "precision", "recall", "F1", "kappa")
	var fb, fa float64
	for i, a := range after {
		b := before[i]
		fb += b.F1
		fa += a.F1
		fmt.Fprintf(w, "%-26s %5d  %5.3f → %5.3f     %5.3f → %5.3f     %5.3f → %5.3f     %s → %s\n", a.Code, a.Gold,
			b.Precision, a.Precision, b.Recall, a.Recall, b.F1, a.F1, kappaText(b.Kappa), kappaText(a.Kappa))
	}
	if n := float64(len(after)); n > 0 {
		fmt.Fprintf(w, "%-26s %5s  %-17s %-17s %5.3f → %5.3f\n", "macro F1", "", "", "", fb/n, fa/n)
	}
}

func kappaText(k *float64) string {
	if k == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *k)
}

// readGoldFile reads one gold CSV file.
func readGoldFile(path string, cb *hark.Codebook) ([]annotate.LabelledTranscript, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, hark.WrapError(hark.ENOTFOUND, err, "gold file %s does not exist", path)
		}
		return nil, hark.WrapError(hark.EINVALID, err, "read gold file %s", path)
	}
	defer f.Close()
	return annotate.ReadGold(filepath.Base(path), f, cb)
}

// writeModel writes the model to path, whole or not at all.
func writeModel(path string, m *annotate.Model) error {
	var buf bytes.Buffer
	write := m.Write
	if strings.HasSuffix(path, ".gz") {
		write = m.WriteGzip
	}
	if err := write(&buf); err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode the model")
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return hark.WrapError(hark.EINVALID, err, "write the model to %s", path)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return hark.WrapError(hark.EINVALID, err, "write the model to %s", path)
	}
	return nil
}

// trainFromReviews trains on the team's completed reviews, measures the
// agreement with the coaches before and after by k-fold, and writes the
// model trained on all of them.
func trainFromReviews(cmd *cobra.Command, g *globals, o *trainOptions, cb *hark.Codebook, cfg annotate.TrainConfig) error {
	if strings.TrimSpace(o.team) == "" {
		return hark.Errorf(hark.EINVALID, "--from-reviews learns from one team's reviews: give --team T")
	}
	ctx := cmd.Context()
	idx, err := openIndex(ctx, g, o.db)
	if err != nil {
		return err
	}
	defer idx.Close()
	recs, err := idx.Recordings(ctx, hark.RecordingFilter{Team: o.team, Status: hark.StatusReady, Limit: 10_000_000})
	if err != nil {
		return err
	}
	var data []annotate.LabelledTranscript
	for _, r := range recs {
		sess, err := idx.Session(ctx, r.ID)
		if err != nil {
			return err
		}
		if sess.Annotations != nil && sess.Annotations.Codebook != cb.ID {
			continue
		}
		if lt, ok := annotate.FromReview(sess); ok {
			data = append(data, lt)
		}
	}
	if len(data) < o.folds {
		return hark.Errorf(hark.EINVALID, "team %s has %d sessions with a complete review; learning from reviews needs at least %d (one a fold): review more sessions, or lower --folds", o.team, len(data), max(o.folds, 2))
	}
	cfg.TrainedOn = fmt.Sprintf("the complete reviews of team %s (%d sessions)", o.team, len(data))
	codes := make([]string, len(cb.Codes))
	for i, c := range cb.Codes {
		codes[i] = c.ID
	}
	before, after, err := annotate.CrossValidate(ctx, data, cfg, o.folds, codes)
	if err != nil {
		return err
	}
	m, err := annotate.Train(ctx, data, cfg)
	if err != nil {
		return err
	}
	if err := writeModel(o.out, m); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "model %s: %d codes, %d features, trained on %d turns of %d reviewed sessions of team %s; written to %s\n",
		m.Version, len(m.Codes), len(m.Features), m.Turns, len(data), o.team, o.out)
	printAgreements(g.stdout, fmt.Sprintf("the coaches' reviews, %d-fold (each fold's sessions not trained on)", o.folds), before, after)
	fmt.Fprintln(g.stdout, "\nNothing tags with it yet: to use it, set HARK_MODEL="+o.out+" for the annotate workers (with HARK_TAGGER unset, the default, or rules+model).")
	return nil
}
