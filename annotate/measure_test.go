package annotate

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/harkworks/hark"
)

// metricsFixture is a short meeting with hand-made tags; the expected
// figures in TestSessionMetrics are worked out from it by hand.
func metricsFixture() (*hark.Transcript, *hark.Annotations) {
	seg := func(i int, start, end float64, role hark.Role, text string) hark.Segment {
		return hark.Segment{Index: i, Start: start, End: end, Speaker: string(role), Role: role, Text: text, Confidence: 1}
	}
	t := &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: "rec_metrics", Segments: []hark.Segment{
		seg(0, 0, 10, hark.RoleWorker, "Hello, thanks for seeing me. How have the mornings been?"),
		seg(1, 10, 30, hark.RoleParent, "Hard. He won't get up and I end up shouting."),
		seg(2, 31, 36, hark.RoleWorker, "So the mornings end in shouting."),
		seg(3, 36, 40, hark.RoleWorker, "Did he get to school on time today?"),
		seg(4, 41, 45, hark.RoleParent, "No."),
		seg(5, 45, 60, hark.RoleParent, "He was late again, and the school rang me at work."),
		seg(6, 61, 70, hark.RoleWorker, "That sounds stressful. Is it okay if I share what the school told me?"),
		seg(7, 70, 72, hark.RoleParent, "Go on."),
		seg(8, 72, 75, hark.RoleUnknown, "Mm."),
	}}
	a := &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: "rec_metrics", Codebook: "hark-practice", CodebookVersion: "2026.11.1", Tags: []hark.Tag{
		{Segment: 0, Code: codeOpenQ, Review: hark.ReviewAccepted},
		{Segment: 2, Code: codeReflection, Review: hark.ReviewPending},
		{Segment: 6, Code: codeReflection, Review: hark.ReviewPending},
		{Segment: 6, Code: codePermission, Review: hark.ReviewRejected}, // a coach said no
		{Segment: 99, Code: codeDirective},                              // no such segment
	}}
	return t, a
}

func TestMeasureSession(t *testing.T) {
	tr, a := metricsFixture()
	m := MeasureSession(tr, a)

	// Duration 75 s. Tags: one open question and two reflections count;
	// the rejected permission and the tag on a missing segment do not.
	// Closed questions: "Did he get...?" (segment 3) and "Is it okay
	// if...?" (segment 6); segment 0 has an open question. Ratio 2 / (1 + 2).
	// Worker: 10 + 5 + 4 + 9 = 28 s in three turns (0; 2–3; 6), the longest
	// 0–10. Parent: 20 + 4 + 15 + 2 = 41 s in three turns (1; 4–5; 7), the
	// longest 10–30 (the 4–5 turn runs 41–60, 19 s). Unknown: 3 s. All: 72 s.
	want := hark.SessionMetrics{
		RecordingID: "rec_metrics", Codebook: "hark-practice", CodebookVersion: "2026.11.1",
		DurationSeconds: 75,
		WorkerTurns:     3,
		Codes: map[string]hark.CodeMetrics{
			codeOpenQ:      {Count: 1, PerHour: 48},
			codeReflection: {Count: 2, PerHour: 96},
		},
		Reflections: 2, OpenQuestions: 1, ClosedQuestions: 2,
		Roles: map[hark.Role]hark.RoleMetrics{
			hark.RoleWorker:  {Turns: 3, TalkSeconds: 28, TalkShare: 28.0 / 72, LongestMonologueSeconds: 10},
			hark.RoleParent:  {Turns: 3, TalkSeconds: 41, TalkShare: 41.0 / 72, LongestMonologueSeconds: 20},
			hark.RoleUnknown: {Turns: 1, TalkSeconds: 3, TalkShare: 3.0 / 72, LongestMonologueSeconds: 3},
		},
	}
	if m.ReflectionToQuestion == nil || !near(*m.ReflectionToQuestion, 2.0/3) {
		t.Errorf("reflection to question %v; want 2/3", m.ReflectionToQuestion)
	}
	m.ReflectionToQuestion = nil
	if got, exp := jsonOf(t, m), jsonOf(t, want); !sameNumbers(got, exp) {
		t.Errorf("metrics\n got %s\nwant %s", got, exp)
	}
}

func TestSessionMetricsWithoutTags(t *testing.T) {
	tr, _ := metricsFixture()
	m := MeasureSession(tr, nil)
	// Without tags there are no open questions or reflections; the
	// question of segment 0 is open in form, so it is not counted as
	// closed, and the closed questions are the same two.
	if m.OpenQuestions != 0 || m.ClosedQuestions != 2 || m.Reflections != 0 || len(m.Codes) != 0 {
		t.Errorf("got %+v", m)
	}
	if m.ReflectionToQuestion == nil || *m.ReflectionToQuestion != 0 {
		t.Errorf("ratio %v; want 0", m.ReflectionToQuestion)
	}
	empty := MeasureSession(&hark.Transcript{}, nil)
	if empty.DurationSeconds != 0 || empty.ReflectionToQuestion != nil || empty.WorkerTurns != 0 || len(empty.Roles) != 0 {
		t.Errorf("empty transcript: %+v", empty)
	}
	if b, err := json.Marshal(empty); err != nil || string(b) == "" {
		t.Errorf("marshal: %v", err)
	}
}

// SessionMetrics on the rule tagger's own tags of a role-play meeting.
func TestSessionMetricsOfMeeting(t *testing.T) {
	tr := readMeeting(t, "partnership")
	a, err := newTestTagger(t).Tag(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	m := MeasureSession(tr, a)
	if m.Reflections < 2 || m.OpenQuestions < 3 || m.ReflectionToQuestion == nil {
		t.Errorf("got %+v", m)
	}
	if share := m.Roles[hark.RoleWorker].TalkShare + m.Roles[hark.RoleParent].TalkShare; !near(share, 1) {
		t.Errorf("talk shares add up to %v", share)
	}
}

func jsonOf(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// sameNumbers compares decoded JSON, numbers to within rounding.
func sameNumbers(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !sameNumbers(x[k], y[k]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && math.Abs(x-y) < 1e-9
	default:
		return a == b
	}
}
