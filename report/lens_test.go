package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

func lensOf(talk float64, turns, interrupted, questions, answered, fears, met int, rights bool, explainedFirst, permissionFirst *bool) *hark.FamilyLens {
	return &hark.FamilyLens{ParentTalkShare: talk, ParentTurnShare: talk, ParentTurns: turns, ParentInterrupted: interrupted,
		ParentQuestions: questions, ParentQuestionsAnswered: answered, ParentFears: fears, ParentFearsMet: met,
		RightsExplained: rights, NextStepsExplained: rights, ExplainedBeforeDecision: explainedFirst, PermissionBeforeAdvice: permissionFirst}
}

// The family lens over sessions, worked by hand: north has three
// sessions, south one (suppressed at a threshold of 2, and with it the
// smallest other row, since the total would give it away); shares pool
// turns, questions and fears, and average talk; the answers per cue are
// over the reviewed sessions, and count an answer to a moment a later
// annotation no longer suggests under the cue it was given to, as one
// more moment suggested.
func TestComputeFamily(t *testing.T) {
	yes, no := true, false
	ss := []FamilySession{
		{Team: "north", Month: "2026-01", Family: lensOf(0.2, 10, 2, 4, 3, 2, 1, true, &yes, nil),
			Cues: []string{hark.CueThreat, hark.CueFearMet}, Keys: []string{"threat@3", "fear_met@5"}, Reviewed: true, Answers: []hark.SuggestionDecision{
				{Key: "threat@3", Cue: hark.CueThreat, State: hark.SuggestionAccepted},
				{Key: "fear_met@5", Cue: hark.CueFearMet, State: hark.SuggestionDismissed},
				{Key: "monologue@9", Cue: hark.CueMonologue, State: hark.SuggestionAccepted}, // no longer suggested
			}},
		{Team: "north", Month: "2026-01", Family: lensOf(0.4, 6, 0, 0, 0, 0, 0, false, &no, &yes), Cues: []string{hark.CueThreat}, Keys: []string{"threat@2"}, Reviewed: true},
		{Team: "north", Month: "2026-02", Family: lensOf(0.6, 4, 1, 1, 1, 1, 1, true, nil, &no),
			Cues: []string{hark.CueThreat}, Keys: []string{"threat@1"}, Reviewed: true, Answers: []hark.SuggestionDecision{
				{Key: "threat@1", Cue: hark.CueThreat, State: hark.SuggestionAccepted},
				{Key: "threat@8", Cue: hark.CueThreat, State: hark.SuggestionDismissed}, // tagged again since: no longer suggested
			}},
		{Team: "south", Month: "2026-01", Family: lensOf(0.5, 5, 5, 2, 0, 1, 0, false, nil, nil)},
		{Team: "south", Month: "2026-01", Cues: []string{hark.CueThreat}, Keys: []string{"threat@4"}}, // tagged before the family lens; nobody reviewed it
	}
	f := ComputeFamily(Query{By: []Dimension{Team}, MinCell: 1}, ss)
	if len(f.Rows) != 2 || f.Unmeasured != 1 || f.Hidden != 0 {
		t.Fatalf("rows %+v, unmeasured %d", f.Rows, f.Unmeasured)
	}
	n := f.Rows[0]
	eq := func(what string, got *float64, want float64) {
		t.Helper()
		if got == nil || *got < want-1e-9 || *got > want+1e-9 {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	if n.Key[0] != "north" || n.Sessions != 3 || n.ParentTurns != 20 || n.ParentInterrupted != 3 {
		t.Errorf("north: %+v", n)
	}
	eq("talk share, the mean of 0.2, 0.4, 0.6", n.ParentTalkShare, 0.4)
	eq("interrupted, 3 of 20 turns", n.InterruptedShare, 0.15)
	eq("questions answered, 4 of 5", n.QuestionsAnsweredShare, 0.8)
	eq("rights explained, 2 of 3 sessions", n.RightsExplainedShare, 2.0/3)
	eq("explained before a decision, 1 of the 2 sessions with one", n.ExplainedFirstShare, 0.5)
	eq("permission before advice, 1 of the 2 sessions with advice", n.PermissionFirstShare, 0.5)
	eq("fears met, 2 of 3", n.FearsMetShare, 2.0/3)
	if s := f.Rows[1]; s.ExplainedFirstShare != nil || s.PermissionFirstShare != nil || s.QuestionsAnsweredShare == nil || *s.QuestionsAnsweredShare != 0 {
		t.Errorf("south: shares of nothing are nil, of something 0: %+v", s)
	}
	eq("total talk share, the mean of four", f.Total.ParentTalkShare, (0.2+0.4+0.6+0.5)/4)

	// Three reviewed sessions; the last, unreviewed, threat is not
	// counted. Threats: threat@3 accepted, threat@2 unanswered, threat@1
	// accepted, threat@8 (gone since) dismissed.
	if f.Reviewed != 3 || len(f.Cues) != 3 {
		t.Fatalf("reviewed %d, cues %+v", f.Reviewed, f.Cues)
	}
	threat := f.Cues[2]
	if threat.Cue != hark.CueThreat || threat.Sessions != 3 || threat.Suggested != 4 || threat.Answered != 3 || threat.Accepted != 2 || threat.Dismissed != 1 {
		t.Fatalf("threats %+v", threat)
	}
	eq("threats accepted, 2 of 3 answered", threat.AcceptedShare, 2.0/3)
	eq("threats answered, 3 of 4 suggested", threat.AnsweredShare, 0.75)
	if fm := f.Cues[0]; fm.Cue != hark.CueFearMet || fm.Sessions != 1 || fm.Suggested != 1 || fm.Dismissed != 1 || fm.Kind != hark.MomentStrength {
		t.Errorf("fear_met: %+v", fm)
	}
	mono := f.Cues[1]
	if mono.Cue != hark.CueMonologue || mono.Sessions != 1 || mono.Suggested != 1 || mono.Answered != 1 || mono.Accepted != 1 {
		t.Errorf("monologue, answered before a re-annotation dropped it: %+v", mono)
	}
	eq("monologues answered, 1 of 1", mono.AnsweredShare, 1)

	// At a threshold of 2: south (1 session) is suppressed, and north, the
	// only other row, with it; the cue rows under 2 sessions too.
	f = ComputeFamily(Query{By: []Dimension{Team}, MinCell: 2}, ss)
	for _, r := range f.Rows {
		if !r.Suppressed || r.ParentTalkShare != nil || r.Sessions != 0 {
			t.Errorf("row %v not suppressed, or its figures kept: %+v", r.Key, r)
		}
	}
	if f.Total.Suppressed || f.Total.Sessions != 4 {
		t.Errorf("the total: %+v", f.Total)
	}
	if !f.Cues[0].Suppressed || !f.Cues[1].Suppressed || f.Cues[1].Suggested != 0 || f.Cues[2].Suppressed {
		t.Errorf("cues at 2: %+v", f.Cues)
	}
	// By worker, a worker under the threshold is left out altogether, and
	// the one other worker is suppressed, or the total less their row
	// would give the one left out away.
	for i := range ss {
		ss[i].Worker = "w" + ss[i].Team
	}
	f = ComputeFamily(Query{By: []Dimension{Worker}, MinCell: 2}, ss)
	if len(f.Rows) != 1 || f.Rows[0].Key[0] != "wnorth" || !f.Rows[0].Suppressed || f.Rows[0].ParentTalkShare != nil || f.Hidden != 1 {
		t.Errorf("by worker: %+v, hidden %d", f.Rows, f.Hidden)
	}
	// With a third worker of two sessions, the smaller of the two shown
	// is suppressed: the total less both would be the one left out.
	three := append(slices.Clone(ss), FamilySession{Worker: "weast", Family: lensOf(0.1, 2, 0, 0, 0, 0, 0, false, nil, nil)},
		FamilySession{Worker: "weast", Family: lensOf(0.3, 2, 0, 0, 0, 0, 0, false, nil, nil)})
	f = ComputeFamily(Query{By: []Dimension{Worker}, MinCell: 2}, three)
	if len(f.Rows) != 2 || f.Rows[0].Key[0] != "weast" || !f.Rows[0].Suppressed || f.Rows[1].Suppressed || f.Hidden != 1 {
		t.Errorf("by worker, three workers: %+v, hidden %d", f.Rows, f.Hidden)
	}
	f = ComputeFamily(Query{By: []Dimension{Worker}, MinCell: 1}, ss)

	var buf bytes.Buffer
	if err := WriteJSON(&buf, f); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Hidden   int              `json:"hidden_rows"`
		Reviewed int              `json:"reviewed_sessions"`
		Rows     []map[string]any `json:"rows"`
		Cues     []map[string]any `json:"cues"`
	}
	if err := json.Unmarshal(buf.Bytes(), &j); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if j.Hidden != 0 || j.Reviewed != 3 || j.Rows[0]["worker"] != "wnorth" || math.Abs(j.Rows[0]["parent_talk_share"].(float64)-0.4) > 1e-9 || j.Cues[0]["accepted"] != 0.0 {
		t.Errorf("JSON: %s", buf.String())
	}
	buf.Reset()
	if err := f.WriteCSV(&buf, CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\r\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "worker,sessions,parent_talk_share,") || !strings.HasPrefix(lines[1], "wnorth,3,0.4,") || !strings.HasPrefix(lines[2], "wsouth,1,0.5,") {
		t.Errorf("CSV:\n%s", buf.String())
	}
	buf.Reset()
	if err := f.WriteCuesCSV(&buf, CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "threat,reflect,3,4,3,2,1,0.667,0.75,0") || !strings.Contains(buf.String(), "fear_met,strength,1,1,1,0,1,0,1,0") ||
		!strings.Contains(buf.String(), "monologue,reflect,1,1,1,1,0,1,1,0") {
		t.Errorf("cues CSV:\n%s", buf.String())
	}
}

// By meeting type and month, worked by hand: a meeting without a date is
// month "" (empty in CSV), and sorts first; at a threshold of 2 the two
// single sessions are suppressed, and as there are two, the total gives
// neither away and the row of two stands.
func TestComputeFamilyByMeetingTypeAndMonth(t *testing.T) {
	lens := func(talk float64) *hark.FamilyLens { return lensOf(talk, 4, 0, 0, 0, 0, 0, false, nil, nil) }
	ss := []FamilySession{
		{MeetingType: "home visit", Month: "2026-01", Family: lens(0.2)},
		{MeetingType: "home visit", Month: "2026-01", Family: lens(0.4)},
		{MeetingType: "home visit", Family: lens(0.6)},
		{MeetingType: "office meeting", Month: "2026-02", Family: lens(0.5)},
	}
	q := Query{By: []Dimension{MeetingType, Month}, MinCell: 1}
	f := ComputeFamily(q, ss)
	var got []string
	for _, r := range f.Rows {
		got = append(got, fmt.Sprintf("%s|%s: %d %.2f", r.Key[0], r.Key[1], r.Sessions, *r.ParentTalkShare))
	}
	want := []string{"home visit|: 1 0.60", "home visit|2026-01: 2 0.30", "office meeting|2026-02: 1 0.50"}
	if !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	if f.Total.Sessions != 4 || math.Abs(*f.Total.ParentTalkShare-0.425) > 1e-9 {
		t.Errorf("total: %+v", f.Total)
	}
	var buf bytes.Buffer
	if err := f.WriteCSV(&buf, CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\r\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "meeting_type,month,sessions,") || !strings.HasPrefix(lines[1], "home visit,,1,0.6,") ||
		!strings.HasPrefix(lines[4], ",,4,0.425,") {
		t.Errorf("CSV:\n%s", buf.String())
	}

	q.MinCell = 2
	f = ComputeFamily(q, ss)
	if len(f.Rows) != 3 || !f.Rows[0].Suppressed || f.Rows[1].Suppressed || f.Rows[1].Sessions != 2 || !f.Rows[2].Suppressed || f.Rows[2].ParentTalkShare != nil || f.Hidden != 0 {
		t.Errorf("at 2: %+v", f.Rows)
	}
}
