package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/index"
)

func openIndex(ctx context.Context, g *globals, dsn string) (*index.DB, error) {
	if dsn == "" {
		dsn = secretEnv("HARK_DB") // may hold a password: never a flag default, never printed
	}
	if dsn == "" {
		// The data dir's own index: the data dir is hark's, so an admin
		// may add teams and accounts before the first `hark up`.
		if err := os.MkdirAll(g.dataDir, 0o700); err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "create the data dir %s", g.dataDir)
		}
		dsn = filepath.Join(g.dataDir, "index.db")
	}
	return index.Open(ctx, dsn)
}

// StatusReport is what `hark status --json` prints.
type StatusReport struct {
	Batch    string              `json:"batch,omitempty"`
	Total    int                 `json:"total"`
	Statuses map[hark.Status]int `json:"statuses"`
	Tags     map[string]int      `json:"tags"`
	Failures []StatusFailure     `json:"failures"`
	// InProgress are the recordings being transcribed, with how far they
	// have got.
	InProgress []StatusProgress `json:"in_progress"`
}

// StatusProgress is one recording being worked on and how far it has got.
type StatusProgress struct {
	ID       string         `json:"id"`
	Key      string         `json:"key"`
	Status   hark.Status    `json:"status"`
	Progress *hark.Progress `json:"progress,omitempty"`
}

// StatusFailure is one failed recording and why.
type StatusFailure struct {
	ID     string     `json:"id"`
	Key    string     `json:"key"`
	Stage  hark.Stage `json:"stage"`
	Reason string     `json:"reason"`
}

func statusReport(ctx context.Context, idx hark.Index, batch string) (*StatusReport, error) {
	counts, err := idx.StatusCounts(ctx, hark.CountFilter{Batch: batch})
	if err != nil {
		return nil, err
	}
	tags, err := idx.TagCounts(ctx, hark.CountFilter{Batch: batch})
	if err != nil {
		return nil, err
	}
	r := &StatusReport{Batch: batch, Statuses: counts, Tags: tags, Failures: []StatusFailure{}, InProgress: []StatusProgress{}}
	for _, n := range counts {
		r.Total += n
	}
	if counts[hark.StatusFailed] > 0 {
		failed, err := idx.Recordings(ctx, hark.RecordingFilter{Batch: batch, Status: hark.StatusFailed})
		if err != nil {
			return nil, err
		}
		for _, f := range failed {
			r.Failures = append(r.Failures, StatusFailure{ID: f.ID, Key: f.Key, Stage: f.Stage, Reason: f.Reason})
		}
	}
	for _, st := range []hark.Status{hark.StatusTranscribing, hark.StatusAnnotating} {
		if counts[st] == 0 {
			continue
		}
		list, err := idx.Recordings(ctx, hark.RecordingFilter{Batch: batch, Status: st, Limit: 50})
		if err != nil {
			return nil, err
		}
		for _, x := range list {
			r.InProgress = append(r.InProgress, StatusProgress{ID: x.ID, Key: x.Key, Status: x.Status, Progress: x.Progress})
		}
	}
	return r, nil
}

// Done reports whether every recording has finished.
func (r *StatusReport) Done() bool {
	return r.Total > 0 && r.Statuses[hark.StatusReady]+r.Statuses[hark.StatusFailed] == r.Total
}

func (r *StatusReport) print(g *globals) {
	if r.Batch != "" {
		fmt.Fprintf(g.stdout, "batch %s: ", r.Batch)
	}
	fmt.Fprintf(g.stdout, "%d recording(s)", r.Total)
	for _, st := range hark.Statuses {
		if n := r.Statuses[st]; n > 0 {
			fmt.Fprintf(g.stdout, ", %d %s", n, st)
		}
	}
	fmt.Fprintln(g.stdout)
	if len(r.Tags) > 0 {
		codes := make([]string, 0, len(r.Tags))
		for c := range r.Tags {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		fmt.Fprintln(g.stdout, "tags:")
		for _, c := range codes {
			fmt.Fprintf(g.stdout, "  %-26s %5d\n", c, r.Tags[c])
		}
	}
	for _, f := range r.Failures {
		fmt.Fprintf(g.stdout, "failed %s (%s) in %s: %s\n", f.Key, f.ID, f.Stage, f.Reason)
	}
	for _, p := range r.InProgress {
		if p.Progress == nil || p.Progress.Total == 0 {
			fmt.Fprintf(g.stdout, "%s %s (%s)\n", p.Status, p.Key, p.ID)
			continue
		}
		fmt.Fprintf(g.stdout, "%s %s (%s) %s %s\n", p.Status, p.Key, p.ID, bar(p.Progress.Fraction(), 20), p.Progress)
	}
	if r.Batch != "" && r.Total > 0 {
		done := float64(r.Statuses[hark.StatusReady] + r.Statuses[hark.StatusFailed])
		for _, p := range r.InProgress {
			if p.Progress != nil {
				done += p.Progress.Fraction() * 0.9 // transcription is most of the work
			}
		}
		fmt.Fprintf(g.stdout, "batch %s %.0f%% done\n", bar(done/float64(r.Total), 20), 100*done/float64(r.Total))
	}
}

// bar draws a share 0–1 as [#####.....].
func bar(f float64, width int) string {
	n := int(f*float64(width) + 0.5)
	n = max(0, min(width, n))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func newStatusCmd(g *globals) *cobra.Command {
	var (
		batch, db   string
		watch, asJS bool
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show how many recordings are in each state, and why any failed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			idx, err := openIndex(ctx, g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			for {
				r, err := statusReport(ctx, idx, batch)
				if err != nil {
					return err
				}
				if asJS {
					enc := json.NewEncoder(g.stdout)
					enc.SetIndent("", "  ")
					if err := enc.Encode(r); err != nil {
						return err
					}
				} else {
					r.print(g)
				}
				if !watch || r.Done() {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(2 * time.Second):
				}
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&batch, "batch", "", "only this batch (as printed by `hark upload`)")
	f.BoolVar(&watch, "watch", false, "repeat every 2 seconds until every recording is ready or failed")
	f.BoolVar(&asJS, "json", false, "print JSON")
	f.StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	return cmd
}

// requireIndex refuses to start a team process (worker, serve) on a private
// SQLite file by accident: several replicas would each keep their own index.
func requireIndex(cmd *cobra.Command, dsn string) error {
	if dsn != "" || secretEnv("HARK_DB") != "" {
		return nil
	}
	if f := cmd.Flag("data-dir"); f != nil && f.Changed {
		return nil
	}
	return hark.Errorf(hark.EINVALID, "no index database: set HARK_DB to the team's PostgreSQL (postgres://…), or give --db (or --data-dir for a single machine's SQLite index)")
}
