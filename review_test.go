package hark

import (
	"testing"
	"time"
)

func TestCorrect(t *testing.T) {
	machine := &Transcript{RecordingID: "rec_x", Segments: []Segment{
		{Index: 0, Speaker: "Speaker 1", Role: RoleParent, Text: "How have the mornings been?"},
		{Index: 1, Speaker: "Speaker 2", Role: RoleWorker, Text: "Hard."},
		{Index: 2, Speaker: "Speaker 3", Role: RoleParent, Text: "Really hard."},
		{Index: 3, Speaker: "Speaker 1", Role: RoleParent, Text: "It sounds like it."},
	}, Speakers: &SpeakerInfo{Source: SpeakersDiarization, Count: 3, Roles: []SpeakerRole{
		{Speaker: "Speaker 1", Role: RoleParent, Confidence: 0.6, Source: RoleFromWords},
		{Speaker: "Speaker 2", Role: RoleWorker, Confidence: 0.6, Source: RoleFromWords},
		{Speaker: "Speaker 3", Role: RoleParent, Confidence: 0.6, Source: RoleFromWords},
	}}}
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	doc := &ReviewDoc{Corrections: []Correction{
		{Kind: CorrectRole, Speaker: "Speaker 1", Role: RoleWorker, By: "sam", At: at},
		{Kind: CorrectRole, Speaker: "Speaker 2", Role: RoleParent, By: "sam", At: at},
		{Kind: CorrectName, Speaker: "Speaker 3", Name: "Speaker 2", By: "sam", At: at}, // one person split in two
		{Kind: CorrectName, Speaker: "Speaker 1", Name: "Jo (worker)", By: "sam", At: at},
		{Kind: CorrectRole, Speaker: "Speaker 9", Role: RoleChild, By: "sam", At: at}, // no such speaker: passed over
	}}
	got := doc.Correct(machine)
	want := []struct {
		speaker string
		role    Role
	}{{"Jo (worker)", RoleWorker}, {"Speaker 2", RoleParent}, {"Speaker 2", RoleParent}, {"Jo (worker)", RoleWorker}}
	for i, w := range want {
		if s := got.Segments[i]; s.Speaker != w.speaker || s.Role != w.role || s.Text != machine.Segments[i].Text {
			t.Errorf("segment %d: %s %s, want %s %s", i, s.Speaker, s.Role, w.speaker, w.role)
		}
	}
	if got.Speakers.Count != 2 || len(got.Speakers.Roles) != 2 ||
		got.Speakers.Roles[0] != (SpeakerRole{Speaker: "Jo (worker)", Role: RoleWorker, Confidence: 1, Source: RoleFromCoach}) ||
		got.Speakers.Roles[1] != (SpeakerRole{Speaker: "Speaker 2", Role: RoleParent, Confidence: 1, Source: RoleFromCoach}) {
		t.Errorf("speakers %+v", got.Speakers)
	}
	// The machine's transcript is kept as it was.
	if machine.Segments[0].Speaker != "Speaker 1" || machine.Segments[0].Role != RoleParent || machine.Speakers.Count != 3 ||
		machine.Speakers.Roles[0].Source != RoleFromWords {
		t.Errorf("the machine's transcript changed: %+v %+v", machine.Segments[0], machine.Speakers)
	}
	if (&ReviewDoc{}).Correct(machine) != machine {
		t.Error("no corrections: not the transcript itself")
	}
}

func TestCorrectionCheck(t *testing.T) {
	tr := &Transcript{Segments: []Segment{{Speaker: "Speaker 1"}}}
	for _, tt := range []struct {
		c  Correction
		ok bool
	}{
		{Correction{Kind: CorrectRole, Speaker: "Speaker 1", Role: RoleWorker}, true},
		{Correction{Kind: CorrectRole, Speaker: "Speaker 1", Role: RoleUnknown}, true},
		{Correction{Kind: CorrectRole, Speaker: "Speaker 1", Role: "boss"}, false},
		{Correction{Kind: CorrectRole, Speaker: "Nobody", Role: RoleWorker}, false},
		{Correction{Kind: CorrectName, Speaker: "Speaker 1", Name: "Jo"}, true},
		{Correction{Kind: CorrectName, Speaker: "Speaker 1", Name: "  "}, false},
		{Correction{Kind: CorrectName, Speaker: "Speaker 1", Name: string(make([]byte, MaxSpeakerName+1))}, false},
		{Correction{Kind: "merge", Speaker: "Speaker 1"}, false},
	} {
		if err := tt.c.Check(tr); (err == nil) != tt.ok || (err != nil && ErrorCode(err) != EINVALID) {
			t.Errorf("%+v: %v", tt.c, err)
		}
	}
}
