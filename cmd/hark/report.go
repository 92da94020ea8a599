package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

func newReportCmd(g *globals) *cobra.Command {
	var (
		by, codes, status, from, to, version, format, out, db string
		teams                                                 []string
		minCell                                               int
		agreement, excel, family, moments                     bool
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Count practice markers across sessions: rates per hour by team, worker, meeting type, month and code",
		Long: `report counts the practice markers in the index's ready sessions and prints
counts and rates per hour of recording, with the median and quartiles of the
sessions' own rates, grouped as --by says; or, with --agreement, how coaches
judged the machine's tags per code and codebook version (precision, missed
tags, Cohen's kappa); or, with --family, the family lens (the meetings from the
parent's side) by team, worker, meeting type and month, and with --moments how
coaches answered each kind of suggested moment. docs/reports.md says what
every number means.

  hark report --by team,month --codes threat_of_escalation,reflective_listening
  hark report --by worker --status confirmed --from 2026-01 --to 2026-06 --format csv --out workers.csv
  hark report --agreement --format csv
  hark report --family --by team,month --format csv
  hark report --moments --team north

Rows of fewer sessions than --min-cell are suppressed (worker rows left out),
as on the reports page. CSV is RFC 4180, UTF-8, one header row, long format;
--excel adds the byte order mark Excel needs for non-ASCII text.`,
		Example: `  hark report --by team,month --codes threat_of_escalation,reflective_listening --status confirmed`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			f, err := report.ParseFormat(format)
			if err != nil {
				return err
			}
			q := report.Query{Codes: reportList(codes), Status: report.TagStatus(status), From: from, To: to,
				CodebookVersion: version, MinCell: minCell}
			for _, d := range reportList(by) {
				q.By = append(q.By, report.Dimension(d))
			}
			if len(teams) > 0 {
				q.Teams = reportList(strings.Join(teams, ","))
			}
			if minCell == 0 {
				return hark.Errorf(hark.EINVALID, "--min-cell must be at least 1 (1 turns suppression off)")
			}
			if q, err = q.Normalize(); err != nil {
				return err
			}
			idx, err := openIndex(ctx, g, db)
			if err != nil {
				return err
			}
			defer idx.Close()

			var w io.Writer = g.stdout
			var file *os.File
			if out != "" && out != "-" {
				if file, err = os.Create(out); err != nil {
					return hark.WrapError(hark.EINVALID, err, "write report to %s", out)
				}
				defer file.Close() // on errors; closed and checked below otherwise
				w = file
			}
			// Both reports write themselves as CSV, JSON or a table.
			var res interface {
				WriteCSV(io.Writer, report.CSVOptions) error
				WriteTable(io.Writer) error
			}
			if agreement && (family || moments) || family && moments {
				return hark.Errorf(hark.EINVALID, "choose one of --agreement, --family and --moments")
			}
			what := "report"
			switch {
			case agreement:
				what = "agreement"
				a, err := report.RunAgreement(ctx, idx, q)
				if err != nil {
					return err
				}
				res = a
			case family || moments:
				what = "family lens"
				fam, err := report.RunFamily(ctx, idx, q)
				if err != nil {
					return err
				}
				res = fam
				if moments {
					what = "suggested moments"
					res = cuesOnly{fam}
				}
			default:
				r, err := report.Run(ctx, idx, q)
				if err != nil {
					return err
				}
				res = r
			}
			var werr error
			switch f {
			case report.FormatCSV:
				werr = res.WriteCSV(w, report.CSVOptions{Excel: excel})
			case report.FormatJSON:
				werr = report.WriteJSON(w, res)
			default:
				werr = res.WriteTable(w)
			}
			if werr != nil {
				return hark.WrapError(hark.EINVALID, werr, "write report")
			}
			// Exports are audited here as on the reports page.
			who := "cli"
			if u, err := user.Current(); err == nil {
				who = "cli:" + u.Username
			}
			detail := what + " " + string(f) + ": " + q.Values().Encode()
			if err := idx.Audit(ctx, &hark.AuditEntry{At: time.Now(), User: who, Action: "export", Detail: detail}); err != nil {
				fmt.Fprintln(g.stderr, "hark: warning: the export was not written to the audit log:", hark.ErrorMessage(err))
			}
			if file != nil {
				if err := file.Close(); err != nil {
					return hark.WrapError(hark.EINVALID, err, "write report to %s", out)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&by, "by", "", "group by these, in order: team, worker, meeting_type, month, code (comma-separated)")
	fl.StringVar(&codes, "codes", "", "count these codes (comma-separated; default: every code)")
	fl.StringVar(&status, "status", string(report.MachineUnrejected), "which tags count: confirmed, machine or machine-unrejected")
	fl.StringVar(&from, "from", "", "only meetings recorded on or after this date (YYYY-MM-DD or YYYY-MM)")
	fl.StringVar(&to, "to", "", "only meetings recorded on or before this date (YYYY-MM-DD or YYYY-MM)")
	fl.StringVar(&version, "codebook-version", "", "only sessions annotated with this codebook version")
	fl.StringSliceVar(&teams, "team", nil, "only these teams (repeat or comma-separate)")
	fl.IntVar(&minCell, "min-cell", report.DefaultMinCell, "suppress rows of fewer sessions than this (1: no suppression)")
	fl.StringVar(&format, "format", "table", "output: table, csv or json")
	fl.BoolVar(&agreement, "agreement", false, "report agreement between machine and coaches per code and codebook version instead")
	fl.BoolVar(&family, "family", false, "report the family lens (the meetings from the parent's side) by --by's dimensions instead")
	fl.BoolVar(&moments, "moments", false, "report how coaches answered each kind of suggested moment instead")
	fl.BoolVar(&excel, "excel", false, "CSV for Excel: a UTF-8 byte order mark, formulas defused")
	fl.StringVarP(&out, "out", "o", "", "write to this file instead of standard output")
	fl.StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	return cmd
}

// reportList splits a comma-separated flag value, dropping empty parts.
func reportList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// cuesOnly writes a family-lens report's answers per cue alone, with the
// number of reviewed sessions they are over, for hark report --moments.
type cuesOnly struct{ *report.Family }

func (c cuesOnly) WriteCSV(w io.Writer, opt report.CSVOptions) error { return c.WriteCuesCSV(w, opt) }

func (c cuesOnly) WriteTable(w io.Writer) error { return c.WriteCuesTable(w) }

func (c cuesOnly) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Query    report.Query `json:"query"`
		Reviewed int          `json:"reviewed_sessions"`
		Cues     any          `json:"cues"`
	}{c.Query, c.Reviewed, c.Family.CuesJSON()})
}
