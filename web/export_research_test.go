package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/qda/qdatest"
)

// sharedQDA is the REFI-QDA reference folder, ../shared/qda from the
// repository root.
const sharedQDA = "../../shared/qda"

// The session page's REFI-QDA and ELAN exports: linked from the page,
// valid against their schemas, limited to the user's teams, audited.
func TestExportResearchFormats(t *testing.T) {
	b := setup(t)
	coach := b.client("sam", hark.RoleCoach, "north")
	if st, _ := coach.review(b.recA, map[string]any{"version": 0, "action": "note", "segment": 2, "text": "Talk about the court threat."}); st != http.StatusOK {
		t.Fatalf("note: %d", st)
	}
	st, page := coach.get("/recordings/" + b.recA)
	if st != http.StatusOK || !strings.Contains(page, "/export/qdpx\"") || !strings.Contains(page, ">REFI-QDA</a>") || !strings.Contains(page, ">ELAN</a>") {
		t.Fatalf("session page %d lacks the export links", st)
	}
	resp, err := coach.http.Get(b.srv.URL + "/recordings/" + b.recA + "/export/qdpx")
	if err != nil {
		t.Fatal(err)
	}
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "application/zip" || !strings.Contains(cd, `visit.qdpx"`) {
		t.Errorf("headers %q %q", ct, cd)
	}
	resp.Body.Close()
	st, body := coach.get("/recordings/" + b.recA + "/export/qdpx")
	if st != http.StatusOK {
		t.Fatalf("qdpx: %d", st)
	}
	qdatest.ValidateProject(t, sharedQDA, []byte(body))
	qde := string(qdatest.ProjectQDE(t, []byte(body)))
	for _, want := range []string{`name="sam"`, "Talk about the court threat.", `name="Threat of escalation (pending)"`, `path="relative://north/visit.wav"`} {
		if !strings.Contains(qde, want) {
			t.Errorf("project.qde lacks %s", want)
		}
	}
	st, body = coach.get("/recordings/" + b.recA + "/export/eaf")
	if st != http.StatusOK {
		t.Fatalf("eaf: %d", st)
	}
	doc := qdatest.ValidateEAF(t, []byte(body))
	if doc.MediaURL != "north/visit.wav" || len(doc.Tiers["Worker"]) != 2 || len(doc.Tiers["Threat of escalation"]) != 1 {
		t.Errorf("eaf: media %q, tiers %v", doc.MediaURL, doc)
	}
	if st, _ := coach.get("/recordings/" + b.recB + "/export/qdpx"); st != http.StatusNotFound {
		t.Errorf("another team's recording: %d", st)
	}
	entries, err := b.idx.AuditLog(context.Background(), hark.AuditFilter{RecordingID: b.recA})
	if err != nil {
		t.Fatal(err)
	}
	var qdpx, eaf bool
	for _, e := range entries {
		qdpx = qdpx || e.Action == "export" && strings.HasPrefix(e.Detail, "qdpx: 1 recording, 2 coding(s), 1 note(s)")
		eaf = eaf || e.Action == "export" && strings.HasPrefix(e.Detail, "eaf: 1 recording, 3 turn(s), 2 tag(s)")
	}
	if !qdpx || !eaf {
		t.Errorf("audit entries %+v", entries)
	}
}
