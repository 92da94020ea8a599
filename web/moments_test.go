package web

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
)

// suggestMoments gives recording id's annotations the moments and the
// family lens the annotate stage finds in its transcript and tags, and
// returns the moments; the test fails if there are none.
func (b *testBundle) suggestMoments(id string) []hark.Moment {
	b.t.Helper()
	ctx := context.Background()
	sess, err := b.idx.Session(ctx, id)
	if err != nil {
		b.t.Fatal(err)
	}
	an := sess.Annotations
	an.Moments = annotate.SuggestMoments(sess.Transcript, an)
	an.Family = annotate.MeasureFamily(sess.Transcript, an)
	if len(an.Moments) == 0 || an.Family == nil {
		b.t.Fatalf("the seeded session has no suggested moments (%v) or no family lens", an.Moments)
	}
	if err := b.idx.PutAnnotations(ctx, an); err != nil {
		b.t.Fatal(err)
	}
	return an.Moments
}

// apiMoments reads the session's top-level moments and family lens from
// the JSON API, and its review's version.
type apiMomentsView struct {
	Moments []struct {
		Key    string               `json:"key"`
		Cue    string               `json:"cue"`
		Reason string               `json:"reason"`
		State  hark.SuggestionState `json:"state"`
		By     string               `json:"by"`
		At     *string              `json:"at"`
	} `json:"moments"`
	Family *hark.FamilyLens `json:"family"`
	Review struct {
		Version     int                       `json:"version"`
		Suggestions []hark.SuggestionDecision `json:"suggestions"`
	} `json:"review"`
}

func (c *client) moments(id string) apiMomentsView {
	c.t.Helper()
	st, body := c.get("/api/recordings/" + id)
	if st != http.StatusOK {
		c.t.Fatalf("GET /api/recordings/%s: %d %s", id, st, body)
	}
	var v apiMomentsView
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		c.t.Fatalf("the session's JSON: %v", err)
	}
	return v
}

// A coach sees the suggested moments under "Start here" with the family
// lens, answers one (accepted onto the reflection sheet, dismissed, taken
// back), each answer versioned and audited, and the JSON API says the
// moments with their answers; bad answers are refused with a reason, and
// a role that cannot review sees the moments but cannot answer them.
func TestSuggestedMoments(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	ms := b.suggestMoments(b.recA)
	m := ms[0]
	coach := b.client("coach", hark.RoleCoach, "north")

	_, page := coach.get("/recordings/" + b.recA)
	for _, want := range []string{`id="start-here"`, `data-key="` + m.Key + `"`, html.EscapeString(m.Reason),
		`id="family"`, `data-answer="accepted"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the session page lacks %q", want)
		}
	}

	v := coach.moments(b.recA)
	if len(v.Moments) != len(ms) || v.Moments[0].Key != m.Key || v.Moments[0].Cue != m.Cue || v.Moments[0].State != "" {
		t.Fatalf("the API's moments %+v, want %d moments, first %s unanswered", v.Moments, len(ms), m.Key)
	}
	if v.Family == nil || v.Family.ParentTurns != 1 {
		t.Errorf("the API's family lens %+v, want the one parent turn", v.Family)
	}

	answer := func(c *client, key string, state hark.SuggestionState) (int, map[string]any) {
		t.Helper()
		return c.review(b.recA, map[string]any{"action": "suggestion", "key": key, "state": state, "version": c.moments(b.recA).Review.Version})
	}
	if st, body := answer(coach, m.Key, hark.SuggestionAccepted); st != http.StatusOK {
		t.Fatalf("accept: %d %v", st, body)
	}
	v = coach.moments(b.recA)
	if v.Moments[0].State != hark.SuggestionAccepted || v.Moments[0].By != "coach" || v.Moments[0].At == nil {
		t.Errorf("after accepting: %+v", v.Moments[0])
	}
	if len(v.Review.Suggestions) != 1 || v.Review.Suggestions[0].Cue != m.Cue {
		t.Errorf("the review's answers %+v, want one for cue %s", v.Review.Suggestions, m.Cue)
	}
	_, sheet := coach.get("/recordings/" + b.recA + "/sheet")
	turnText := ""
	sess, err := b.idx.Session(ctx, b.recA)
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range sess.Transcript.Segments {
		if sg.Index == m.Segments[0] {
			turnText = sg.Text
		}
	}
	for _, want := range []string{`id="suggested"`, `data-key="` + m.Key + `"`, html.EscapeString(m.Reason), html.EscapeString(turnText)} {
		if !strings.Contains(sheet, want) {
			t.Errorf("the reflection sheet lacks %q", want)
		}
	}
	if _, page := coach.get("/recordings/" + b.recA); !strings.Contains(page, "state-accepted") {
		t.Error("the page does not show the moment accepted")
	}

	if st, body := answer(coach, m.Key, hark.SuggestionDismissed); st != http.StatusOK {
		t.Fatalf("dismiss: %d %v", st, body)
	}
	if v := coach.moments(b.recA); v.Moments[0].State != hark.SuggestionDismissed || len(v.Review.Suggestions) != 1 {
		t.Errorf("after dismissing: %+v, answers %+v", v.Moments[0], v.Review.Suggestions)
	}
	if _, sheet := coach.get("/recordings/" + b.recA + "/sheet"); strings.Contains(sheet, `id="suggested"`) {
		t.Error("a dismissed moment is on the reflection sheet")
	}
	if st, body := answer(coach, m.Key, ""); st != http.StatusOK {
		t.Fatalf("take back: %d %v", st, body)
	}
	if v := coach.moments(b.recA); v.Moments[0].State != "" || len(v.Review.Suggestions) != 0 {
		t.Errorf("after taking the answer back: %+v, answers %+v", v.Moments[0], v.Review.Suggestions)
	}

	// Refused, with a reason, and nothing changed.
	before := coach.moments(b.recA).Review.Version
	for _, tt := range []struct {
		name  string
		key   string
		state hark.SuggestionState
		code  int
		says  string
	}{
		{"an unknown moment", "threat@99", hark.SuggestionAccepted, http.StatusNotFound, "reload the page"},
		{"no key", "", hark.SuggestionAccepted, http.StatusBadRequest, "which suggested moment"},
		{"an unknown answer", m.Key, "maybe", http.StatusBadRequest, "use accepted, dismissed"},
	} {
		st, body := answer(coach, tt.key, tt.state)
		if msg, _ := body["message"].(string); st != tt.code || !strings.Contains(msg, tt.says) {
			t.Errorf("%s: %d %v, want %d saying %q", tt.name, st, body, tt.code, tt.says)
		}
	}
	if st, body := coach.review(b.recA, map[string]any{"action": "suggestion", "key": m.Key, "state": "accepted", "version": before - 1}); st != http.StatusConflict {
		t.Errorf("a stale version: %d %v", st, body)
	}
	if after := coach.moments(b.recA).Review.Version; after != before {
		t.Errorf("refused answers changed the review: version %d -> %d", before, after)
	}

	entries, err := b.idx.AuditLog(ctx, hark.AuditFilter{RecordingID: b.recA})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Action == "review" {
			seen[e.Detail] = true
		}
	}
	for _, want := range []string{"suggestion " + m.Key + " accepted", "suggestion " + m.Key + " dismissed", "suggestion " + m.Key + " answer taken back"} {
		if !seen[want] {
			t.Errorf("no audit entry %q in %v", want, seen)
		}
	}

	// A researcher sees the moments, with no buttons, and cannot answer.
	researcher := b.client("rae", hark.RoleResearcher, "north")
	_, page = researcher.get("/recordings/" + b.recA)
	if !strings.Contains(page, `data-key="`+m.Key+`"`) || strings.Contains(page, `data-answer="accepted"`) {
		t.Error("a researcher's page: the moments missing, or answer buttons shown")
	}
	if st, _ := answer(researcher, m.Key, hark.SuggestionAccepted); st != http.StatusBadRequest {
		t.Errorf("a researcher answered a moment: %d", st)
	}
}

// A session tagged before hark suggested moments says so on its page,
// and its API has an empty list of moments, not null.
func TestNoSuggestedMoments(t *testing.T) {
	b := setup(t)
	coach := b.client("coach", hark.RoleCoach, "north")
	_, page := coach.get("/recordings/" + b.recA)
	if !strings.Contains(page, "hark reannotate") {
		t.Error("a session with no moments: the page does not say why")
	}
	_, body := coach.get("/api/recordings/" + b.recA)
	var v map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if string(v["moments"]) != "[]" || string(v["family"]) != "null" {
		t.Errorf("the API of a session with no moments: moments %s, family %s", v["moments"], v["family"])
	}
	if st, body := coach.review(b.recA, map[string]any{"action": "suggestion", "key": "threat@2", "state": "accepted", "version": 0}); st != http.StatusNotFound {
		t.Errorf("answering a moment the session does not have: %d %v", st, body)
	}
}
