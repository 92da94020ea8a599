package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/pipeline"
)

func newReannotateCmd(g *globals) *cobra.Command {
	var (
		c                         conn
		db, codebook, team, since string
	)
	cmd := &cobra.Command{
		Use:   "reannotate [--codebook F] [--team T] [--since DATE]",
		Short: "Re-tag stored transcripts (e.g. with a new codebook version) without transcribing again",
		Long: `reannotate sends ready recordings back through the annotate stage. With
--codebook, the codebook is checked, stored in the object store
(codebooks/<id>@<version>.yaml) and the workers tag with it; without it, they
use their own. Transcripts are not made again. The annotations made with every
codebook version stay in the object store (results/<id>/annotations/), and
coaches' decisions carry over to the tags the new version finds again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if since != "" && !dateRe.MatchString(since) {
				return hark.Errorf(hark.EINVALID, "--since %q is not a date like 2026-11-26", since)
			}
			cn, err := c.openAll(ctx, g, db)
			if err != nil {
				return err
			}
			defer cn.Close()
			store, q, idx := cn.store, cn.q, cn.idx
			key := ""
			if codebook != "" {
				cb, err := annotate.LoadCodebook(codebook)
				if err != nil {
					return err
				}
				data, err := os.ReadFile(codebook)
				if err != nil {
					return err
				}
				key = hark.CodebookKey(cb.ID, cb.Version)
				if r, _, err := store.Get(ctx, key); err == nil {
					var old bytes.Buffer
					_, _ = old.ReadFrom(r)
					r.Close()
					if !bytes.Equal(old.Bytes(), data) {
						return hark.Errorf(hark.ECONFLICT, "codebook %s version %s is already stored with different content: give the new codebook a new version", cb.ID, cb.Version)
					}
				} else if hark.ErrorCode(err) != hark.ENOTFOUND {
					return err
				} else if _, err := store.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "application/yaml", nil); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "codebook %s version %s (%d codes) stored as %s\n", cb.ID, cb.Version, len(cb.Codes), key)
			}
			p := pipeline.New(pipeline.Config{Store: store, Index: idx, Publisher: q, Logger: g.logger()})
			n, err := p.Reannotate(ctx, hark.RecordingFilter{Team: team, From: since, Limit: 10_000_000}, key)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%d recording(s) sent to the annotate stage\n", n)
			return nil
		},
	}
	c.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	f.StringVar(&codebook, "codebook", "", "codebook YAML to tag with (default: the workers' own)")
	f.StringVar(&team, "team", "", "only this team's recordings")
	f.StringVar(&since, "since", "", "only recordings made on or after this date (YYYY-MM-DD)")
	return cmd
}
