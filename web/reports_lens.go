package web

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

// The family lens across sessions on the reports page and at
// GET /api/reports/family (format=csv for CSV; part=cues for the answers
// to the suggested moments per cue): docs/reports.md.

// familyQuery is q as the family lens takes it: grouped by q's dimensions
// but the code.
func familyQuery(q report.Query) report.Query {
	q.By = slices.DeleteFunc(slices.Clone(q.By), func(d report.Dimension) bool { return d == report.Code })
	return q
}

// runFamily runs the family-lens report for q, if the server's index
// answers it.
func (rp *Reports) runFamily(ctx context.Context, q report.Query) (*report.Family, error) {
	src, ok := rp.cfg.Source.(report.FamilySource)
	if !ok {
		return nil, hark.Errorf(hark.EUNAVAILABLE, "this server's index keeps no family lens")
	}
	return report.RunFamily(ctx, src, familyQuery(q))
}

// handleFamily answers the family lens across the user's teams: JSON, or
// CSV with format=csv (the groups; part=cues the answers per cue;
// excel=1 for Excel).
func (rp *Reports) handleFamily(w http.ResponseWriter, r *http.Request) {
	u, all, err := rp.user(r)
	if err != nil {
		rp.apiError(w, r, err)
		return
	}
	q, err := rp.query(r, u, all)
	if err != nil {
		rp.apiError(w, r, err)
		return
	}
	fam, err := rp.runFamily(r.Context(), q)
	if err != nil {
		rp.apiError(w, r, err)
		return
	}
	v := r.URL.Query()
	format, part := v.Get("format"), v.Get("part")
	if format != "" && format != "json" && format != "csv" {
		rp.apiError(w, r, hark.Errorf(hark.EINVALID, "format=%q: use json (the default) or csv", format))
		return
	}
	if part != "" && part != "cues" {
		rp.apiError(w, r, hark.Errorf(hark.EINVALID, "part=%q: leave it out for the family lens by group, or part=cues for the answers to suggested moments", part))
		return
	}
	what := "json"
	if format == "csv" {
		what = "csv"
	}
	if part != "" {
		what += " " + part
	}
	rp.audit(r, u, "export", "family lens "+what+": "+familyQuery(q).Values().Encode())
	if format != "csv" {
		writeJSON(w, http.StatusOK, fam)
		return
	}
	opt := report.CSVOptions{Excel: reportsFlag(v, "excel")}
	name := "hark-family-lens"
	if part == "cues" {
		name = "hark-suggested-moments"
	}
	name += "-" + rp.cfg.Now().UTC().Format("2006-01-02")
	if opt.Excel {
		name += "-excel"
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	write := fam.WriteCSV
	if part == "cues" {
		write = fam.WriteCuesCSV
	}
	if err := write(w, opt); err != nil {
		rp.cfg.Logger.Warn("write family lens csv", "err", err)
	}
}

// familyView is the family lens's section of the reports page.
type familyView struct {
	Header    []string
	Rows      []reportsRow
	CueHeader []string
	CueRows   []reportsRow
	Charts    []reportsChart
	Notes     []string
	Links     map[string]string
}

// pct says a share as a percentage, "–" when there is none.
func pct(x *float64) string {
	if x == nil {
		return "–"
	}
	return strconv.FormatFloat(100**x, 'f', 0, 64) + "%"
}

// familySection lays the report out for the page.
func (rp *Reports) familySection(f *report.Family, link func(path string, extra ...string) string) *familyView {
	names := map[report.Dimension]string{report.Team: "Team", report.Worker: "Worker", report.MeetingType: "Meeting type", report.Month: "Month"}
	v := &familyView{}
	for _, d := range f.Query.By {
		v.Header = append(v.Header, names[d])
	}
	v.Header = append(v.Header, "Sessions", "Parent's talk", "Parent's turns", "Cut off", "Questions answered",
		"Rights explained", "Next steps explained", "Explained before a decision", "Permission before advice", "Fears met")
	row := func(r *report.FamilyRow, total bool) reportsRow {
		var cells []string
		for i := range f.Query.By {
			switch {
			case total:
				cells = append(cells, "All")
			case r.Key[i] == "":
				cells = append(cells, "(unknown)")
			default:
				cells = append(cells, r.Key[i])
			}
		}
		if r.Suppressed {
			cells = append(cells, "suppressed")
			for range 9 {
				cells = append(cells, "")
			}
		} else {
			cells = append(cells, strconv.Itoa(r.Sessions), pct(r.ParentTalkShare), pct(r.ParentTurnShare), pct(r.InterruptedShare),
				pct(r.QuestionsAnsweredShare), pct(r.RightsExplainedShare), pct(r.NextStepsExplainedShare), pct(r.ExplainedFirstShare),
				pct(r.PermissionFirstShare), pct(r.FearsMetShare))
		}
		if len(f.Query.By) == 0 {
			cells = append([]string{"All"}, cells...)
		}
		return reportsRow{Cells: cells, Total: total, Suppressed: r.Suppressed}
	}
	if len(f.Query.By) == 0 {
		v.Header = append([]string{""}, v.Header...)
	}
	var bars []shareBar
	for i := range f.Rows {
		if len(f.Query.By) == 0 {
			break // the total says it all
		}
		v.Rows = append(v.Rows, row(&f.Rows[i], false))
		if r := &f.Rows[i]; !r.Suppressed && r.ParentTalkShare != nil {
			label := strings.Join(r.Key, " · ")
			if label == "" {
				label = "(unknown)"
			}
			bars = append(bars, shareBar{label, *r.ParentTalkShare})
		}
	}
	v.Rows = append(v.Rows, row(&f.Total, true))
	if !f.Total.Suppressed && f.Total.ParentTalkShare != nil {
		bars = append(bars, shareBar{"All", *f.Total.ParentTalkShare})
	}
	if len(bars) > 0 {
		v.Charts = append(v.Charts, reportsChart{Title: "The parent's share of the talk time, the mean over sessions", SVG: shareChart("family-talk", bars)})
	}
	v.CueHeader = []string{"Suggested moment", "Kind", "Reviewed sessions", "Suggested", "Answered", "Accepted", "Dismissed", "Accepted of answered", "Answered of suggested"}
	bars = nil
	for _, c := range f.Cues {
		kind := "to reflect on"
		if c.Kind == hark.MomentStrength {
			kind = "strength"
		}
		cells := []string{strings.ReplaceAll(c.Cue, "_", " "), kind}
		if c.Suppressed {
			cells = append(cells, "suppressed", "", "", "", "", "", "")
		} else {
			cells = append(cells, strconv.Itoa(c.Sessions), strconv.Itoa(c.Suggested), strconv.Itoa(c.Answered), strconv.Itoa(c.Accepted),
				strconv.Itoa(c.Dismissed), pct(c.AcceptedShare), pct(c.AnsweredShare))
			if c.AcceptedShare != nil {
				bars = append(bars, shareBar{strings.ReplaceAll(c.Cue, "_", " "), *c.AcceptedShare})
			}
		}
		v.CueRows = append(v.CueRows, reportsRow{Cells: cells, Suppressed: c.Suppressed})
	}
	if len(bars) > 0 {
		v.Charts = append(v.Charts, reportsChart{Title: "Suggested moments coaches accepted, of those they answered, per cue", SVG: shareChart("family-cues", bars)})
	}
	v.Notes = []string{
		"As the machine measured each session (docs/moments.md). Talk and turn shares are means over sessions; cut off, questions answered and fears met are over all the parent's turns, questions and fears; the rest over sessions (explained before a decision: of those with a threat or a direction; permission before advice: of those with a direction).",
		fmt.Sprintf("Rows of fewer than %d sessions are suppressed, and so is one more row where the total would give a suppressed one away.", f.Query.MinCell),
		fmt.Sprintf("Suggested moments: over the %d session(s) here a coach has reviewed; a kind of moment in fewer than %d of them is suppressed.", f.Reviewed, f.Query.MinCell),
	}
	if f.Hidden > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("%d row(s) of workers with fewer than %d sessions are left out.", f.Hidden, f.Query.MinCell))
	}
	if f.Unmeasured > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("%d session(s) were tagged before hark measured the family lens; an admin can run hark reannotate.", f.Unmeasured))
	}
	v.Links = map[string]string{
		"csv": link("/api/reports/family", "format", "csv"), "excel": link("/api/reports/family", "format", "csv", "excel", "1"),
		"json": link("/api/reports/family"), "cuesCSV": link("/api/reports/family", "format", "csv", "part", "cues"),
	}
	return v
}

// shareBar is one bar of a chart of shares.
type shareBar struct {
	Label string
	Share float64 // 0 to 1
}

// shareChart draws horizontal bars of shares from 0 to 100 %, with their
// labels and values; every text is escaped.
func shareChart(id string, bars []shareBar) template.HTML {
	const labelW, barW, rowH = 220, 360, 22
	h := rowH*len(bars) + 24
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="%s" class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" aria-label="bar chart, 0 to 100%%">`,
		id, labelW+barW+60, h, labelW+barW+60, h)
	for _, x := range []int{0, 50, 100} {
		px := labelW + barW*x/100
		fmt.Fprintf(&b, `<line x1="%d" y1="0" x2="%d" y2="%d" stroke="#c8ced3" stroke-width="1"/><text x="%d" y="%d" font-size="11" text-anchor="middle" fill="#5b6770">%d%%</text>`,
			px, px, h-16, px, h-4, x)
	}
	for i, bar := range bars {
		y := i * rowH
		w := int(barW*min(max(bar.Share, 0), 1) + 0.5)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end" fill="#20313b">%s</text>`, labelW-8, y+15, html.EscapeString(bar.Label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="14" fill="#2f6f8f"><title>%s: %s</title></rect>`, labelW, y+4, w,
			html.EscapeString(bar.Label), pct(&bar.Share))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#20313b">%s</text>`, labelW+w+6, y+15, pct(&bar.Share))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built here, every text escaped
}
