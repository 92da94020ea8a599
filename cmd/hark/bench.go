package main

import (
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark/bench/seed"
	"github.com/harkworks/hark/report"
)

func newBenchCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Fill an index with realistic sessions and time the reports on it",
		Long: `bench measures hark against the figures in the design brief.

  hark bench seed --sessions 100000 --db DSN     fill a fresh index with sessions
  hark bench reports --db DSN                    time the common reports on it

Use a fresh index: the seeded sessions are for measuring, not reviewing.`,
	}
	cmd.AddCommand(newBenchSeedCmd(g), newBenchReportsCmd(g))
	return cmd
}

func newBenchSeedCmd(g *globals) *cobra.Command {
	var (
		db       string
		sessions int
		rngSeed  uint64
	)
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Fill an index with realistic sessions, tags and reviews for benchmarks",
		Long: `seed adds sessions to an index as the pipeline and coaches would have left them:
twelve teams of 8 to 30 workers, six meeting types, two years of dates with a
codebook change halfway, meetings of 30 to 120 minutes, tags at per-code rates
that vary by team and worker, and about 15% of sessions reviewed (10%
completely) with accepted, rejected, re-coded and added tags.

The data is the same for the same --seed. Point --db at a fresh index (an
SQLite file or a PostgreSQL database): the sessions have no review documents
and are meant for measuring reports, not for reviewing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			idx, err := openIndex(ctx, g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			last := time.Now()
			st, err := seed.Reports(ctx, idx, seed.Config{Sessions: sessions, Seed: rngSeed, Progress: func(done int) {
				if time.Since(last) > 5*time.Second || done == sessions {
					fmt.Fprintf(g.stderr, "seeded %d/%d sessions\n", done, sessions)
					last = time.Now()
				}
			}})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "seeded %d sessions (%d ready, %d reviewed, %d completely), %d tags, %d segments in %s\n",
				st.Sessions, st.Ready, st.Reviewed, st.Complete, st.Tags, st.Segments, st.Took.Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&sessions, "sessions", 100000, "how many sessions to add")
	f.Uint64Var(&rngSeed, "seed", 1, "random seed: the same seed gives the same data")
	f.StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	return cmd
}

// benchQueries are the common reports, as analysts ask for them.
var benchQueries = []struct {
	name string
	q    report.Query
}{
	{"by code, all codes", report.Query{By: []report.Dimension{report.Code}}},
	{"by team, month; 2 codes", report.Query{By: []report.Dimension{report.Team, report.Month},
		Codes: []string{"reflective_listening", "threat_of_escalation"}}},
	{"by team, code; all machine tags", report.Query{By: []report.Dimension{report.Team, report.Code}, Status: report.Machine}},
	{"by worker; 1 code", report.Query{By: []report.Dimension{report.Worker}, Codes: []string{"threat_of_escalation"}}},
	{"by meeting type, code; 2025", report.Query{By: []report.Dimension{report.MeetingType, report.Code}, From: "2025-01-01", To: "2025-12-31"}},
	{"by month, code; one team", report.Query{By: []report.Dimension{report.Month, report.Code}, Teams: []string{"north"}}},
	{"by team, code; confirmed", report.Query{By: []report.Dimension{report.Team, report.Code}, Status: report.Confirmed}},
	{"by team; codebook 2", report.Query{By: []report.Dimension{report.Team}, CodebookVersion: "2"}},
}

func newBenchReportsCmd(g *globals) *cobra.Command {
	var (
		db   string
		runs int
	)
	cmd := &cobra.Command{
		Use:   "reports",
		Short: "Time the common reports, the family lens and the agreement report on an index",
		Long: `reports runs each common report --runs times on the index and prints the
median and slowest time of each, the way docs/benchmarks.md reports them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			idx, err := openIndex(ctx, g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			type job struct {
				name string
				run  func() (int, error)
			}
			var jobs []job
			for _, b := range benchQueries {
				q, err := b.q.Normalize()
				if err != nil {
					return err
				}
				jobs = append(jobs, job{b.name, func() (int, error) {
					res, err := report.Run(ctx, idx, q)
					if err != nil {
						return 0, err
					}
					return len(res.Rows), nil
				}})
			}
			for _, b := range []struct {
				name string
				q    report.Query
			}{
				{"family lens, by team, month", report.Query{By: []report.Dimension{report.Team, report.Month}}},
				{"family lens, by worker; 2025", report.Query{By: []report.Dimension{report.Worker}, From: "2025-01-01", To: "2025-12-31"}},
			} {
				q, err := b.q.Normalize()
				if err != nil {
					return err
				}
				jobs = append(jobs, job{b.name, func() (int, error) {
					res, err := report.RunFamily(ctx, idx, q)
					if err != nil {
						return 0, err
					}
					return len(res.Rows), nil
				}})
			}
			aq, _ := report.Query{}.Normalize()
			jobs = append(jobs, job{"agreement, all codes", func() (int, error) {
				res, err := report.RunAgreement(ctx, idx, aq)
				if err != nil {
					return 0, err
				}
				return len(res.Rows), nil
			}})
			// A first run of the agreement report also brings counts that
			// are out of date (SQLite) up to date; it is not timed.
			if _, err := report.RunAgreement(ctx, idx, aq); err != nil {
				return err
			}
			// Nor is a first family report, which fills in the sessions of
			// an index made before it had columns of its own.
			if _, err := report.RunFamily(ctx, idx, aq); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "index: %s, %d runs each; wall-clock and CPU time (this process) per report\n", idx.Backend(), runs)
			fmt.Fprintf(g.stdout, "%-36s %6s %12s %12s %12s\n", "report", "rows", "median", "slowest", "median CPU")
			for _, j := range jobs {
				var wall, cpu []time.Duration
				var rows int
				for range runs {
					c0, t0 := cpuTime(), time.Now()
					n, err := j.run()
					if err != nil {
						return fmt.Errorf("%s: %w", j.name, err)
					}
					wall, cpu = append(wall, time.Since(t0)), append(cpu, cpuTime()-c0)
					rows = n
				}
				slices.Sort(wall)
				slices.Sort(cpu)
				fmt.Fprintf(g.stdout, "%-36s %6d %12s %12s %12s\n", j.name, rows, millis(wall[len(wall)/2]),
					millis(wall[len(wall)-1]), millis(cpu[len(cpu)/2]))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&runs, "runs", 5, "how many times to run each report")
	f.StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	return cmd
}

// cpuTime is the CPU time this process has used, user and system. The
// database's own CPU time is in it for SQLite (in-process), not for
// PostgreSQL (a server process).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// millis prints a duration in milliseconds with two decimals: a report on
// a small index takes well under one, and rounding it to "0s" would say
// nothing.
func millis(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
