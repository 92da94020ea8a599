package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/pipeline"
)

func newReconcileCmd(g *globals) *cobra.Command {
	var (
		c          conn
		db         string
		staleAfter time.Duration
	)
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Enqueue every recording that has no results yet, and those stuck in progress",
		Long: `reconcile lists the bucket and enqueues every recording that has no results
yet (a store that sends no events, or a lost event, only delays work), and sends
again the recordings that have been in progress for longer than --stale-after
(their messages were lost). Workers run the same check every --reconcile-interval.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cn, err := c.openAll(ctx, g, db)
			if err != nil {
				return err
			}
			defer cn.Close()
			store, q, idx := cn.store, cn.q, cn.idx
			p := pipeline.New(pipeline.Config{Store: store, Index: idx, Publisher: q, Logger: g.logger(), SidecarExtensions: sidecarExts(), StaleAfter: staleAfter})
			res, err := p.Reconcile(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%d recording(s) in bucket %s, %d enqueued, %d stuck in progress sent again\n", res.Objects, store.Bucket(), res.Enqueued, res.Stale)
			return nil
		},
	}
	c.flags(cmd)
	cmd.Flags().StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	cmd.Flags().DurationVar(&staleAfter, "stale-after", envDuration("HARK_STALE_AFTER", time.Hour), "a recording in progress this long without a change is sent again")
	return cmd
}

func newRetryCmd(g *globals) *cobra.Command {
	var (
		c     conn
		batch string
		db    string
	)
	cmd := &cobra.Command{
		Use:   "retry [--batch ID | RECORDING...]",
		Short: "Send failed recordings back through the pipeline",
		Long: `retry sends failed recordings back to the transcribe stage: the ones named, or
every failed recording of a batch. A transcript already made is reused.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if (batch == "") == (len(args) == 0) {
				return hark.Errorf(hark.EINVALID, "name recordings to retry, or give --batch (not both)")
			}
			cn, err := c.openAll(ctx, g, db)
			if err != nil {
				return err
			}
			defer cn.Close()
			store, q, idx := cn.store, cn.q, cn.idx
			ids := args
			if batch != "" {
				failed, err := idx.Recordings(ctx, hark.RecordingFilter{Batch: batch, Status: hark.StatusFailed})
				if err != nil {
					return err
				}
				for _, r := range failed {
					ids = append(ids, r.ID)
				}
			}
			p := pipeline.New(pipeline.Config{Store: store, Index: idx, Publisher: q, Logger: g.logger(), SidecarExtensions: sidecarExts()})
			var errs []string
			for _, id := range ids {
				if err := p.Retry(ctx, id); err != nil {
					errs = append(errs, hark.ErrorMessage(err))
					continue
				}
				fmt.Fprintf(g.stdout, "retrying %s\n", id)
			}
			if len(errs) > 0 {
				return hark.Errorf(hark.EINVALID, "%s", strings.Join(errs, "; "))
			}
			if len(ids) == 0 {
				fmt.Fprintln(g.stdout, "nothing to retry: no failed recordings")
			}
			return nil
		},
	}
	c.flags(cmd)
	cmd.Flags().StringVar(&batch, "batch", "", "retry every failed recording of this batch")
	cmd.Flags().StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	return cmd
}
