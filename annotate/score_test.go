package annotate

import (
	"context"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// prefixTagger tags worker segments by how their text starts, so that the
// scores of a test depend only on the labels.
type prefixTagger map[string]string // prefix → code

func (p prefixTagger) Name() string { return "prefix" }

func (p prefixTagger) Tag(_ context.Context, t *hark.Transcript) (*hark.Annotations, error) {
	a := &hark.Annotations{Tagger: "prefix"}
	for _, s := range t.Segments {
		if s.Role != hark.RoleWorker {
			continue
		}
		for prefix, code := range p {
			if strings.HasPrefix(s.Text, prefix) {
				a.Tags = append(a.Tags, hark.Tag{Segment: s.Index, Code: code, Start: 0, End: len(s.Text), Evidence: s.Text})
			}
		}
	}
	return a, nil
}

func TestReadAnnoMI(t *testing.T) {
	f, err := os.Open("testdata/annomi-tiny.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	convs, err := ReadAnnoMI(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 2 {
		t.Fatalf("got %d conversations, want 2", len(convs))
	}
	first, second := convs[0], convs[1]
	if first.Transcript.RecordingID != "annomi-0" || second.Transcript.RecordingID != "annomi-2" {
		t.Errorf("conversations %q, %q; want annomi-0 then annomi-2", first.Transcript.RecordingID, second.Transcript.RecordingID)
	}
	if n := len(first.Transcript.Segments); n != 8 {
		t.Errorf("first conversation has %d segments, want 8", n)
	}
	// The rows of the second conversation are out of order in the file.
	segs := second.Transcript.Segments
	if len(segs) != 9 || segs[0].Text != "How has work been this week?" || segs[1].Text != "Busy. I barely sleep." {
		t.Fatalf("second conversation out of order: %+v", segs[:2])
	}
	if segs[0].Role != hark.RoleWorker || segs[1].Role != hark.RoleParent {
		t.Errorf("roles %s, %s; want worker, parent", segs[0].Role, segs[1].Role)
	}
	if segs[0].Start != 2 || segs[0].End != 6 || segs[8].Start != 27 || segs[8].End != 30 {
		t.Errorf("times: first %v–%v, last %v–%v; want 2–6 and 27–30", segs[0].Start, segs[0].End, segs[8].Start, segs[8].End)
	}
	want := [][]string{
		{codeOpenQ}, nil,
		{codeOpenQ}, // two of three annotators said open
		nil,
		{codeReflection}, nil,
		{codePlanning}, // reflection is a tie (1 of 2), negotiation is 2 of 2
		nil,
		nil, // advice is a tie (1 of 2)
	}
	if !reflect.DeepEqual(second.Labels, want) {
		t.Errorf("labels\n got %v\nwant %v", second.Labels, want)
	}
	if got := first.Labels[2]; !reflect.DeepEqual(got, []string{codeReflection}) {
		t.Errorf("a reflection by two of three annotators: labels %v", got)
	}
}

func TestReadAnnoMIErrors(t *testing.T) {
	for _, tc := range []struct{ name, csv, want string }{
		{"empty", "", "no header row"},
		{"missing column", "transcript_id,utterance_id,interlocutor\n0,0,therapist\n", `no "utterance_text" column`},
		{"bad id", "transcript_id,utterance_id,interlocutor,utterance_text,reflection_exists,question_subtype,therapist_input_subtype\n0,x,therapist,Hi,False,n/a,n/a\n", "line 2"},
		{"short row", "transcript_id,utterance_id,interlocutor,utterance_text,reflection_exists,question_subtype,therapist_input_subtype\n0,1\n", "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadAnnoMI(strings.NewReader(tc.csv))
			if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want EINVALID containing %q", err, tc.want)
			}
		})
	}
}

func TestScoreAnnoMI(t *testing.T) {
	f, err := os.Open("testdata/annomi-tiny.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tg := prefixTagger{"So": codeReflection, "You're": codeReflection, "What": codeOpenQ, "How": codeOpenQ, "You should": codeDirective}
	got, err := ScoreAnnoMI(context.Background(), f, tg)
	if err != nil {
		t.Fatal(err)
	}
	// Worked out by hand from the labels in TestReadAnnoMI:
	//   reflections tagged: "So your sister…" (labelled), "You're exhausted." (labelled),
	//     "So, let's look…" (a tie, so not labelled) → TP 2, FP 1, FN 0.
	//   open questions tagged: "What brings…", "How has work…" (both labelled);
	//     "Did you see the doctor?" is labelled open but not tagged → TP 2, FP 0, FN 1.
	//   directives tagged: "You should cut down…" (advice), "You should keep…" (a tie)
	//     → TP 1, FP 1, FN 0.
	want := map[string]Score{
		codeReflection: {TruePositives: 2, FalsePositives: 1, Precision: 2.0 / 3, Recall: 1, F1: 0.8},
		codeOpenQ:      {TruePositives: 2, FalseNegatives: 1, Precision: 1, Recall: 2.0 / 3, F1: 0.8},
		codeDirective:  {TruePositives: 1, FalsePositives: 1, Precision: 0.5, Recall: 1, F1: 2.0 / 3},
	}
	if len(got) != len(want) {
		t.Errorf("scored %d codes, want %d: %v", len(got), len(want), got)
	}
	for code, w := range want {
		g := got[code]
		if g.TruePositives != w.TruePositives || g.FalsePositives != w.FalsePositives || g.FalseNegatives != w.FalseNegatives ||
			!near(g.Precision, w.Precision) || !near(g.Recall, w.Recall) || !near(g.F1, w.F1) {
			t.Errorf("%s: got %+v, want %+v", code, g, w)
		}
	}
}

func TestScoreAnnoMIRuleTagger(t *testing.T) {
	f, err := os.Open("testdata/annomi-tiny.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rt, err := NewRuleTagger(DefaultCodebook())
	if err != nil {
		t.Fatal(err)
	}
	got, err := ScoreAnnoMI(context.Background(), f, rt)
	if err != nil {
		t.Fatal(err)
	}
	// The rule tagger gets every unambiguous turn of the made-up sessions
	// right; it misses only the yes/no question labelled open.
	if s := got[codeOpenQ]; s.TruePositives != 2 || s.FalsePositives != 0 || s.FalseNegatives != 1 {
		t.Errorf("open_question: %+v", s)
	}
	if s := got[codeReflection]; s.TruePositives != 2 || s.FalseNegatives != 0 {
		t.Errorf("reflective_listening: %+v", s)
	}
	if s := got[codeDirective]; s.TruePositives != 1 || s.FalseNegatives != 0 {
		t.Errorf("directive: %+v", s)
	}
}

func TestScoreEmpty(t *testing.T) {
	got, err := ScoreTagger(context.Background(), prefixTagger{}, nil, []string{codeReflection})
	if err != nil {
		t.Fatal(err)
	}
	if s := got[codeReflection]; s != (Score{}) {
		t.Errorf("no data: got %+v, want zeros", s)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// Each annotator's row is kept apart, and the labels are the majority's:
// two of three say reflection, one of three open question.
func TestReadAnnoMIUtterances(t *testing.T) {
	csv := "transcript_id,utterance_id,interlocutor,utterance_text,reflection_exists,question_subtype,therapist_input_subtype\n" +
		"4,0,therapist,So you feel stuck?,True,open,n/a\n" +
		"4,0,therapist,So you feel stuck?,True,closed,n/a\n" +
		"4,0,therapist,So you feel stuck?,False,closed,advice\n" +
		"4,1,client,I do.,n/a,n/a,n/a\n"
	utts, err := ReadAnnoMIUtterances(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(utts) != 2 || !utts[0].Therapist || utts[1].Therapist || len(utts[0].Votes) != 3 || len(utts[1].Votes) != 1 {
		t.Fatalf("utterances: %+v", utts)
	}
	if v := utts[0].Votes; !slices.Equal(v[0], []string{codeReflection, codeOpenQ}) || !slices.Equal(v[2], []string{codeDirective}) {
		t.Errorf("votes %v", v)
	}
	if l := utts[0].Labels(); !slices.Equal(l, []string{codeReflection}) {
		t.Errorf("labels %v, want the majority's reflection alone", l)
	}
	if l := utts[1].Labels(); l != nil {
		t.Errorf("a client's labels %v, want none", l)
	}
}
