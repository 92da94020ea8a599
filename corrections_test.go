package hark

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func turnsMachine() *Transcript {
	return &Transcript{RecordingID: "rec_t", Segments: []Segment{
		{Index: 0, Start: 0, End: 4, Speaker: "Speaker 1", Role: RoleWorker, Text: "How have the mornings been?", Confidence: 0.8},
		{Index: 1, Start: 4, End: 10, Speaker: "Speaker 1", Role: RoleWorker, Text: "Hard, really hard. It sounds like you are exhausted.", Confidence: 0.6},
		{Index: 2, Start: 10, End: 12, Speaker: "Speaker 2", Role: RoleParent, Text: "I am.", Confidence: 0.9},
	}, Speakers: &SpeakerInfo{Source: SpeakersDiarization, Count: 2, Roles: []SpeakerRole{
		{Speaker: "Speaker 1", Role: RoleWorker, Confidence: 0.7, Source: RoleFromWords},
		{Speaker: "Speaker 2", Role: RoleParent, Confidence: 0.7, Source: RoleFromWords},
	}}}
}

// summary is a transcript's turns as "index speaker/role [start-end] text".
func summary(t *Transcript) []string {
	var out []string
	for _, s := range t.Segments {
		out = append(out, fmt.Sprintf("%d %s/%s [%g-%g] %s", s.Index, s.Speaker, s.Role, s.Start, s.End, s.Text))
	}
	return out
}

func TestSplitTurnToAnotherSpeaker(t *testing.T) {
	machine := turnsMachine()
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	text := machine.Segments[1].Text
	word := strings.Index(text, "It sounds")
	doc := &ReviewDoc{
		Decisions: []Decision{
			{Key: TagKey(1, 0, 4, "open_question"), Review: ReviewRejected},                                 // "Hard": stays on turn 1
			{Key: TagKey(1, word, len(text), "reflective_listening"), Review: ReviewAccepted, Moment: true}, // goes with the words
			{Key: TagKey(1, 6, word+9, "affirmation"), Review: ReviewRejected},                              // across the cut: gone
			{Key: TagKey(2, 0, 5, "shared_concern"), Review: ReviewAccepted},                                // the next turn, renumbered
			{Key: "c:1", Review: ReviewAccepted},                                                            // not a machine key: kept
		},
		Added: []Tag{{Key: "c:1", Segment: 1, Start: word + 3, End: len(text), Code: "reflective_listening", Source: SourceCoach}},
		Notes: []Note{{ID: "n1", Segment: 2, Text: "good"}, {ID: "n2", Segment: -1, Text: "session"}, {ID: "n3", Segment: 1, Text: "turn"}},
	}
	// The diarizer heard the parent's words as the end of the worker's
	// turn: the coach gives the words from "It sounds" on to Speaker 2.
	if err := doc.AddCorrection(machine, Correction{Kind: CorrectMove, Turn: 1, Word: word, Name: " Speaker 2 ", By: "sam", At: at}); err != nil {
		t.Fatal(err)
	}
	got := doc.Correct(machine)
	if len(got.Segments) != 4 {
		t.Fatalf("%d turns, want 4: %q", len(got.Segments), summary(got))
	}
	cut := 4 + 6*float64(word)/float64(len(text))
	want := []Segment{
		machine.Segments[0],
		{Index: 1, Start: 4, End: round3(cut), Speaker: "Speaker 1", Role: RoleWorker, Text: "Hard, really hard.", Confidence: 0.6},
		{Index: 2, Start: round3(cut), End: 10, Speaker: "Speaker 2", Role: RoleParent, Text: "It sounds like you are exhausted.", Confidence: 0.6},
		{Index: 3, Start: 10, End: 12, Speaker: "Speaker 2", Role: RoleParent, Text: "I am.", Confidence: 0.9},
	}
	if !reflect.DeepEqual(got.Segments, want) {
		t.Errorf("turns\n%+v\nwant\n%+v", got.Segments, want)
	}
	if doc.Corrections[0].TurnStart != 4 || doc.Corrections[0].Name != "Speaker 2" {
		t.Errorf("the correction %+v: want the turn's start 4 and the name trimmed", doc.Corrections[0])
	}
	keys := []string{}
	for _, d := range doc.Decisions {
		keys = append(keys, d.Key)
	}
	wantKeys := []string{TagKey(1, 0, 4, "open_question"), TagKey(2, 0, len(text)-word, "reflective_listening"), TagKey(3, 0, 5, "shared_concern"), "c:1"}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("decisions %q, want %q", keys, wantKeys)
	}
	if a := doc.Added[0]; a.Segment != 2 || a.Start != 3 || a.End != len(text)-word {
		t.Errorf("the coach's tag is on turn %d %d–%d, want 2 3–%d", a.Segment, a.Start, a.End, len(text)-word)
	}
	if n := doc.Notes; n[0].Segment != 3 || n[1].Segment != -1 || n[2].Segment != 1 {
		t.Errorf("notes on turns %d %d %d, want 3 -1 1", n[0].Segment, n[1].Segment, n[2].Segment)
	}
	// The machine's transcript is as it was.
	if !reflect.DeepEqual(machine, turnsMachine()) {
		t.Error("the machine's transcript changed")
	}
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

func TestMergeTurns(t *testing.T) {
	machine := turnsMachine()
	doc := &ReviewDoc{Decisions: []Decision{{Key: TagKey(2, 0, 4, "shared_concern"), Review: ReviewAccepted}}}
	if err := doc.AddCorrection(machine, Correction{Kind: CorrectMerge, Turn: 1, By: "sam"}); err != nil {
		t.Fatal(err)
	}
	got := doc.Correct(machine)
	if len(got.Segments) != 2 {
		t.Fatalf("turns %q", summary(got))
	}
	m := got.Segments[1]
	off := len(machine.Segments[1].Text) + 1
	if m.Index != 1 || m.Start != 4 || m.End != 12 || m.Speaker != "Speaker 1" || m.Text != machine.Segments[1].Text+" I am." {
		t.Errorf("merged turn %+v", m)
	}
	if want := (0.6*6 + 0.9*2) / 8; math.Abs(m.Confidence-want) > 1e-9 {
		t.Errorf("confidence %v, want %v (weighted by time)", m.Confidence, want)
	}
	if doc.Decisions[0].Key != TagKey(1, off, off+4, "shared_concern") {
		t.Errorf("decision key %s", doc.Decisions[0].Key)
	}
	// Speaker 2 no longer speaks: the count and roles say so.
	if got.Speakers.Count != 1 || len(got.Speakers.Roles) != 1 || got.Speakers.Roles[0].Speaker != "Speaker 1" {
		t.Errorf("speakers %+v", got.Speakers)
	}
	if err := doc.AddCorrection(machine, Correction{Kind: CorrectMerge, Turn: 1}); err == nil {
		t.Error("merged the last turn with nothing")
	}
}

func TestEditTurnText(t *testing.T) {
	machine := turnsMachine()
	old := machine.Segments[1].Text
	doc := &ReviewDoc{Decisions: []Decision{
		{Key: TagKey(1, strings.Index(old, "It sounds"), len(old), "reflective_listening"), Review: ReviewAccepted},
		{Key: TagKey(1, 0, 4, "open_question"), Review: ReviewRejected},
	}}
	text := "  Hard. It sounds like you are exhausted.  "
	if err := doc.AddCorrection(machine, Correction{Kind: CorrectText, Turn: 1, Text: text, By: "sam"}); err != nil {
		t.Fatal(err)
	}
	got := doc.Correct(machine).Segments[1]
	if got.Text != strings.TrimSpace(text) || got.Confidence != 1 {
		t.Errorf("turn %+v", got)
	}
	// The reflection's words are still there, earlier; "Hard" too, at the
	// same place.
	want := []string{TagKey(1, strings.Index(got.Text, "It sounds"), len(got.Text), "reflective_listening"), TagKey(1, 0, 4, "open_question")}
	if len(doc.Decisions) != 2 || doc.Decisions[0].Key != want[0] || doc.Decisions[1].Key != want[1] {
		t.Errorf("decisions %+v, want %q", doc.Decisions, want)
	}
	// Words edited away take their decision with them.
	if err := doc.AddCorrection(machine, Correction{Kind: CorrectText, Turn: 1, Text: "Hard."}); err != nil {
		t.Fatal(err)
	}
	if len(doc.Decisions) != 1 || doc.Decisions[0].Key != TagKey(1, 0, 4, "open_question") {
		t.Errorf("decisions %+v", doc.Decisions)
	}
}

func TestMoveWholeTurnToNewSpeaker(t *testing.T) {
	machine := turnsMachine()
	doc := &ReviewDoc{}
	if err := doc.AddCorrection(machine, Correction{Kind: CorrectMove, Turn: 2, Name: "Kai", Role: RoleChild}); err != nil {
		t.Fatal(err)
	}
	got := doc.Correct(machine)
	if s := got.Segments[2]; s.Speaker != "Kai" || s.Role != RoleChild || s.Text != "I am." {
		t.Errorf("turn %+v", s)
	}
	if got.Speakers.Count != 2 || got.Speakers.Roles[len(got.Speakers.Roles)-1] != (SpeakerRole{Speaker: "Kai", Role: RoleChild, Confidence: 1, Source: RoleFromCoach}) {
		t.Errorf("speakers %+v", got.Speakers)
	}
	// Given back to Speaker 1, an existing speaker: the turn takes their role.
	if err := doc.AddCorrection(machine, Correction{Kind: CorrectMove, Turn: 2, Name: "Speaker 1", Role: RoleChild}); err != nil {
		t.Fatal(err)
	}
	if s := doc.Correct(machine).Segments[2]; s.Speaker != "Speaker 1" || s.Role != RoleWorker {
		t.Errorf("turn %+v", s)
	}
}

func TestCorrectionsReplayOnlyWhereTheyFit(t *testing.T) {
	machine := turnsMachine()
	doc := &ReviewDoc{}
	for _, c := range []Correction{
		{Kind: CorrectMove, Turn: 1, Word: strings.Index(machine.Segments[1].Text, "It"), Name: "Speaker 2"},
		{Kind: CorrectMerge, Turn: 2},
		{Kind: CorrectText, Turn: 2, Text: "It sounds like you are exhausted. I am, yes."},
		{Kind: CorrectRole, Speaker: "Speaker 1", Role: RoleParent},
	} {
		if err := doc.AddCorrection(machine, c); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
	}
	got := summary(doc.Correct(machine))
	want := []string{"0 Speaker 1/parent [0-4] How have the mornings been?", "1 Speaker 1/parent [4-6.192] Hard, really hard.",
		"2 Speaker 2/parent [6.192-12] It sounds like you are exhausted. I am, yes."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("replayed\n%q\nwant\n%q", got, want)
	}
	// Transcribed again, the turns are elsewhere: the turn corrections are
	// passed over, the speaker's role still stands.
	again := turnsMachine()
	again.Segments[1].Start = 4.5
	got = summary(doc.Correct(again))
	want = []string{"0 Speaker 1/parent [0-4] How have the mornings been?", "1 Speaker 1/parent [4.5-10] Hard, really hard. It sounds like you are exhausted.",
		"2 Speaker 2/parent [10-12] I am."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("on a new transcript\n%q\nwant\n%q", got, want)
	}
}

func TestTurnCorrectionCheck(t *testing.T) {
	tr := turnsMachine()
	text := tr.Segments[1].Text
	for _, tt := range []struct {
		c    Correction
		want string // in the error; "" for none
	}{
		{Correction{Kind: CorrectMove, Turn: 1, TurnStart: 4, Name: "Speaker 2"}, ""},
		{Correction{Kind: CorrectMove, Turn: 1, TurnStart: 4, Name: "Speaker 1"}, "already"},
		{Correction{Kind: CorrectMove, Turn: 1, TurnStart: 4, Word: 6, Name: "Speaker 1"}, ""}, // a split, same speaker
		{Correction{Kind: CorrectMove, Turn: 1, TurnStart: 4, Word: len(text), Name: "Speaker 2"}, "outside"},
		{Correction{Kind: CorrectMove, Turn: 1, TurnStart: 4, Word: -1, Name: "Speaker 2"}, "outside"},
		{Correction{Kind: CorrectMove, Turn: 1, TurnStart: 4, Name: " "}, "name"},
		{Correction{Kind: CorrectMove, Turn: 1, TurnStart: 4, Name: "Kai", Role: "boss"}, "not a role"},
		{Correction{Kind: CorrectMove, Turn: 7, Name: "Kai"}, "reload"},
		{Correction{Kind: CorrectMove, Turn: 1, TurnStart: 3, Name: "Kai"}, "reload"},
		{Correction{Kind: CorrectMerge, Turn: 2, TurnStart: 10}, "last"},
		{Correction{Kind: CorrectText, Turn: 0, Text: "  "}, "empty"},
		{Correction{Kind: CorrectText, Turn: 0, Text: strings.Repeat("a", MaxTurnText+1)}, "too long"},
		{Correction{Kind: CorrectText, Turn: 0, Text: "\xff\xfe"}, "not valid"},
		{Correction{Kind: CorrectText, Turn: 0, Text: tr.Segments[0].Text}, "already says"},
		{Correction{Kind: "split", Turn: 0}, "not a correction"},
	} {
		err := tt.c.Check(tr)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || ErrorCode(err) != EINVALID) {
			t.Errorf("%+v: %v, want %q", tt.c, err, tt.want)
		}
	}
	mid := &Transcript{Segments: []Segment{{Text: "café au lait"}}}
	if err := (Correction{Kind: CorrectMove, Word: 4, Name: "Kai"}).Check(mid); err == nil || !strings.Contains(err.Error(), "middle of a character") {
		t.Errorf("a cut inside é: %v", err)
	}
}
