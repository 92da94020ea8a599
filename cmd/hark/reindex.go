package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark/pipeline"
)

func newReindexCmd(g *globals) *cobra.Command {
	var (
		c  conn
		db string
	)
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the index from the results stored in the object store",
		Long: `reindex reads every recording's results from the object store (the system of
record) and writes them into the index: its transcript, tags and review, and a
double-coded session's mark and its coders' independent reviews. Use it when the index was lost or
moved to another database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			store, err := c.openStore(g)
			if err != nil {
				return err
			}
			defer closeWithin(store, queueCloseTimeout)
			idx, err := openIndex(ctx, g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			n, err := pipeline.New(pipeline.Config{Store: store, Index: idx, Logger: g.logger()}).Reindex(ctx)
			if err != nil {
				return err
			}
			if err := idx.RefreshReports(ctx); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "reindexed %d recording(s)\n", n)
			return nil
		},
	}
	c.flags(cmd)
	cmd.Flags().StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	return cmd
}
