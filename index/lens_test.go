package index

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

// testReportFamily: the family-lens report's sessions are the reports'
// (ready, with a duration, in the query's teams and dates), each with its
// dimensions, the family lens and moments' cues and keys of its
// annotations, whether it is reviewed (r1 complete, r3 in progress) and
// the answers in its review; a session tagged before either has none.
func testReportFamily(t *testing.T, db *DB) {
	ctx := context.Background()
	ids := reportFixture(t, db)
	lens := func(name string, f *hark.FamilyLens, cues ...string) {
		t.Helper()
		sess, err := db.Session(ctx, ids[name])
		if err != nil {
			t.Fatal(err)
		}
		a := sess.Annotations
		a.Family = f
		for i, c := range cues {
			a.Moments = append(a.Moments, hark.Moment{Key: hark.MomentKey(c, i), Rank: i + 1, Kind: hark.CueKind(c), Cue: c, Segments: []int{i}})
		}
		if err := db.PutAnnotations(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	lens("r1", &hark.FamilyLens{ParentTalkShare: 0.4, ParentTurns: 3, ParentFears: 1, ParentFearsMet: 1, RightsExplained: true, ExplainedBeforeDecision: &yes}, hark.CueThreat, hark.CueFearMet)
	lens("r3", &hark.FamilyLens{ParentTalkShare: 0.2, ParentTurns: 2, ParentInterrupted: 1}, hark.CueMonologue)
	cur, err := db.Review(ctx, ids["r1"])
	if err != nil {
		t.Fatal(err)
	}
	cur.Suggestions = []hark.SuggestionDecision{{Key: hark.MomentKey(hark.CueThreat, 0), Cue: hark.CueThreat, State: hark.SuggestionAccepted, By: "coach1", At: base}}
	if err := db.PutReview(ctx, cur, cur.Version); err != nil {
		t.Fatal(err)
	}

	got := func(q report.Query) []string {
		t.Helper()
		q, err := q.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		ss, err := db.FamilySessions(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range ss {
			f := "-"
			if s.Family != nil {
				f = fmt.Sprintf("talk %.1f turns %d", s.Family.ParentTalkShare, s.Family.ParentTurns)
			}
			var answers []string
			for _, a := range s.Answers {
				answers = append(answers, a.Cue+"="+string(a.State))
			}
			out = append(out, fmt.Sprintf("%s/%s/%s/%s: %s; reviewed %t; cues %s; keys %s; answers %s", s.Team, s.Worker, s.MeetingType, s.Month, f,
				s.Reviewed, strings.Join(s.Cues, ","), strings.Join(s.Keys, ","), strings.Join(answers, ",")))
		}
		slices.Sort(out)
		return out
	}
	all := []string{
		"north/w1/home visit/2026-01: talk 0.4 turns 3; reviewed true; cues threat,fear_met; keys threat@0,fear_met@1; answers threat=accepted",
		"north/w2/office meeting/2026-02: -; reviewed false; cues ; keys ; answers ",
		"south/w3/home visit/2026-01: talk 0.2 turns 2; reviewed true; cues monologue; keys monologue@0; answers ",
		"south/w3/home visit/: -; reviewed false; cues ; keys ; answers ",
	}
	if g := got(report.Query{}); !slices.Equal(g, all) {
		t.Errorf("every session:\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(all, "\n"))
	}
	if g := got(report.Query{Teams: []string{"north"}, From: "2026-01", To: "2026-01"}); !slices.Equal(g, all[:1]) {
		t.Errorf("north in January: %q", g)
	}
	if g := got(report.Query{Teams: []string{}}); len(g) != 0 {
		t.Errorf("no teams: %q", g)
	}
	// A review begun since the last report shows in the next one.
	cur, err = db.Review(ctx, ids["r2"])
	if err != nil {
		t.Fatal(err)
	}
	cur.State = hark.ReviewInProgress
	cur.Suggestions = []hark.SuggestionDecision{{Key: "threat@7", Cue: hark.CueThreat, State: hark.SuggestionDismissed, By: "coach1", At: base}}
	if err := db.PutReview(ctx, cur, cur.Version); err != nil {
		t.Fatal(err)
	}
	if g, want := got(report.Query{Teams: []string{"north"}, From: "2026-02"}), "north/w2/office meeting/2026-02: -; reviewed true; cues ; keys ; answers threat=dismissed"; len(g) != 1 || g[0] != want {
		t.Errorf("north from February, reviewed since:\n%q\nwant\n%q", g, want)
	}
}
