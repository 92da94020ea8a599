package index

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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

	// Sessions written before the family report had columns of its own
	// (migration 0012 leaves them empty and lists the sessions in
	// family_pending): the next report fills them from the annotations
	// and reviews, and reads the same.
	before := got(report.Query{})
	for _, stmt := range []string{`DELETE FROM family_moments`, `UPDATE report_sessions SET family_lens = ''`,
		`INSERT INTO family_pending (recording_id) SELECT id FROM recordings WHERE annotations_doc <> '' UNION SELECT recording_id FROM reviews`} {
		if _, err := db.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if g := got(report.Query{}); !slices.Equal(g, before) {
		t.Errorf("sessions written before migration 0012:\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(before, "\n"))
	}
	var pending int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM family_pending`).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("%d sessions still pending after a family report", pending)
	}

	// A recording date from outside holding the report's separators is
	// read as no month, and the report goes on.
	if _, err := db.db.ExecContext(ctx, `UPDATE report_sessions SET recorded_on = $1 WHERE recording_id = $2`, "2026\x1c\x1d-01", ids["r2"]); err != nil {
		t.Fatal(err)
	}
	if g := got(report.Query{Teams: []string{"north"}}); len(g) != 2 || !slices.Contains(g, "north/w2/office meeting/: -; reviewed true; cues ; keys ; answers threat=dismissed") {
		t.Errorf("a date holding separators:\n%s", strings.Join(g, "\n"))
	}
}

// TestLensColumn: the family_lens column gives back every figure the
// family report adds up, a yes, a no and neither among them; an empty
// column is no lens, and a column hark did not write is an error that
// says which field.
func TestLensColumn(t *testing.T) {
	yes, no := true, false
	for _, f := range []*hark.FamilyLens{
		{ParentTalkShare: 0.41234567890123, ParentTurnShare: 1.0 / 3, ParentTurns: 170, ParentInterrupted: 6, ParentQuestions: 12,
			ParentQuestionsAnswered: 9, RightsExplained: true, NextStepsExplained: false, ExplainedBeforeDecision: &yes,
			PermissionBeforeAdvice: &no, ParentFears: 4, ParentFearsMet: 2},
		{NextStepsExplained: true},
		{ExplainedBeforeDecision: &no, ParentFears: 1},
	} {
		col := encodeLens(f)
		g, err := parseLens(col)
		if err != nil {
			t.Fatalf("%q: %v", col, err)
		}
		if fmt.Sprint(lensFigures(g)) != fmt.Sprint(lensFigures(f)) {
			t.Errorf("%q read as %v, want %v", col, lensFigures(g), lensFigures(f))
		}
	}
	if g, err := parseLens(encodeLens(nil)); g != nil || err != nil {
		t.Errorf("no lens: %v, %v", g, err)
	}
	for col, want := range map[string]string{
		"0.4 0.5 3 1 2 1 1 0 - x 1 0":   `field 10 is "x"`,
		"0.4 0.5 3 1 2 1 1 0 - - 1":     `field 12 is ""`,
		"0.4 0.5 3 1 2 1 1 0 - - 1 0 9": "more than 12 fields",
		"0.4 0.5 3.5 1 2 1 1 0 - - 1 0": `field 3 is "3.5"`,
		"0.4 - 3 1 2 1 1 0 - - 1 0":     `field 2 is "-"`,
	} {
		if _, err := parseLens(col); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", col, err, want)
		}
	}
}

// lensFigures are the figures of f the family report reads, pointers
// followed.
func lensFigures(f *hark.FamilyLens) []any {
	maybe := func(b *bool) any {
		if b == nil {
			return "neither"
		}
		return *b
	}
	return []any{f.ParentTalkShare, f.ParentTurnShare, f.ParentTurns, f.ParentInterrupted, f.ParentQuestions, f.ParentQuestionsAnswered,
		f.RightsExplained, f.NextStepsExplained, maybe(f.ExplainedBeforeDecision), maybe(f.PermissionBeforeAdvice), f.ParentFears, f.ParentFearsMet}
}

// BenchmarkFamilySessions reads the family-lens report's sessions from an
// index of 100,000 ready sessions (the design's size for reports), each
// with ten suggested moments, a family lens and metrics as the annotate
// stage writes them for a long meeting (a header of about 5 KB), one in
// seven reviewed with answers to five of its moments, and computes the
// report: what the reports page, GET /api/reports/family and hark report
// --family pay on every run. Filling the index takes a minute or two.
func BenchmarkFamilySessions(b *testing.B) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 100000
	cues := []string{hark.CueThreat, hark.CueFearUnmet, hark.CueDismissal, hark.CueQuestionUnanswered, hark.CueFearMet,
		hark.CueReflectionLanded, hark.CueExplainedFirst, hark.CueMonologue, hark.CuePermission, hark.CueAffirmed}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var batch []ImportSession
	var reviews, answers [][]any
	for i := range n {
		key := fmt.Sprintf("bench/%06d.wav", i)
		r := hark.Recording{Schema: hark.SchemaVersion, ID: hark.RecordingID("recordings", key, "e"), Bucket: "recordings", Key: key, ETag: "e",
			DurationSeconds: 4500, Team: fmt.Sprintf("team-%d", i%12), Worker: fmt.Sprintf("w-%d", i%266), MeetingType: "home visit",
			RecordedOn: now.AddDate(0, 0, -i%700).Format(time.DateOnly), Status: hark.StatusReady, CreatedAt: now, UpdatedAt: now}
		a := &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: r.ID, Codebook: "hark-practice", CodebookVersion: "2", Tagger: "rules",
			Metrics: &hark.SessionMetrics{RecordingID: r.ID, Codebook: "hark-practice", CodebookVersion: "2", DurationSeconds: 4500, WorkerTurns: 180,
				Codes: map[string]hark.CodeMetrics{}, Roles: map[hark.Role]hark.RoleMetrics{hark.RoleWorker: {Turns: 180, TalkSeconds: 2600, TalkShare: 0.6},
					hark.RoleParent: {Turns: 170, TalkSeconds: 1700, TalkShare: 0.4}}},
			Family: &hark.FamilyLens{ParentTalkShare: 0.4, ParentTurnShare: 0.48, ParentTurns: 170, ParentInterrupted: 6, ParentQuestions: 12,
				ParentQuestionsAnswered: 9, RightsExplained: i%2 == 0, NextStepsExplained: true, ParentFears: 4, ParentFearsMet: 2}}
		for _, c := range []string{"reflective_listening", "open_question", "directive", "affirmation", "threat_of_escalation", "explaining_process", "asking_permission", "dismissing_parent_view"} {
			a.Metrics.Codes[c] = hark.CodeMetrics{Count: 7, PerHour: 5.6}
		}
		for j, c := range cues {
			seg := 20 + j*30
			a.Moments = append(a.Moments, hark.Moment{Key: hark.MomentKey(c, seg), Rank: j + 1, Kind: hark.CueKind(c), Cue: c,
				Start: float64(seg) * 12, End: float64(seg)*12 + 40, Segments: []int{seg - 1, seg, seg + 1, seg + 2},
				Reason: "The parent said they were frightened about what would happen next; the worker's next turn moved on to the school's report without taking it up, and the parent said little after that.",
				Score:  9.5 - float64(j)/2})
		}
		s := ImportSession{Recording: r, Annotations: a}
		if i%7 == 0 {
			s.ReviewState = hark.ReviewInProgress
			var ds []hark.SuggestionDecision
			for j, c := range cues[:5] {
				st := hark.SuggestionAccepted
				if j%2 == 1 {
					st = hark.SuggestionDismissed
				}
				ds = append(ds, hark.SuggestionDecision{Key: hark.MomentKey(c, 20+j*30), Cue: c, State: st, By: "coach", At: now})
			}
			col := encodeAnswers(ds)
			reviews = append(reviews, []any{r.ID, 1, `{"suggestions":[]}`, db.dialect.time(now)})
			answers = append(answers, []any{col, r.ID})
		}
		batch = append(batch, s)
		if len(batch) == 1000 {
			if err := db.ImportSessions(ctx, batch); err != nil {
				b.Fatal(err)
			}
			if err := db.tx(ctx, "bench reviews", func(tx *sql.Tx) error {
				if err := db.bulkInsert(ctx, tx, "reviews", []string{"recording_id", "version", "doc", "updated_at"}, reviews); err != nil {
					return err
				}
				for _, a := range answers {
					if _, err := tx.ExecContext(ctx, `UPDATE family_moments SET answers = $1 WHERE recording_id = $2`, a...); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			batch, reviews, answers = batch[:0], reviews[:0], answers[:0]
		}
	}
	q, err := report.Query{}.Normalize()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.FamilySessions(ctx, q); err != nil { // the first report recounts every session
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		ss, err := db.FamilySessions(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(ss) != n {
			b.Fatalf("%d sessions, want %d", len(ss), n)
		}
		report.ComputeFamily(q, ss)
	}
}
