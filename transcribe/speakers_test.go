package transcribe

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

func TestAssignSpeakers(t *testing.T) {
	turns := []diarize.Turn{
		{Start: 0, End: 4, Speaker: "S1"},
		{Start: 4.2, End: 4.5, Speaker: "S2"}, // a blip inside S1's talk
		{Start: 4.5, End: 8, Speaker: "S1"},
		{Start: 8.3, End: 12, Speaker: "S2"},
	}
	segs := []hark.Segment{
		{Start: 0.5, End: 3.5, Text: "one two three"},
		{Start: 3.8, End: 7.9, Text: "a b c d"},                     // across the blip: stays S1
		{Start: 6, End: 12, Text: "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10"}, // S1 6–8, S2 from 8 (the pause goes to the next speaker)
		{Start: 20, End: 21, Text: "after every turn"},
	}
	got := assignSpeakers(segs, turns)
	want := []hark.Segment{
		{Index: 0, Start: 0.5, End: 3.5, Speaker: "Speaker 1", Text: "one two three"},
		{Index: 1, Start: 3.8, End: 7.9, Speaker: "Speaker 1", Text: "a b c d"},
		{Index: 2, Start: 6, End: 8, Speaker: "Speaker 1", Text: "w1 w2 w3"}, // 10 words × 2 s of 6
		{Index: 3, Start: 8, End: 12, Speaker: "Speaker 2", Text: "w4 w5 w6 w7 w8 w9 w10"},
		{Index: 4, Start: 20, End: 21, Speaker: "", Text: "after every turn"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d segments, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Index != w.Index || g.Speaker != w.Speaker || g.Text != w.Text || !near(g.Start, w.Start) || !near(g.End, w.End) {
			t.Errorf("segment %d: %+v, want %+v", i, g, w)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// The roles of the role-play meetings' speakers, guessed from what they say
// in the reference transcripts with the voices' names taken away: the
// worker must be found in at least nine of the ten.
func TestGuessRolesRolePlay(t *testing.T) {
	dir := filepath.Join("..", "testdata", "speakers")
	f, err := os.Open(filepath.Join(dir, "roles.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]map[string]hark.Role{}
	for _, r := range rows[1:] {
		if truth[r[0]] == nil {
			truth[r[0]] = map[string]hark.Role{}
		}
		truth[r[0]][r[1]] = hark.Role(r[2])
	}
	found := 0
	for meeting, roles := range truth {
		data, err := os.ReadFile(filepath.Join(dir, meeting+".vtt"))
		if err != nil {
			t.Fatal(err)
		}
		segs, err := ParseVTT(meeting+".vtt", data)
		if err != nil {
			t.Fatal(err)
		}
		anon := map[string]string{}
		for i := range segs {
			if _, ok := anon[segs[i].Speaker]; !ok {
				anon[segs[i].Speaker] = "Speaker " + string(rune('1'+len(anon)))
			}
			segs[i].Speaker, segs[i].Role = anon[segs[i].Speaker], hark.RoleUnknown
		}
		guessed := guessRoles(segs)
		var worker string
		for label, a := range anon {
			if roles[label] == hark.RoleWorker {
				worker = a
			}
		}
		ok := false
		for _, g := range guessed {
			if g.Role == hark.RoleWorker && g.Speaker == worker {
				ok = true
			}
			if g.Confidence <= 0 || g.Confidence > 1 || g.Source != hark.RoleFromWords {
				t.Errorf("%s: %+v", meeting, g)
			}
		}
		if ok {
			found++
		} else {
			t.Logf("%s: the worker (%s) was not found: %+v", meeting, worker, guessed)
		}
	}
	if len(truth) < 10 || found < 9 {
		t.Errorf("the worker found in %d of %d meetings, want at least 9 of 10", found, len(truth))
	}
}

func TestSettleRoles(t *testing.T) {
	tr := &hark.Transcript{Segments: []hark.Segment{
		{Speaker: "Speaker 1", Text: "Can you tell me how the mornings have been with your children? It sounds like it's been hard."},
		{Speaker: "Speaker 2", Text: "I'm trying my best, my kids are everything to me."},
		{Speaker: "Speaker 1", Text: "We need to explain what happens next with the child protection plan."},
	}}
	settleRoles(tr, "")
	if tr.Segments[0].Role != hark.RoleWorker || tr.Segments[1].Role != hark.RoleParent || tr.Segments[2].Role != hark.RoleWorker {
		t.Fatalf("roles %+v", tr.Segments)
	}
	if tr.Speakers == nil || len(tr.Speakers.Roles) != 2 || tr.Speakers.Roles[0].Source != hark.RoleFromWords || tr.Speakers.Count != 2 {
		t.Fatalf("speakers %+v", tr.Speakers)
	}
	// A named worker is the upload's word, not a guess.
	tr2 := &hark.Transcript{Segments: []hark.Segment{{Speaker: "Sam", Text: "my kids"}, {Speaker: "Jo", Text: "your rights"}}}
	settleRoles(tr2, "sam")
	if tr2.Segments[0].Role != hark.RoleWorker || tr2.Speakers.Roles[0] != (hark.SpeakerRole{Speaker: "Sam", Role: hark.RoleWorker, Confidence: 1, Source: hark.RoleFromMetadata}) {
		t.Fatalf("named worker: %+v %+v", tr2.Segments, tr2.Speakers.Roles)
	}
	if !strings.EqualFold(string(tr2.Segments[1].Role), "parent") {
		t.Fatalf("the other speaker: %+v", tr2.Segments[1])
	}
}

// A mono meeting through a speech engine: the engine's segments come back
// with the speakers told apart in the audio, in agreement with the
// reference, and the transcript says how they were found.
func TestEngineDiarizesMono(t *testing.T) {
	dir := filepath.Join("..", "testdata", "speakers")
	audio, err := os.ReadFile(filepath.Join(dir, "home-visit.wav"))
	if err != nil {
		t.Fatal(err)
	}
	rf, err := os.Open(filepath.Join(dir, "home-visit.rttm"))
	if err != nil {
		t.Fatal(err)
	}
	refs, err := diarize.ReadRTTM(rf)
	rf.Close()
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeWhisper(t)
	e, _ := testOpenAI(t, f, OpenAIConfig{MaxChunkBytes: DefaultMaxChunkBytes})
	tr, err := e.Transcribe(context.Background(), input("home-visit.wav", "", audio))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Speakers == nil || tr.Speakers.Source != hark.SpeakersDiarization || tr.Speakers.Count != 2 || tr.Speakers.Problem != "" {
		t.Fatalf("speakers %+v, want two found by diarization", tr.Speakers)
	}
	var hyp []diarize.Turn
	for _, s := range tr.Segments {
		if !strings.HasPrefix(s.Speaker, "Speaker ") {
			t.Fatalf("segment %d has speaker %q", s.Index, s.Speaker)
		}
		hyp = append(hyp, diarize.Turn{Start: s.Start, End: s.End, Speaker: s.Speaker})
	}
	ref := refs["home-visit"]
	m := diarize.MapSpeakers(ref, hyp, nil, 0)
	var agree, total float64
	for _, h := range hyp {
		total += h.End - h.Start
		for _, r := range ref {
			if m[h.Speaker] == r.Speaker {
				agree += max(0, min(h.End, r.End)-max(h.Start, r.Start))
			}
		}
	}
	if total == 0 || agree/total < 0.85 {
		t.Errorf("segments agree with the reference speakers for %.0f%% of their time, want at least 85%%", 100*agree/total)
	}
}
