package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/report"
)

func newDoubleCodeCmd(g *globals) *cobra.Command {
	var (
		db string
		c  conn
	)
	cmd := &cobra.Command{
		Use:   "double-code",
		Short: "Double coding for research: sessions coded independently by several coders, their agreement, and settling",
		Long: `double-code marks sessions to be coded independently by two or more coders
(by hand, or a random share of a batch from a recorded seed). Each coder then
reviews the session blind on the review page, as any session — their own
decisions, tags and notes, none of the others' — and marks their review
complete. "agreement" gives the coders' agreement per code (Cohen's kappa for
two, Krippendorff's alpha for more, with bootstrap intervals, over turns and
over time units); "disagreements" lists, turn by turn, where they differ;
"settle" makes the settled review the session's own. mark, unmark and settle
keep what they do next to the recording in the object store too (the running
` + "`hark up`" + `'s, or HARK_S3_URL's), so that ` + "`hark reindex`" + ` rebuilds it.`,
	}
	cmd.PersistentFlags().StringVar(&db, "db", "", "the index (default: $HARK_DB, else the data dir's)")

	var (
		coders, batch, by string
		share             float64
		seed              uint64
		seedSet           bool
	)
	mark := &cobra.Command{
		Use:   "mark [ID...] --coders A,B [--batch B [--share F] [--seed N]]",
		Short: "Mark sessions for double coding: the ids given, or a batch's ready sessions, or a random share of them",
		RunE: func(cmd *cobra.Command, ids []string) error {
			seedSet = cmd.Flags().Changed("seed")
			ctx := cmd.Context()
			idx, err := openIndex(ctx, g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			store, err := c.openStore(g)
			if err != nil {
				return err
			}
			defer closeWithin(store, queueCloseTimeout)
			names := splitList(coders)
			if len(names) < hark.MinCoders {
				return hark.Errorf(hark.EINVALID, "name at least %d coders with --coders (accounts, comma-separated)", hark.MinCoders)
			}
			how := "by hand"
			switch {
			case batch != "" && len(ids) > 0:
				return hark.Errorf(hark.EINVALID, "give recording ids or --batch, not both")
			case batch != "":
				if ids, how, err = drawFromBatch(ctx, idx, batch, share, seed, seedSet); err != nil {
					return err
				}
			case len(ids) == 0:
				return hark.Errorf(hark.EINVALID, "give the recording ids to double-code, or --batch")
			case share != 0:
				return hark.Errorf(hark.EINVALID, "--share draws from a --batch")
			}
			for _, id := range ids {
				if err := checkCoders(ctx, idx, id, names); err != nil {
					return err
				}
			}
			for _, id := range ids {
				dc := &hark.DoubleCoding{RecordingID: id, Coders: names, How: how, MarkedBy: by, MarkedAt: time.Now().UTC()}
				if err := idx.MarkDoubleCoding(ctx, dc); err != nil {
					return err
				}
				if err := idx.Audit(ctx, &hark.AuditEntry{At: dc.MarkedAt, User: by, Action: "double-code", RecordingID: id,
					Detail: "marked for " + strings.Join(names, ", ") + " (" + how + ")"}); err != nil {
					return err
				}
				if err := hark.PutJSON(ctx, store, hark.DoubleCodingKey(id), dc); err != nil {
					return hark.WrapError(hark.ErrorCode(err), err, "%s is marked in the index but not yet in the object store (nor the sessions after it): mark them again by id, `hark double-code mark %s --coders %s`", id, id, strings.Join(names, ","))
				}
			}
			fmt.Fprintf(g.stdout, "%d session(s) marked for double coding by %s (%s)\n", len(ids), strings.Join(names, ", "), how)
			return nil
		},
	}
	mf := mark.Flags()
	mf.StringVar(&coders, "coders", "", "the coders, accounts separated by commas (at least two)")
	mf.StringVar(&batch, "batch", "", "draw from this batch's ready sessions")
	mf.Float64Var(&share, "share", 0, "the share of the batch to draw, 0 to 1 (default: all of it)")
	mf.Uint64Var(&seed, "seed", 0, "the seed of the draw (default: a new one, printed and recorded)")
	mf.StringVar(&by, "by", "cli", "who marks them, for the audit log")
	c.flags(mark)

	unmark := &cobra.Command{
		Use:   "unmark ID...",
		Short: "Take sessions out of double coding, with their coders' reviews (not once settled)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, ids []string) error {
			ctx := cmd.Context()
			idx, err := openIndex(ctx, g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			store, err := c.openStore(g)
			if err != nil {
				return err
			}
			defer closeWithin(store, queueCloseTimeout)
			for _, id := range ids {
				if err := idx.UnmarkDoubleCoding(ctx, id); err != nil {
					return err
				}
				if err := unstoreDoubleCoding(ctx, store, id); err != nil {
					return hark.WrapError(hark.ErrorCode(err), err, "%s is taken out of double coding in the index, but its mark or its coders' reviews are still in the object store: run the same unmark again", id)
				}
				if err := idx.Audit(ctx, &hark.AuditEntry{At: time.Now().UTC(), User: "cli", Action: "double-code", RecordingID: id, Detail: "unmarked"}); err != nil {
					return err
				}
			}
			fmt.Fprintf(g.stdout, "%d session(s) taken out of double coding\n", len(ids))
			return nil
		},
	}
	c.flags(unmark)

	var team string
	var asJSON bool
	status := &cobra.Command{
		Use:   "status [--team T] [--json]",
		Short: "The double-coded sessions: their coders, how far each has got, and whether they are settled",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			idx, err := openIndex(cmd.Context(), g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			rows, err := codingStatus(cmd.Context(), idx, team)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(g.stdout).Encode(rows)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RECORDING\tKEY\tCODERS\tSETTLED\tHOW")
			for _, r := range rows {
				var cs []string
				for _, c := range r.Coders {
					cs = append(cs, c.Coder+" "+stateWord(c.State))
				}
				settled := "no"
				if r.SettledAt != nil {
					settled = r.SettledAt.Format(time.DateOnly) + " by " + r.SettledBy
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.RecordingID, r.Key, strings.Join(cs, ", "), settled, r.How)
			}
			return tw.Flush()
		},
	}
	status.Flags().StringVar(&team, "team", "", "only this team's sessions")
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var (
		format string
		opt    report.CoderOptions
	)
	agreement := &cobra.Command{
		Use:   "agreement [--team T] [--format table|csv|json]",
		Short: "Agreement between the coders per code: kappa (two coders), alpha, observed agreement, with bootstrap intervals",
		Long: `agreement computes, per code, how far the coders of the double-coded sessions
agree, over the sessions whose coders have all marked their reviews complete
(settled or not): Cohen's kappa when there are two coders, Krippendorff's alpha
for any number, and the observed agreement, each with a percentile bootstrap
interval over sessions from a recorded seed. Units are the turns, and slices
of time (--unit-seconds) for agreement on when. A coder applies a code to a
turn by accepting the machine's tag (under the code they gave it) or by adding
one; pending and rejected tags are not applied. Rows over fewer sessions than
--min-cell (default HARK_MIN_CELL, else the reports' 5) are withheld.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("seed") {
				opt.Seed = report.NewSeed()
			}
			if !cmd.Flags().Changed("min-cell") {
				opt.MinCell = envInt("HARK_MIN_CELL", report.DefaultMinCell)
			}
			idx, err := openIndex(cmd.Context(), g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			var teams []string
			if team != "" {
				teams = []string{team}
			}
			sessions, err := report.CodedSessions(cmd.Context(), idx, teams)
			if err != nil {
				return err
			}
			rep := report.CoderAgreement(sessions, opt)
			return writeCoderReport(g, rep, len(sessions), format)
		},
	}
	af := agreement.Flags()
	af.StringVar(&team, "team", "", "only this team's sessions")
	af.StringVar(&format, "format", "table", "table, csv or json")
	af.Float64Var(&opt.UnitSeconds, "unit-seconds", report.DefaultUnitSeconds, "the length of a time unit, in seconds")
	af.IntVar(&opt.Rounds, "rounds", report.DefaultRounds, "bootstrap resamples (negative: no intervals)")
	af.Float64Var(&opt.Level, "level", report.DefaultLevel, "the intervals' confidence level")
	af.Uint64Var(&opt.Seed, "seed", 0, "the bootstrap's seed (default: a new one, printed)")
	af.IntVar(&opt.MinCell, "min-cell", report.DefaultMinCell, "withhold rows over fewer sessions than this")

	disagreements := &cobra.Command{
		Use:   "disagreements ID",
		Short: "Where the coders of a session disagree, turn by turn",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			idx, err := openIndex(cmd.Context(), g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			s, coderNames, err := report.CodedSessionOf(cmd.Context(), idx, args[0], false)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TURN\tAT\tCODE\t"+strings.Join(coderNames, "\t"))
			n := 0
			for i, u := range s.Segments {
				for _, code := range u.Applied() {
					var cells []string
					yes := 0
					for _, c := range coderNames {
						codes, coded := u.Codes[c]
						switch {
						case !coded:
							cells = append(cells, "-")
						case slices.Contains(codes, code):
							cells = append(cells, "yes")
							yes++
						default:
							cells = append(cells, "no")
						}
					}
					if yes == len(coderNames) {
						continue // all agree
					}
					n++
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i, clockText(u.Start), code, strings.Join(cells, "\t"))
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%d disagreement(s) in %d turn(s)\n", n, len(s.Segments))
			return nil
		},
	}

	var take string
	settle := &cobra.Command{
		Use:   "settle ID --take CODER",
		Short: "Settle a double-coded session: the review of the coder named (as the disagreements were resolved in it) becomes the session's review",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			idx, err := openIndex(ctx, g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			store, err := c.openStore(g)
			if err != nil {
				return err
			}
			defer closeWithin(store, queueCloseTimeout)
			id := args[0]
			dc, err := idx.DoubleCoding(ctx, id)
			if err != nil {
				return err
			}
			if !dc.Blind() {
				// Settled before: what is left to do is the copy in the
				// object store, should it have failed then.
				shared, err := idx.Review(ctx, id)
				if err != nil {
					return err
				}
				if err := storeSettled(ctx, idx, store, shared); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "%s was settled on %s by %s; its settled review and mark are written to the object store again\n", id, dc.SettledAt.Format(time.DateOnly), dc.SettledBy)
				return nil
			}
			if !dc.Codes(take) {
				return hark.Errorf(hark.EINVALID, "--take names the coder whose review becomes the session's: one of %s", strings.Join(dc.Coders, ", "))
			}
			reviews, err := idx.CoderReviews(ctx, id)
			if err != nil {
				return err
			}
			for _, c := range dc.Coders {
				if r := reviewOf(reviews, c); r == nil || r.State != hark.ReviewComplete {
					return hark.Errorf(hark.EINVALID, "%s has not marked their review of %s complete: settle it when every coder has", c, id)
				}
			}
			shared, err := idx.Review(ctx, id)
			if err != nil {
				return err
			}
			settled := *reviewOf(reviews, take)
			settled.Coder, settled.UpdatedBy, settled.UpdatedAt = "", by, time.Now().UTC()
			settled.Corrections = shared.Corrections // who speaks and what was said are the session's
			if err := idx.SettleDoubleCoding(ctx, &settled, shared.Version, by); err != nil {
				return err
			}
			if err := idx.Audit(ctx, &hark.AuditEntry{At: settled.UpdatedAt, User: by, Action: "double-code", RecordingID: id,
				Detail: "settled, taking " + take + "'s review"}); err != nil {
				return err
			}
			if err := storeSettled(ctx, idx, store, &settled); err != nil {
				return hark.WrapError(hark.ErrorCode(err), err, "%s is settled in the index, but the settled review is not yet in the object store: run the same settle again to write it there", id)
			}
			fmt.Fprintf(g.stdout, "%s settled: %s's review is the session's review; the coders' reviews are kept for the agreement figures\n", id, take)
			return nil
		},
	}
	settle.Flags().StringVar(&take, "take", "", "the coder whose review becomes the session's")
	settle.Flags().StringVar(&by, "by", "cli", "who settles it, for the audit log")
	c.flags(settle)

	cmd.AddCommand(mark, unmark, status, agreement, disagreements, settle)
	return cmd
}

// unstoreDoubleCoding removes a session's double-coding mark and its
// coders' reviews from the object store.
func unstoreDoubleCoding(ctx context.Context, store hark.ObjectStore, id string) error {
	if _, err := hark.RemoveAll(ctx, store, hark.CoderReviewsPrefix(id)); err != nil {
		return err
	}
	return store.Remove(ctx, hark.DoubleCodingKey(id))
}

// storeSettled writes a settled session's review and its mark, as the
// index now holds them, next to the recording.
func storeSettled(ctx context.Context, idx *index.DB, store hark.ObjectStore, settled *hark.ReviewDoc) error {
	dc, err := idx.DoubleCoding(ctx, settled.RecordingID)
	if err != nil {
		return err
	}
	if err := hark.PutJSON(ctx, store, hark.ReviewKey(settled.RecordingID), settled); err != nil {
		return err
	}
	return hark.PutJSON(ctx, store, hark.DoubleCodingKey(settled.RecordingID), dc)
}

// drawFromBatch returns the batch's ready sessions, or a share of them
// drawn with seed (a new one when not set), and how they were chosen.
func drawFromBatch(ctx context.Context, idx *index.DB, batch string, share float64, seed uint64, seedSet bool) ([]string, string, error) {
	if share < 0 || share > 1 || math.IsNaN(share) {
		return nil, "", hark.Errorf(hark.EINVALID, "--share %g: give a share from 0 to 1 (0.2 for a fifth)", share)
	}
	recs, err := idx.Recordings(ctx, hark.RecordingFilter{Batch: batch, Status: hark.StatusReady, Limit: 1 << 30})
	if err != nil {
		return nil, "", err
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		return nil, "", hark.Errorf(hark.ENOTFOUND, "batch %s has no ready sessions to double-code", batch)
	}
	slices.Sort(ids) // the draw depends on the seed only, not on the index's order
	if share == 0 || share == 1 {
		return ids, fmt.Sprintf("all %d ready sessions of batch %s", len(ids), batch), nil
	}
	if !seedSet {
		seed = report.NewSeed()
	}
	n := max(1, int(math.Round(share*float64(len(ids)))))
	r := mrand.New(mrand.NewPCG(seed, 0x68617263)) // "harc": fixed, so the seed alone repeats the draw
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	ids = ids[:n]
	slices.Sort(ids)
	return ids, fmt.Sprintf("random %s of batch %s (%d of %d ready sessions), seed %d", strconv.FormatFloat(100*share, 'f', -1, 64)+"%", batch, n, len(recs), seed), nil
}

// checkCoders says when a coder is not an account that can review the
// recording's team.
func checkCoders(ctx context.Context, idx *index.DB, id string, names []string) error {
	rec, err := idx.Recording(ctx, id)
	if err != nil {
		return err
	}
	for _, n := range names {
		u, err := idx.UserByName(ctx, n)
		if hark.ErrorCode(err) == hark.ENOTFOUND {
			return hark.Errorf(hark.EINVALID, "coder %q is not an account: add them with `hark user add %s --role coach --team %q`", n, n, rec.Team)
		}
		if err != nil {
			return err
		}
		if !u.CanReview(rec.Team) {
			return hark.Errorf(hark.EINVALID, "coder %q cannot review team %s's sessions (role %s): give them the team with `hark user` first", n, rec.Team, u.Role)
		}
	}
	return nil
}

// codingRow is one double-coded session in `hark double-code status`.
type codingRow struct {
	hark.DoubleCoding
	Key    string        `json:"key"`
	Team   string        `json:"team"`
	Coders []coderStatus `json:"coders"`
}

type coderStatus struct {
	Coder string           `json:"coder"`
	State hark.ReviewState `json:"state"`
}

func codingStatus(ctx context.Context, idx *index.DB, team string) ([]codingRow, error) {
	var teams []string
	if team != "" {
		teams = []string{team}
	}
	dcs, err := idx.DoubleCoded(ctx, teams)
	if err != nil {
		return nil, err
	}
	rows := []codingRow{}
	for _, dc := range dcs {
		rec, err := idx.Recording(ctx, dc.RecordingID)
		if err != nil {
			return nil, err
		}
		reviews, err := idx.CoderReviews(ctx, dc.RecordingID)
		if err != nil {
			return nil, err
		}
		row := codingRow{DoubleCoding: *dc, Key: rec.Key, Team: rec.Team}
		for _, c := range dc.Coders {
			st := hark.ReviewNone
			if r := reviewOf(reviews, c); r != nil {
				st = r.State
			}
			row.Coders = append(row.Coders, coderStatus{c, st})
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func reviewOf(reviews []*hark.ReviewDoc, coder string) *hark.ReviewDoc {
	for _, r := range reviews {
		if r.Coder == coder {
			return r
		}
	}
	return nil
}

func stateWord(s hark.ReviewState) string {
	switch s {
	case hark.ReviewComplete:
		return "(complete)"
	case hark.ReviewInProgress:
		return "(in progress)"
	}
	return "(not started)"
}

func clockText(secs float64) string {
	d := time.Duration(secs * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// writeCoderReport prints the coders' agreement as a table, CSV or JSON.
func writeCoderReport(g *globals, rep *report.CoderReport, sessions int, format string) error {
	switch format {
	case "json":
		return json.NewEncoder(g.stdout).Encode(rep)
	case "csv", "table":
	default:
		return hark.Errorf(hark.EINVALID, "--format %q: use table, csv or json", format)
	}
	header, rows := rep.Table()
	if format == "csv" {
		return rep.WriteCSV(g.stdout)
	}
	fmt.Fprintf(g.stdout, "%d double-coded session(s) with every review complete; bootstrap seed %d, %d rounds, %.0f%% intervals, rows under %d sessions withheld\n",
		sessions, rep.Options.Seed, rep.Options.Rounds, 100*rep.Options.Level, rep.Options.MinCell)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// splitList splits a comma-separated list, trimming its items and leaving
// out empty ones.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
