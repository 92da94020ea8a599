package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/pipeline"
	"github.com/harkworks/hark/transcribe"
)

type forgetOptions struct {
	c                   conn
	db                  string
	batch, team, worker string
	family              string
	reason              string
	yes                 bool
}

func newForgetCmd(g *globals) *cobra.Command {
	var o forgetOptions
	cmd := &cobra.Command{
		Use:   "forget [RECORDING...] [--batch ID] [--family REF] [--team T --worker ID] --reason WHY --yes",
		Short: "Erase recordings and everything made from them (audio, transcripts, tags, reviews, notes, queue messages)",
		Long: `forget erases recordings for good: the audio and any transcript uploaded with
it, every transcript, every annotations version, the review with its notes and
corrections, the index rows and report figures, the audit entries about them,
their messages in the queue, and the object versions where the bucket keeps
versions. A worker busy with one of them drops its work and removes what it
wrote. One audit entry says that recordings were erased, how many, by whom
and why, with no id and no content.

Without --yes it lists what would go and erases nothing. Give the reason
(--reason), e.g. "subject access request 2026-114" or "retention": never a
family's name.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runForget(cmd.Context(), g, &o, args)
		},
	}
	o.c.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	f.StringVar(&o.batch, "batch", "", "erase the recordings of this upload batch")
	f.StringVar(&o.family, "family", "", "erase the recordings of this family (the reference given at upload with --family)")
	f.StringVar(&o.team, "team", "", "with --worker: the worker's team; with --family: only this team's")
	f.StringVar(&o.worker, "worker", "", "erase the recordings of this worker (with --team)")
	f.StringVar(&o.reason, "reason", "", "why they are erased, for the audit log (required; no names)")
	f.BoolVar(&o.yes, "yes", false, "erase them (without it, only list them)")
	return cmd
}

func runForget(ctx context.Context, g *globals, o *forgetOptions, ids []string) error {
	if err := (hark.Selection{IDs: ids, Batch: o.batch, Family: o.family, Team: o.team, Worker: o.worker}).Check(); err != nil {
		return err
	}
	reason := strings.TrimSpace(o.reason)
	if reason == "" || len(reason) > 200 {
		return hark.Errorf(hark.EINVALID, "give the reason with --reason (1 to 200 characters, e.g. \"subject access request 2026-114\"; no names): it goes in the audit log")
	}
	cn, err := o.c.openAll(ctx, g, o.db)
	if err != nil {
		return err
	}
	defer cn.Close()
	recs, err := hark.Selection{IDs: ids, Batch: o.batch, Family: o.family, Team: o.team, Worker: o.worker}.Select(ctx, cn.idx)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintln(g.stdout, "no recordings match: nothing to erase")
		return nil
	}
	fmt.Fprintf(g.stdout, "%d recording(s):\n", len(recs))
	for _, r := range recs {
		fmt.Fprintf(g.stdout, "  %s  %s  team %s  %s\n", r.ID, r.Key, r.Team, r.Status)
	}
	if !o.yes {
		fmt.Fprintln(g.stdout, "nothing erased: run again with --yes to erase them and everything made from them")
		return nil
	}
	p := pipeline.New(pipeline.Config{Store: cn.store, Index: cn.idx, Publisher: cn.q, Logger: g.logger(), SidecarExtensions: transcribe.SidecarExtensions})
	got, ferr := p.Forget(ctx, recs)
	// The audit entry says that something was erased, by whom and why:
	// never which recordings, nor anything of them.
	entry := &hark.AuditEntry{At: time.Now(), User: "cli", Action: "forget",
		Detail: fmt.Sprintf("%d recording(s) erased: %s", got.Recordings, reason)}
	if err := cn.idx.Audit(ctx, entry); err != nil && ferr == nil {
		ferr = err
	}
	if ferr != nil {
		return hark.WrapError(hark.ErrorCode(ferr), ferr, "erasing stopped part way (%d recording(s) erased from the index, %d objects, %d messages); run the same command again to finish", got.Recordings, got.Objects, got.Messages)
	}
	fmt.Fprintf(g.stdout, "erased %d recording(s): %d object(s) in the store, %d message(s) in the queue\n", got.Recordings, got.Objects, got.Messages)
	return nil
}

// forgetter is the web server's erasure through the pipeline.
func forgetter(p *pipeline.Pipeline) func(context.Context, []*hark.Recording) (string, error) {
	return func(ctx context.Context, recs []*hark.Recording) (string, error) {
		got, err := p.Forget(ctx, recs)
		return fmt.Sprintf("%d recording(s) from the index, %d object(s) in the store, %d message(s) in the queue", got.Recordings, got.Objects, got.Messages), err
	}
}
