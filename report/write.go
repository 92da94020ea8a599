package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/harkworks/hark"
)

// Format is how a report is written.
type Format string

// The formats.
const (
	FormatTable Format = "table"
	FormatCSV   Format = "csv"
	FormatJSON  Format = "json"
)

// ParseFormat returns the format named s ("" is a table).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "":
		return FormatTable, nil
	case FormatTable, FormatCSV, FormatJSON:
		return f, nil
	}
	return "", hark.Errorf(hark.EINVALID, "unknown format %q: use table, csv or json", s)
}

// CSVOptions tune a CSV file.
type CSVOptions struct {
	// Excel writes the file for opening in Microsoft Excel by double-click:
	// a UTF-8 byte order mark first, so that Excel reads non-ASCII text as
	// UTF-8, and text that Excel would take for a formula (starting with =,
	// +, -, @, tab or carriage return) prefixed with an apostrophe. Leave
	// it off for R, Stata, SPSS and Python, which read plain UTF-8 and would
	// take the mark for part of the first column's name.
	Excel bool
}

// cell is one value of a table.
type tcell struct {
	s       string
	numeric bool
	// missing values are written empty in CSV (R and Stata read an empty
	// numeric field as missing) and as "suppressed" or "-" in text.
	missing, suppressed bool
	// all marks a total's dimension: empty in CSV, "(all)" in text.
	all bool
}

// grid is a report as a table with one header row: what CSV and text
// output are written from.
type grid struct {
	header []string
	rows   [][]tcell
	// csvOnly are the columns text output leaves out: flags that the
	// text shows in its own way.
	csvOnly map[int]bool
}

func text(s string) tcell { return tcell{s: s} }

func num(n int) tcell { return tcell{s: strconv.Itoa(n), numeric: true} }

func flag(b bool) tcell {
	if b {
		return tcell{s: "1", numeric: true}
	}
	return tcell{s: "0", numeric: true}
}

// dec is a float rounded to places decimals, without trailing zeros.
func dec(f float64, places int) tcell {
	s := strconv.FormatFloat(f, 'f', places, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return tcell{s: s, numeric: true}
}

func optDec(f *float64, places int) tcell {
	if f == nil {
		return tcell{numeric: true, missing: true}
	}
	return dec(*f, places)
}

var withheld = tcell{numeric: true, missing: true, suppressed: true}

// grid lays the result out in long format: the dimensions, then the
// numbers, then flags; totals last, with empty dimensions and total = 1.
func (r *Result) grid() *grid {
	g := &grid{}
	for _, d := range r.Query.By {
		g.header = append(g.header, string(d))
	}
	g.header = append(g.header, "sessions", "hours", "tags", "rate_per_hour", "median_rate", "q1_rate", "q3_rate",
		"suppressed", "total", "tag_status")
	n := len(g.header)
	g.csvOnly = map[int]bool{n - 3: true, n - 2: true, n - 1: true}
	add := func(row Row, total bool) {
		var cells []tcell
		for i, d := range r.Query.By {
			if total && d != Code {
				cells = append(cells, tcell{all: true})
				continue
			}
			cells = append(cells, text(row.Key[i]))
		}
		if row.Suppressed {
			cells = append(cells, withheld, withheld, withheld, withheld, withheld, withheld, withheld)
		} else {
			cells = append(cells, num(row.Sessions), dec(row.Hours, 3), num(row.Tags), dec(row.Rate, 4),
				dec(row.Median, 4), dec(row.Q1, 4), dec(row.Q3, 4))
		}
		cells = append(cells, flag(row.Suppressed), flag(total), text(string(r.Query.Status)))
		g.rows = append(g.rows, cells)
	}
	for _, row := range r.Rows {
		add(row, false)
	}
	for _, row := range r.Totals {
		add(row, true)
	}
	return g
}

func (a *Agreement) grid() *grid {
	g := &grid{header: []string{"codebook_version", "code", "reviewed_sessions", "machine_tags", "accepted", "rejected",
		"changed", "pending", "precision", "added", "changed_to", "missed", "complete_sessions", "segments", "both",
		"machine_only", "coach_only", "neither", "observed_agreement", "kappa", "suppressed", "kappa_suppressed",
		"coder_sessions", "coder_kappa", "coder_alpha"},
		csvOnly: map[int]bool{20: true, 21: true}}
	for _, r := range a.Rows {
		cells := []tcell{text(r.CodebookVersion), text(r.Code)}
		if r.Suppressed {
			for range 10 {
				cells = append(cells, withheld)
			}
		} else {
			cells = append(cells, num(r.Reviewed), num(r.Accepted+r.Rejected+r.Changed+r.Pending), num(r.Accepted),
				num(r.Rejected), num(r.Changed), num(r.Pending), optDec(r.Precision, 4), num(r.Added), num(r.ChangedTo),
				num(r.Missed))
		}
		if r.KappaSuppressed {
			for range 8 {
				cells = append(cells, withheld)
			}
		} else {
			cells = append(cells, num(r.Complete), num(r.Segments), num(r.Both), num(r.MachineOnly), num(r.CoachOnly),
				num(r.Neither), optDec(r.Observed, 4), optDec(r.Kappa, 4))
		}
		cells = append(cells, flag(r.Suppressed), flag(r.KappaSuppressed))
		switch c := r.Coders; {
		case c == nil:
			cells = append(cells, text(""), text(""), text(""))
		case c.Suppressed || c.Segments == nil:
			cells = append(cells, withheld, withheld, withheld)
		default:
			cells = append(cells, num(c.Sessions), optDec(c.Segments.Kappa.Value, 4), optDec(c.Segments.Alpha.Value, 4))
		}
		g.rows = append(g.rows, cells)
	}
	return g
}

// WriteCSV writes the result as CSV: RFC 4180 (quoted where needed, CRLF
// line ends), UTF-8, one header row, one row per cell in long format, then
// the totals. Suppressed numbers are empty fields, with suppressed = 1.
func (r *Result) WriteCSV(w io.Writer, opt CSVOptions) error { return r.grid().writeCSV(w, opt) }

// WriteCSV writes the agreement report as CSV, as Result.WriteCSV does.
func (a *Agreement) WriteCSV(w io.Writer, opt CSVOptions) error { return a.grid().writeCSV(w, opt) }

// WriteTable writes the result as an aligned text table for a terminal.
func (r *Result) WriteTable(w io.Writer) error {
	if err := r.grid().writeText(w); err != nil {
		return err
	}
	return r.writeNotes(w)
}

// WriteTable writes the agreement report as an aligned text table.
func (a *Agreement) WriteTable(w io.Writer) error {
	if err := a.grid().writeText(w); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nPrecision and missed tags are over reviewed sessions; kappa over the segments of completely reviewed sessions.\n"+
		"Rows of fewer than %d reviewed (kappa: completely reviewed) sessions are suppressed.\n", a.Query.MinCell)
	return err
}

func (r *Result) writeNotes(w io.Writer) error {
	var notes []string
	notes = append(notes, fmt.Sprintf("Tags: %s. Rates are tags per hour of recording; median and quartiles are of the sessions' own rates.", StatusText(r.Query.Status)))
	notes = append(notes, fmt.Sprintf("Cells of fewer than %d sessions are suppressed.", r.Query.MinCell))
	if r.Hidden > 0 {
		notes = append(notes, fmt.Sprintf("%d worker row(s) below the threshold are left out.", r.Hidden))
	}
	_, err := fmt.Fprintf(w, "\n%s\n", strings.Join(notes, "\n"))
	return err
}

// StatusText says in words which tags a status counts, for notes and
// pages.
func StatusText(s TagStatus) string {
	switch s {
	case Confirmed:
		return "coach-confirmed (accepted or added by a coach), completely reviewed sessions only"
	case Machine:
		return "every machine tag, under the machine's code"
	default:
		return "machine tags no coach rejected"
	}
}

func (g *grid) writeCSV(w io.Writer, opt CSVOptions) error {
	if opt.Excel {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	rec := make([]string, len(g.header))
	copy(rec, g.header)
	if err := cw.Write(rec); err != nil {
		return err
	}
	for _, row := range g.rows {
		for i, c := range row {
			s := c.s
			if c.missing || c.all {
				s = ""
			} else if opt.Excel && !c.numeric && s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
				s = "'" + s
			}
			rec[i] = s
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (g *grid) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	line := func(cells []string) {
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	var head []string
	for i, h := range g.header {
		if !g.csvOnly[i] {
			head = append(head, h)
		}
	}
	line(head)
	for _, row := range g.rows {
		cells := make([]string, 0, len(row))
		for i, c := range row {
			if g.csvOnly[i] {
				continue
			}
			switch {
			case c.all:
				cells = append(cells, "(all)")
			case c.suppressed:
				cells = append(cells, "suppr.")
			case c.missing:
				cells = append(cells, "-")
			case c.s == "" && !c.numeric:
				cells = append(cells, "(unknown)")
			default:
				cells = append(cells, strings.Map(printable, c.s))
			}
		}
		line(cells)
	}
	return tw.Flush()
}

// printable keeps control characters in names out of a terminal.
func printable(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return '?'
	}
	return r
}

// WriteJSON writes v (a *Result or *Agreement) as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
