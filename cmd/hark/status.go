package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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
	r := &StatusReport{Batch: batch, Statuses: counts, Tags: tags, Failures: []StatusFailure{}}
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
