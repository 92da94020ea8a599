package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/pipeline"
	"github.com/harkworks/hark/transcribe"
)

func newRetentionCmd(g *globals) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Set and show how long each team's audio, transcripts, reviews and audit entries are kept",
		Long: `retention sets how long a team's data is kept, in days (0 keeps it):

  --audio-days    the recording's audio (its transcript and tags stay)
  --results-days  the recording and everything made from it, erased as hark forget does
  --review-days   the coaches' review (decisions, notes, corrections); 0: it goes with
                  the results; longer than --results-days: a reviewed recording is kept
                  until its review goes
  --audit-days    audit entries (the default policy's applies to the whole log)

Without --team it sets the deployment's default, which every team without a
policy of its own follows. hark up and hark worker enforce the policies every
--sweep-interval (default an hour); hark sweep does it once, for a cron job.`,
	}
	var r hark.Retention
	set := &cobra.Command{
		Use:   "set [--team T] [--audio-days N] [--results-days N] [--review-days N] [--audit-days N]",
		Short: "Set a team's retention policy (or the default, without --team)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if r.Team != "" {
				if err := hark.CheckName("team", r.Team); err != nil {
					return err
				}
			}
			idx, err := openIndex(cmd.Context(), g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			if err := idx.SetRetention(cmd.Context(), r); err != nil {
				return err
			}
			if err := idx.Audit(cmd.Context(), &hark.AuditEntry{At: time.Now(), User: "cli", Action: "retention", Detail: policyText(r)}); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, "retention set:", policyText(r))
			return nil
		},
	}
	sf := set.Flags()
	sf.StringVar(&r.Team, "team", "", "the team (default: the deployment's default policy)")
	sf.IntVar(&r.AudioDays, "audio-days", 0, "days the audio is kept (0: kept)")
	sf.IntVar(&r.ResultsDays, "results-days", 0, "days a recording and its results are kept (0: kept)")
	sf.IntVar(&r.ReviewDays, "review-days", 0, "days the coaches' review is kept (0: as long as the results)")
	sf.IntVar(&r.AuditDays, "audit-days", 0, "days audit entries are kept (0: kept)")
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the retention policies",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			idx, err := openIndex(cmd.Context(), g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			list, err := idx.Retentions(cmd.Context())
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(g.stdout, "no retention policies: everything is kept until hark forget erases it")
			}
			for _, r := range list {
				fmt.Fprintln(g.stdout, policyText(r))
			}
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	cmd.AddCommand(set, show)
	return cmd
}

// policyText is a policy in words.
func policyText(r hark.Retention) string {
	who := "default"
	if r.Team != "" {
		who = "team " + r.Team
	}
	days := func(n int) string {
		if n == 0 {
			return "kept"
		}
		return fmt.Sprintf("%d days", n)
	}
	review := days(r.ReviewDays)
	if r.ReviewDays == 0 {
		review = "as long as the results"
	}
	return fmt.Sprintf("%s: audio %s, results %s, reviews %s, audit entries %s", who, days(r.AudioDays), days(r.ResultsDays), review, days(r.AuditDays))
}

func newSweepCmd(g *globals) *cobra.Command {
	var (
		c  conn
		db string
	)
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Enforce the retention policies once (for a cron job; hark up and hark worker do it every hour)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cn, err := c.openAll(cmd.Context(), g, db)
			if err != nil {
				return err
			}
			defer cn.Close()
			p := pipeline.New(pipeline.Config{Store: cn.store, Index: cn.idx, Publisher: cn.q, Logger: g.logger(), SidecarExtensions: transcribe.SidecarExtensions})
			got, err := p.Sweep(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, "swept:", got)
			return nil
		},
	}
	c.flags(cmd)
	cmd.Flags().StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	return cmd
}
