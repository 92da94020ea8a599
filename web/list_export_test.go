package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/qda/qdatest"
)

// The recordings list's REFI-QDA export: the ready recordings its filters
// select, of the user's teams only, one valid project, each audited.
func TestListExport(t *testing.T) {
	b := setup(t)
	coach := b.client("sam", hark.RoleCoach, "north")
	st, page := coach.get("/?team=north")
	if st != http.StatusOK || !strings.Contains(page, `href="/export/qdpx?team=north"`) {
		t.Fatalf("the list %d lacks the export link with its filters", st)
	}
	st, body := coach.get("/export/qdpx")
	if st != http.StatusOK {
		t.Fatalf("qdpx: %d %s", st, body)
	}
	qdatest.ValidateProject(t, sharedQDA, []byte(body))
	qde := string(qdatest.ProjectQDE(t, []byte(body)))
	if !strings.Contains(qde, "north/visit.wav") || strings.Contains(qde, "south/") {
		t.Errorf("the project holds another team's recording, or not the coach's")
	}
	if st, _ := coach.get("/export/qdpx?team=south"); st != http.StatusNotFound {
		t.Errorf("only another team's: %d, want 404", st)
	}
	if st, _ := coach.get("/export/eaf"); st != http.StatusNotFound {
		t.Errorf("eaf of a list: %d, want 404", st)
	}
	entries, err := b.idx.AuditLog(context.Background(), hark.AuditFilter{RecordingID: b.recA})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || e.Action == "export" && strings.HasPrefix(e.Detail, "qdpx of 1 recording(s)")
	}
	if !found {
		t.Errorf("the list export is not audited: %+v", entries)
	}
}
