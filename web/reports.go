package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

//go:embed templates/layout.html templates/reports.html
var reportsTemplateFS embed.FS

// ReportsConfig configures the analysts' reports.
type ReportsConfig struct {
	// Source answers the reports: the index. Required.
	Source report.Source
	// Codebook, when set, gives codes their labels and the page its list of
	// codes to choose from.
	Codebook *hark.Codebook
	// User returns the signed-in user: nil and no error when nobody is
	// signed in (the page then sends them to /signin, the API answers
	// 401). A nil User lets everyone see every team's aggregates: for
	// tests.
	User func(r *http.Request) (*hark.User, error)
	// CSRF returns the session's token for the layout's sign-out form.
	CSRF func(r *http.Request) string
	// Audit, when set, records every view and export of a report.
	Audit func(ctx context.Context, e hark.AuditEntry)
	// MinCell is the smallest suppression threshold anyone can ask for
	// (default report.DefaultMinCell): a request may raise it, never lower
	// it.
	MinCell int
	Logger  *slog.Logger
	// Now returns the time; tests may stub it.
	Now func() time.Time
}

// Reports serves the reports page, its JSON API and its CSV download.
// Everything it shows is an aggregate: counts, rates and agreement, never a
// transcript, a recording or a worker below the suppression threshold.
type Reports struct {
	cfg   ReportsConfig
	tmpl  *template.Template
	codes map[string]hark.Code
}

// NewReports parses the page's template and returns the reports, ready to
// mount with Routes.
func NewReports(cfg ReportsConfig) (*Reports, error) {
	if cfg.Source == nil {
		return nil, errors.New("reports: a Source is required")
	}
	if cfg.MinCell <= 0 {
		cfg.MinCell = report.DefaultMinCell
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	rp := &Reports{cfg: cfg, codes: map[string]hark.Code{}}
	if cfg.Codebook != nil {
		for _, c := range cfg.Codebook.Codes {
			rp.codes[c.ID] = c
		}
	}
	t, err := template.New("reports.html").Funcs(template.FuncMap{"label": rp.label}).
		ParseFS(reportsTemplateFS, "templates/layout.html", "templates/reports.html")
	if err != nil {
		return nil, fmt.Errorf("parse template reports.html: %w", err)
	}
	if t.Lookup("layout") == nil || t.Lookup("content") == nil {
		return nil, errors.New("reports: the templates define no layout or content")
	}
	rp.tmpl = t
	return rp, nil
}

// Routes registers the reports on mux:
//
//	GET /reports       the page: a form, charts and tables
//	GET /api/reports   the report as JSON (agreement=1: the agreement report)
//	GET /reports.csv   the report as CSV (agreement=1: the agreement report;
//	                   excel=1: for double-clicking in Excel)
//
// All take the parameters of `hark report`: by, codes, status, from, to,
// codebook-version, min-cell, and team (repeated or comma-separated).
func (rp *Reports) Routes(mux *http.ServeMux) {
	for _, rt := range rp.routes() {
		mux.Handle(rt.pattern, rt.handler)
	}
}

// routes are the reports' routes, walked by the cross-team test like the
// server's own.
func (rp *Reports) routes() []route {
	return []route{
		{"GET /reports", http.HandlerFunc(rp.handlePage)},
		{"GET /api/reports", http.HandlerFunc(rp.handleAPI)},
		{"GET /reports.csv", http.HandlerFunc(rp.handleCSV)},
		{"GET /api/reports/coders", http.HandlerFunc(rp.handleCoders)},
		{"GET /api/reports/family", http.HandlerFunc(rp.handleFamily)},
	}
}

func (rp *Reports) label(code string) string {
	if c, ok := rp.codes[code]; ok && c.Label != "" {
		return c.Label
	}
	return strings.ReplaceAll(code, "_", " ")
}

// errReportsSignIn is returned by user when nobody is signed in.
var errReportsSignIn = errors.New("sign in first")

// user returns the signed-in user and whether they may see every team.
func (rp *Reports) user(r *http.Request) (*hark.User, bool, error) {
	if rp.cfg.User == nil {
		return nil, true, nil
	}
	u, err := rp.cfg.User(r)
	if err != nil {
		return nil, false, err
	}
	if u == nil {
		return nil, false, errReportsSignIn
	}
	if u.Disabled {
		return nil, false, hark.Errorf(hark.EINVALID, "this account is disabled")
	}
	switch u.Role {
	case hark.RoleAdmin, hark.RoleAnalyst:
		return u, true, nil
	case hark.RoleCoach, hark.RoleResearcher:
		return u, false, nil
	}
	return nil, false, hark.Errorf(hark.ENOTFOUND, "reports are for analysts, researchers, coaches and admins")
}

// query reads the report's query from the request, with the user's team
// restriction and the server's suppression floor applied.
func (rp *Reports) query(r *http.Request, u *hark.User, all bool) (report.Query, error) {
	v := r.URL.Query()
	asked := strings.TrimSpace(v.Get("min-cell")) != ""
	q, err := report.ParseQuery(v)
	if err != nil {
		return q, err
	}
	if !asked || q.MinCell < rp.cfg.MinCell {
		q.MinCell = rp.cfg.MinCell
	}
	if !all {
		mine := []string{}
		if u != nil {
			mine = append(mine, u.Teams...) // never nil: no teams is none, not all
		}
		if q.Teams == nil {
			q.Teams = slices.Clone(mine)
		} else {
			var keep []string
			for _, t := range q.Teams {
				if slices.Contains(mine, t) {
					keep = append(keep, t)
				}
			}
			if keep == nil {
				keep = []string{}
			}
			q.Teams = keep
		}
		slices.Sort(q.Teams)
	}
	return q, nil
}

// reportsFlag reads a yes/no parameter: 1, true, yes or on.
func reportsFlag(v url.Values, key string) bool {
	switch strings.ToLower(v.Get(key)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func (rp *Reports) audit(r *http.Request, u *hark.User, action, detail string) {
	if rp.cfg.Audit == nil {
		return
	}
	name := ""
	if u != nil {
		name = u.Name
	}
	rp.cfg.Audit(r.Context(), hark.AuditEntry{At: rp.cfg.Now(), User: name, Action: action, Detail: detail})
}

// status maps an error to an HTTP status and a message for the user;
// internal errors are logged and not shown.
func (rp *Reports) status(r *http.Request, err error) (int, string) {
	if errors.Is(err, errReportsSignIn) {
		return http.StatusUnauthorized, "sign in first"
	}
	st := map[string]int{
		hark.EINVALID:     http.StatusBadRequest,
		hark.ENOTFOUND:    http.StatusNotFound,
		hark.ECONFLICT:    http.StatusConflict,
		hark.EUNAVAILABLE: http.StatusServiceUnavailable,
	}[hark.ErrorCode(err)]
	if st == 0 {
		st = http.StatusInternalServerError
	}
	msg := hark.ErrorMessage(err)
	if st >= 500 {
		rp.cfg.Logger.Error("report failed", "path", r.URL.Path, "err", err)
		msg = "the server could not answer; the error was logged"
	}
	return st, msg
}

func (rp *Reports) apiError(w http.ResponseWriter, r *http.Request, err error) {
	st, msg := rp.status(r, err)
	code := hark.ErrorCode(err)
	if st == http.StatusUnauthorized {
		code = "unauthorized"
	}
	writeJSON(w, st, map[string]string{"error": code, "message": msg})
}

// run answers the counts or the agreement report of the request.
func (rp *Reports) run(r *http.Request) (u *hark.User, q report.Query, res any, err error) {
	u, all, err := rp.user(r)
	if err != nil {
		return nil, q, nil, err
	}
	if q, err = rp.query(r, u, all); err != nil {
		return u, q, nil, err
	}
	if reportsFlag(r.URL.Query(), "agreement") {
		res, err = report.RunAgreement(r.Context(), rp.cfg.Source, q)
	} else {
		res, err = report.Run(r.Context(), rp.cfg.Source, q)
	}
	return u, q, res, err
}

func (rp *Reports) handleAPI(w http.ResponseWriter, r *http.Request) {
	u, q, res, err := rp.run(r)
	if err != nil {
		rp.apiError(w, r, err)
		return
	}
	rp.audit(r, u, "export", "report json: "+q.Values().Encode())
	writeJSON(w, http.StatusOK, res)
}

func (rp *Reports) handleCSV(w http.ResponseWriter, r *http.Request) {
	u, q, res, err := rp.run(r)
	if err != nil {
		rp.apiError(w, r, err)
		return
	}
	opt := report.CSVOptions{Excel: reportsFlag(r.URL.Query(), "excel")}
	name := "hark-report"
	if _, ok := res.(*report.Agreement); ok {
		name = "hark-agreement"
	}
	name += "-" + string(q.Status) + "-" + rp.cfg.Now().UTC().Format("2006-01-02")
	if opt.Excel {
		name += "-excel"
	}
	rp.audit(r, u, "export", "report csv: "+q.Values().Encode())
	w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	var werr error
	switch x := res.(type) {
	case *report.Result:
		werr = x.WriteCSV(w, opt)
	case *report.Agreement:
		werr = x.WriteCSV(w, opt)
	}
	if werr != nil {
		rp.cfg.Logger.Warn("write report csv", "err", werr)
	}
}

// reportsPage is what reports.html reads in .Data.
type reportsPage struct {
	Query       report.Query
	Error       string
	Form        reportsForm
	Notes       []string
	Charts      []reportsChart
	Header      []string
	Rows        []reportsRow
	AgreeHeader []string
	AgreeRows   []reportsRow
	Links       map[string]string
	MinCell     int
	// Family is the family lens's section; nil when the index keeps none.
	Family *familyView
}

type reportsForm struct {
	Dimensions []reportsOption
	Codes      []reportsOption
	Statuses   []reportsOption
	From, To   string
	Version    string
	Teams      string
	MinCell    int
	MinFloor   int
}

type reportsOption struct {
	Value, Label string
	Checked      bool
}

type reportsChart struct {
	Title string
	SVG   template.HTML
}

type reportsRow struct {
	Cells      []string
	Total      bool
	Suppressed bool
}

func (rp *Reports) handlePage(w http.ResponseWriter, r *http.Request) {
	u, all, err := rp.user(r)
	if errors.Is(err, errReportsSignIn) {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if err != nil {
		st, msg := rp.status(r, err)
		rp.render(w, r, u, st, &reportsPage{Error: msg})
		return
	}
	v := r.URL.Query()
	if len(v["by"]) == 0 {
		v.Set("by", "code") // the page opens on every code's rate
		r.URL.RawQuery = v.Encode()
	}
	page := &reportsPage{MinCell: rp.cfg.MinCell}
	q, err := rp.query(r, u, all)
	page.Query = q
	page.Form = rp.form(q, v)
	var res *report.Result
	if err == nil {
		res, err = report.Run(r.Context(), rp.cfg.Source, q)
	}
	var agreement *report.Agreement
	if err == nil {
		agreement, err = report.RunAgreement(r.Context(), rp.cfg.Source, q)
	}
	if err != nil {
		st, msg := rp.status(r, err)
		page.Error = msg
		rp.render(w, r, u, st, page)
		return
	}
	rp.audit(r, u, "view", "report page: "+q.Values().Encode())

	page.Notes = append(page.Notes, "Tags counted: "+report.StatusText(q.Status)+".",
		"Rates are tags per hour of recording: the tags of the sessions in a row divided by their recorded hours. "+
			"Median and quartiles are of the sessions' own rates.",
		fmt.Sprintf("Rows of fewer than %d sessions are suppressed, and so is one more row where a total would give a suppressed one away.", q.MinCell))
	if res.Hidden > 0 {
		page.Notes = append(page.Notes, fmt.Sprintf("%d row(s) of workers with fewer than %d sessions are left out.", res.Hidden, q.MinCell))
	}
	for _, c := range res.Charts(report.ChartOptions{Label: rp.label, IDPrefix: "rate"}) {
		page.Charts = append(page.Charts, reportsChart{Title: c.Title, SVG: template.HTML(c.SVG)}) // the SVG escapes its text
	}
	page.Header, page.Rows = rp.table(res)
	page.AgreeHeader, page.AgreeRows = rp.agreementTable(agreement)
	base := q.Values()
	link := func(path string, extra ...string) string {
		x := url.Values{}
		for k, vs := range base {
			x[k] = vs
		}
		for i := 0; i+1 < len(extra); i += 2 {
			x.Set(extra[i], extra[i+1])
		}
		return path + "?" + x.Encode()
	}
	page.Links = map[string]string{
		"csv": link("/reports.csv"), "excel": link("/reports.csv", "excel", "1"), "json": link("/api/reports"),
		"agreementCSV": link("/reports.csv", "agreement", "1"), "agreementExcel": link("/reports.csv", "agreement", "1", "excel", "1"),
		"agreementJSON": link("/api/reports", "agreement", "1"),
	}
	if _, ok := rp.cfg.Source.(report.FamilySource); ok {
		fam, err := rp.runFamily(r.Context(), q)
		if err != nil {
			st, msg := rp.status(r, err)
			page.Error = msg
			rp.render(w, r, u, st, page)
			return
		}
		page.Family = rp.familySection(fam, link)
	}
	rp.render(w, r, u, http.StatusOK, page)
}

// form fills the page's form from the query.
func (rp *Reports) form(q report.Query, v url.Values) reportsForm {
	f := reportsForm{From: q.From, To: q.To, Version: q.CodebookVersion, MinCell: q.MinCell, MinFloor: rp.cfg.MinCell,
		Teams: strings.Join(v["team"], ",")}
	names := map[report.Dimension]string{report.Team: "Team", report.Worker: "Worker", report.MeetingType: "Meeting type",
		report.Month: "Month", report.Code: "Code"}
	for _, d := range report.Dimensions {
		f.Dimensions = append(f.Dimensions, reportsOption{Value: string(d), Label: names[d], Checked: q.Has(d)})
	}
	var codes []string
	if rp.cfg.Codebook != nil {
		for _, c := range rp.cfg.Codebook.Codes {
			codes = append(codes, c.ID)
		}
	}
	for _, c := range q.Codes {
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	for _, c := range codes {
		f.Codes = append(f.Codes, reportsOption{Value: c, Label: rp.label(c), Checked: slices.Contains(q.Codes, c)})
	}
	for _, s := range report.TagStatuses {
		f.Statuses = append(f.Statuses, reportsOption{Value: string(s), Label: report.StatusText(s), Checked: q.Status == s})
	}
	return f
}

// table lays the result out for the page: suppressed numbers as
// "suppressed", never as a number.
func (rp *Reports) table(res *report.Result) ([]string, []reportsRow) {
	names := map[report.Dimension]string{report.Team: "Team", report.Worker: "Worker", report.MeetingType: "Meeting type",
		report.Month: "Month", report.Code: "Code"}
	var header []string
	for _, d := range res.Query.By {
		header = append(header, names[d])
	}
	header = append(header, "Sessions", "Hours", "Tags", "Per hour", "Median per hour", "Quartiles")
	var rows []reportsRow
	add := func(row report.Row, total bool) {
		var cells []string
		for i, d := range res.Query.By {
			switch v := row.Key[i]; {
			case total && d != report.Code:
				cells = append(cells, "All")
			case d == report.Code:
				cells = append(cells, rp.label(v))
			case v == "":
				cells = append(cells, "(unknown)")
			default:
				cells = append(cells, v)
			}
		}
		if row.Suppressed {
			cells = append(cells, "suppressed", "", "", "", "", "")
		} else {
			cells = append(cells, strconv.Itoa(row.Sessions), fmt.Sprintf("%.1f", row.Hours), strconv.Itoa(row.Tags),
				fmt.Sprintf("%.2f", row.Rate), fmt.Sprintf("%.2f", row.Median), fmt.Sprintf("%.2f–%.2f", row.Q1, row.Q3))
		}
		rows = append(rows, reportsRow{Cells: cells, Total: total, Suppressed: row.Suppressed})
	}
	for _, row := range res.Rows {
		add(row, false)
	}
	// Grouped by code alone, the totals are the rows themselves.
	if !(len(res.Query.By) == 1 && res.Query.By[0] == report.Code) {
		for _, row := range res.Totals {
			add(row, true)
		}
	}
	return header, rows
}

// agreementTable lays the agreement report out for the page.
func (rp *Reports) agreementTable(a *report.Agreement) ([]string, []reportsRow) {
	header := []string{"Code", "Codebook version", "Reviewed sessions", "Machine tags judged", "Accepted", "Rejected",
		"Re-coded", "Precision", "Added by coaches", "Re-coded to it", "Complete sessions", "Segments", "Kappa",
		"Double-coded sessions", "Coders' kappa", "Coders' alpha"}
	opt := func(f *float64) string {
		if f == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f", *f)
	}
	var rows []reportsRow
	for _, r := range a.Rows {
		cells := []string{rp.label(r.Code), r.CodebookVersion}
		if r.Suppressed {
			cells = append(cells, "suppressed", "", "", "", "", "", "", "", "", "", "")
		} else {
			cells = append(cells, strconv.Itoa(r.Reviewed), strconv.Itoa(r.Accepted+r.Rejected+r.Changed), strconv.Itoa(r.Accepted),
				strconv.Itoa(r.Rejected), strconv.Itoa(r.Changed), opt(r.Precision), strconv.Itoa(r.Added), strconv.Itoa(r.ChangedTo))
			if r.KappaSuppressed {
				cells = append(cells, "suppressed", "", "")
			} else {
				cells = append(cells, strconv.Itoa(r.Complete), strconv.Itoa(r.Segments), opt(r.Kappa))
			}
		}
		// Beside it, the human coders' agreement on the same code
		// (double coding), over turns.
		switch c := r.Coders; {
		case c == nil:
			cells = append(cells, "–", "", "")
		case c.Suppressed || c.Segments == nil:
			cells = append(cells, "suppressed", "", "")
		default:
			cells = append(cells, strconv.Itoa(c.Sessions), opt(c.Segments.Kappa.Value), opt(c.Segments.Alpha.Value))
		}
		rows = append(rows, reportsRow{Cells: cells, Suppressed: r.Suppressed})
	}
	return header, rows
}

func (rp *Reports) render(w http.ResponseWriter, r *http.Request, u *hark.User, status int, page *reportsPage) {
	csrf := ""
	if rp.cfg.CSRF != nil {
		csrf = rp.cfg.CSRF(r)
	}
	data := struct {
		Title string
		User  *hark.User
		CSRF  string
		Data  *reportsPage
	}{"Reports", u, csrf, page}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := rp.tmpl.ExecuteTemplate(w, "layout", data); err != nil {
		rp.cfg.Logger.Error("render reports", "err", err)
	}
}
