package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// The family lens across sessions from the real index: its figures over
// the sessions a user may see, the answers per cue over the reviewed ones,
// suppression at the server's threshold (5), CSV of both tables, the
// reports page's section and the audit.
func TestFamilyReport(t *testing.T) {
	b := setup(t)
	ids := []string{b.recA, b.recB}
	for i := range 4 {
		ids = append(ids, b.seed("north", fmt.Sprintf("north/visit-%d.wav", i)))
	}
	var threat string
	for _, id := range ids {
		threat = b.suggestMoments(id)[0].Key // each has the same transcript and its threat
	}
	coach := b.client("coach", hark.RoleCoach, "north")
	answer := func(c *client, id string, state hark.SuggestionState) {
		t.Helper()
		if st, body := c.review(id, map[string]any{"action": "suggestion", "key": threat, "state": state, "version": c.moments(id).Review.Version}); st != http.StatusOK {
			t.Fatalf("answer: %d %v", st, body)
		}
	}
	// Five sessions reviewed, four of their threats answered: ids[4]'s
	// answer was taken back, and ids[5] nobody reviewed.
	answer(coach, b.recA, hark.SuggestionAccepted)
	answer(coach, ids[2], hark.SuggestionDismissed)
	answer(coach, ids[3], hark.SuggestionAccepted)
	answer(coach, ids[4], hark.SuggestionDismissed)
	answer(coach, ids[4], "")
	answer(b.client("coach-south", hark.RoleCoach, "south"), b.recB, hark.SuggestionDismissed)

	type cue struct {
		Cue           string   `json:"cue"`
		Sessions      *int     `json:"sessions"`
		Suggested     *int     `json:"suggested"`
		Answered      *int     `json:"answered"`
		Accepted      *int     `json:"accepted"`
		AcceptedShare *float64 `json:"accepted_share"`
		Suppressed    bool     `json:"suppressed"`
	}
	type fam struct {
		Reviewed int              `json:"reviewed_sessions"`
		Rows     []map[string]any `json:"rows"`
		Total    map[string]any   `json:"total"`
		Cues     []cue            `json:"cues"`
	}
	get := func(c *client, path string) fam {
		t.Helper()
		st, body := c.get(path)
		var f fam
		if err := json.Unmarshal([]byte(body), &f); st != http.StatusOK || err != nil {
			t.Fatalf("GET %s: %d %v %s", path, st, err, body)
		}
		return f
	}
	threatCue := func(f fam) cue {
		t.Helper()
		for _, c := range f.Cues {
			if c.Cue == hark.CueThreat {
				return c
			}
		}
		t.Fatalf("no threat among the cues %+v", f.Cues)
		return cue{}
	}
	ana := b.client("ana", hark.RoleAnalyst)
	f := get(ana, "/api/reports/family")
	if f.Total["sessions"] != 6.0 || f.Total["parent_turns"] != 6.0 || f.Total["suppressed"] != false {
		t.Errorf("the analyst's total: %v", f.Total)
	}
	if c := threatCue(f); f.Reviewed != 5 || c.Suppressed || *c.Sessions != 5 || *c.Suggested != 5 || *c.Answered != 4 || *c.Accepted != 2 || *c.AcceptedShare != 0.5 {
		t.Errorf("threats over %d reviewed sessions: %+v", f.Reviewed, c)
	}
	// By team: south has one session, under the threshold, and north is
	// then suppressed too, or the total would give south away.
	f = get(ana, "/api/reports/family?by=team")
	if len(f.Rows) != 2 || f.Rows[0]["suppressed"] != true || f.Rows[1]["suppressed"] != true || f.Rows[0]["sessions"] != nil {
		t.Errorf("by team: %v", f.Rows)
	}
	// A coach of north sees north's sessions only: four of them
	// reviewed, too few for the threats to be shown.
	if f := get(coach, "/api/reports/family"); f.Total["sessions"] != 5.0 || f.Reviewed != 4 || !threatCue(f).Suppressed || threatCue(f).Sessions != nil {
		t.Errorf("north's coach: %v, %d reviewed, %+v", f.Total, f.Reviewed, f.Cues)
	}

	st, csv := ana.get("/api/reports/family?format=csv")
	if st != http.StatusOK || !strings.HasPrefix(csv, "sessions,parent_talk_share,parent_turn_share,parent_turns,") || !strings.Contains(csv, "\r\n6,") {
		t.Errorf("CSV: %d\n%s", st, csv)
	}
	if st, csv := ana.get("/api/reports/family?format=csv&part=cues"); st != http.StatusOK || !strings.Contains(csv, "threat,reflect,5,5,4,2,2,0.5,0.8,0") {
		t.Errorf("cues CSV: %d\n%s", st, csv)
	}
	if st, _ := ana.get("/api/reports/family?format=xml"); st != http.StatusBadRequest {
		t.Errorf("an unknown format: %d", st)
	}
	if st, _ := ana.get("/api/reports/family?part=tags"); st != http.StatusBadRequest {
		t.Errorf("an unknown part: %d", st)
	}
	_, page := ana.get("/reports")
	for _, want := range []string{`id="family"`, `id="family-talk"`, `id="family-cues"`, `id="cue-table"`, "/api/reports/family?by=code&amp;format=csv&amp;min-cell=5&amp;part=cues",
		"<th scope=\"col\">Answered of suggested</th>", "<td>50%</td><td>80%</td>", "over the 5 session(s) here a coach has reviewed"} {
		if !strings.Contains(page, want) {
			t.Errorf("the reports page lacks %s", want)
		}
	}
}

// Every family-lens export is audited, with its query, as the reports'
// are; the fixture's source answers it.
func TestFamilyReportAudited(t *testing.T) {
	f := newReportsFixture(t)
	f.as(analyst)
	for _, path := range []string{"/api/reports/family?by=team", "/api/reports/family?format=csv&part=cues"} {
		if resp, body := f.get(t, path); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	if len(f.audits) != 2 || f.audits[0].Action != "export" || f.audits[0].Detail != "family lens json: by=team&min-cell=2&status=machine-unrejected" ||
		f.audits[1].Detail != "family lens csv cues: min-cell=2&status=machine-unrejected" {
		t.Errorf("audit: %+v", f.audits)
	}
}
