package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

// fakeSource answers reports from fixed sessions, keeping only the teams
// the query allows, and remembers the last query.
type fakeSource struct {
	mu   sync.Mutex
	last report.Query
}

func (f *fakeSource) ReportRows(_ context.Context, q report.Query) (*report.SessionRows, error) {
	f.mu.Lock()
	f.last = q
	f.mu.Unlock()
	all := []report.SessionRow{
		{Team: "north", Worker: "w1", Month: "2026-01", Seconds: 3600, Counts: []int{2, 0}},
		{Team: "north", Worker: "w1", Month: "2026-01", Seconds: 1800, Counts: []int{1, 1}},
		{Team: "north", Worker: "w2", Month: "2026-02", Seconds: 7200, Counts: []int{6, 0}},
		{Team: "south", Worker: "w3", Month: "2026-01", Seconds: 3600, Counts: []int{0, 2}},
		{Team: "south", Worker: "w3", Month: "2026-02", Seconds: 5400, Counts: []int{3, 3}},
		{Team: "south", Worker: "w4", Month: "", Seconds: 2700, Counts: []int{3, 0}},
	}
	out := &report.SessionRows{Codes: []string{"reflective_listening", "threat_of_escalation"}}
	for _, s := range all {
		if q.Teams == nil || slices.Contains(q.Teams, s.Team) {
			out.Sessions = append(out.Sessions, s)
		}
	}
	return out, nil
}

func (f *fakeSource) AgreementRows(_ context.Context, q report.Query) (*report.AgreementRows, error) {
	return &report.AgreementRows{
		Versions: []report.VersionSessions{{CodebookVersion: "2", Reviewed: 6, Complete: 5, Segments: 100}},
		Codes: []report.CodeAgreement{{CodebookVersion: "2", Code: "reflective_listening", Accepted: 8, Rejected: 2,
			Added: 1, Both: 7, MachineOnly: 3, CoachOnly: 1}},
	}, nil
}

func (f *fakeSource) FamilySessions(_ context.Context, q report.Query) ([]report.FamilySession, error) {
	var out []report.FamilySession
	for _, team := range []string{"north", "north", "south"} {
		if q.Teams == nil || slices.Contains(q.Teams, team) {
			out = append(out, report.FamilySession{Team: team, Family: &hark.FamilyLens{ParentTalkShare: 0.3, ParentTurns: 4}, Cues: []string{hark.CueThreat}})
		}
	}
	return out, nil
}

type reportsFixture struct {
	srv    *httptest.Server
	src    *fakeSource
	mu     sync.Mutex
	audits []hark.AuditEntry
	user   *hark.User
}

func newReportsFixture(t *testing.T) *reportsFixture {
	t.Helper()
	f := &reportsFixture{src: &fakeSource{}}
	rp, err := NewReports(ReportsConfig{
		Source: f.src,
		Codebook: &hark.Codebook{Codes: []hark.Code{{ID: "reflective_listening", Label: "Reflective listening"},
			{ID: "threat_of_escalation", Label: "Threat of escalation"}}},
		User: func(r *http.Request) (*hark.User, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.user, nil
		},
		Audit: func(_ context.Context, e hark.AuditEntry) {
			f.mu.Lock()
			f.audits = append(f.audits, e)
			f.mu.Unlock()
		},
		MinCell: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	rp.Routes(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *reportsFixture) as(u *hark.User) {
	f.mu.Lock()
	f.user = u
	f.mu.Unlock()
}

func (f *reportsFixture) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var analyst = &hark.User{ID: "u1", Name: "ana", Role: hark.RoleAnalyst}

func TestReportsPage(t *testing.T) {
	f := newReportsFixture(t)
	f.as(analyst)
	resp, body := f.get(t, "/reports?by=worker,code")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"<svg", `role="img"`, "<title id=", "Reflective listening", "/reports.csv?", "Cohen", "w1", "w3",
		"left out", `<input type="checkbox" name="by" value="worker" checked>`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// w2 and w4 have one session each: below the threshold of 2, they are
	// not on the page at all.
	for _, hidden := range []string{"w2", "w4"} {
		if strings.Contains(body, hidden) {
			t.Errorf("worker %s below the threshold is on the page", hidden)
		}
	}
	if strings.Contains(body, "<script") {
		t.Error("the page has a script")
	}
	if len(f.audits) != 1 || f.audits[0].Action != "view" || f.audits[0].User != "ana" || !strings.Contains(f.audits[0].Detail, "by=worker%2Ccode") {
		t.Fatalf("audit: %+v", f.audits)
	}
	// Without parameters the page shows every code's rate.
	if resp, body := f.get(t, "/reports"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Tags per hour of recording, by code") {
		t.Fatalf("default page: %d", resp.StatusCode)
	}
}

func TestReportsAPI(t *testing.T) {
	f := newReportsFixture(t)
	f.as(analyst)
	// min-cell 1 is below the server's floor of 2: the floor holds.
	resp, body := f.get(t, "/api/reports?by=team&codes=reflective_listening&min-cell=1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var res struct {
		Query report.Query     `json:"query"`
		Rows  []map[string]any `json:"rows"`
		Total []map[string]any `json:"totals"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Query.MinCell != 2 || len(res.Rows) != 2 || res.Rows[0]["team"] != "north" || res.Rows[0]["tags"] != 9.0 || res.Rows[0]["sessions"] != 3.0 {
		t.Fatalf("api: %s", body)
	}
	// Agreement.
	resp, body = f.get(t, "/api/reports?agreement=1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"kappa":`) || !strings.Contains(body, `"precision": 0.8`) {
		t.Fatalf("agreement %d: %s", resp.StatusCode, body)
	}
	// A bad parameter is the caller's mistake.
	resp, body = f.get(t, "/api/reports?by=colour")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cannot group by") {
		t.Fatalf("bad query %d: %s", resp.StatusCode, body)
	}
	for _, a := range f.audits {
		if a.Action != "export" {
			t.Fatalf("audit: %+v", f.audits)
		}
	}
}

func TestReportsTeams(t *testing.T) {
	f := newReportsFixture(t)
	f.as(&hark.User{Name: "coach", Role: hark.RoleCoach, Teams: []string{"north"}})
	resp, body := f.get(t, "/api/reports?by=team&team=north,south")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `"south"`) || !strings.Contains(body, `"north"`) {
		t.Fatalf("coach of north: %d %s", resp.StatusCode, body)
	}
	if got := f.src.last.Teams; !slices.Equal(got, []string{"north"}) {
		t.Fatalf("teams asked of the source: %v", got)
	}
	f.get(t, "/api/reports?team=south")
	if got := f.src.last.Teams; got == nil || len(got) != 0 {
		t.Fatalf("a coach asking for another team's counts: teams %v, want none", got)
	}
	f.as(&hark.User{Name: "admin", Role: hark.RoleAdmin})
	f.get(t, "/api/reports")
	if f.src.last.Teams != nil {
		t.Fatalf("admin: teams %v, want all", f.src.last.Teams)
	}
	f.as(&hark.User{Name: "x", Role: "visitor"})
	if resp, _ := f.get(t, "/api/reports"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown role: %d", resp.StatusCode)
	}
	f.as(nil)
	if resp, _ := f.get(t, "/api/reports"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("not signed in, API: %d", resp.StatusCode)
	}
	resp, _ = f.get(t, "/reports?by=team")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Freports%3Fby%3Dteam" {
		t.Fatalf("not signed in, page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestReportsCSV(t *testing.T) {
	f := newReportsFixture(t)
	f.as(analyst)
	resp, body := f.get(t, "/reports.csv?by=team,code")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment; filename=\"hark-report-machine-unrejected-") {
		t.Fatalf("csv: %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.HasPrefix(body, "team,code,sessions,hours,tags,rate_per_hour,") || !strings.Contains(body, "\r\nnorth,reflective_listening,3,3.5,9,") {
		t.Fatalf("csv body:\n%s", body)
	}
	_, excel := f.get(t, "/reports.csv?by=team&excel=1")
	if !strings.HasPrefix(excel, "\ufeffteam,") {
		t.Fatalf("excel csv starts %q", excel[:10])
	}
	_, agree := f.get(t, "/reports.csv?agreement=1")
	if !strings.HasPrefix(agree, "codebook_version,code,reviewed_sessions,") {
		t.Fatalf("agreement csv:\n%s", agree)
	}
	if len(f.audits) != 3 || f.audits[0].Action != "export" || !strings.Contains(f.audits[0].Detail, "csv") {
		t.Fatalf("audit: %+v", f.audits)
	}
}
