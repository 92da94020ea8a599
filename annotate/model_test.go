package annotate

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// praiseData is transcripts in which a worker praises with words the
// rules do not know ("top marks from me"), and says plain things
// otherwise; the praise is coded affirmation.
func praiseData(n int) []LabelledTranscript {
	praise := []string{"Honestly, top marks from me, getting them there.", "Getting him to nursery each day, top marks from me.",
		"Top marks from me for the way you stuck at it.", "You kept at it all week, top marks from me."}
	plain := []string{"The next review is on the fourteenth at ten.", "I'll send the letter to you by Friday.",
		"The nursery opens at eight, I think.", "I've got the form here in my bag."}
	var out []LabelledTranscript
	for i := 0; i < n; i++ {
		t := &hark.Transcript{RecordingID: fmt.Sprintf("t%02d", i)}
		var labels [][]string
		for k := 0; k < 4; k++ {
			t.Segments = append(t.Segments, hark.Segment{Index: 2 * k, Speaker: "Sam", Role: hark.RoleParent, Text: "We got there in the end, every morning."})
			labels = append(labels, nil)
			if (i+k)%2 == 0 {
				t.Segments = append(t.Segments, hark.Segment{Index: 2*k + 1, Speaker: "Jo", Role: hark.RoleWorker, Text: praise[(i+k)%4]})
				labels = append(labels, []string{codeAffirmation})
			} else {
				t.Segments = append(t.Segments, hark.Segment{Index: 2*k + 1, Speaker: "Jo", Role: hark.RoleWorker, Text: plain[(i+k)%4]})
				labels = append(labels, nil)
			}
		}
		out = append(out, LabelledTranscript{Transcript: t, Labels: labels})
	}
	return out
}

func praiseModel(t *testing.T) (*RuleTagger, *Model) {
	t.Helper()
	rt, err := NewRuleTagger(DefaultCodebook())
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(context.Background(), praiseData(24), TrainConfig{Rules: rt, Codes: []string{codeAffirmation}, Version: "test", MinPositives: 5})
	if err != nil {
		t.Fatal(err)
	}
	return rt, m
}

// The model learns praise the rules miss, tags it with the sentence that
// carries it as evidence, and leaves plain talk alone.
func TestModelLearnsWhatRulesMiss(t *testing.T) {
	rt, m := praiseModel(t)
	test := &hark.Transcript{RecordingID: "new", Segments: []hark.Segment{
		{Index: 0, Speaker: "Sam", Role: hark.RoleParent, Text: "He went every day this week."},
		{Index: 1, Speaker: "Jo", Role: hark.RoleWorker, Text: "Right. Every single day, top marks from me on that. Shall we look at the form?"},
		{Index: 2, Speaker: "Sam", Role: hark.RoleParent, Text: "Go on then."},
		{Index: 3, Speaker: "Jo", Role: hark.RoleWorker, Text: "The review is on the fourteenth."},
	}}
	ra, err := rt.Tag(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range ra.Tags {
		if tag.Code == codeAffirmation {
			t.Fatalf("the rules already find the praise: the test proves nothing (%+v)", tag)
		}
	}
	mt, err := NewModelTagger(rt, m)
	if err != nil {
		t.Fatal(err)
	}
	a, err := mt.Tag(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	var got []hark.Tag
	for _, tag := range a.Tags {
		if tag.Code == codeAffirmation {
			got = append(got, tag)
		}
	}
	if len(got) != 1 || got[0].Segment != 1 || got[0].Source != SourceModel || got[0].Evidence != "Every single day, top marks from me on that." ||
		got[0].Confidence < m.Codes[codeAffirmation].Threshold {
		t.Errorf("affirmation tags %+v, want one on turn 1 with the praise as evidence", got)
	}
	if !strings.HasPrefix(a.Tagger, "rules+model:test") {
		t.Errorf("tagger %q", a.Tagger)
	}
	// Other codes keep the rules' tags.
	for _, tag := range ra.Tags {
		found := false
		for _, x := range a.Tags {
			found = found || x.Segment == tag.Segment && x.Code == tag.Code
		}
		if !found {
			t.Errorf("the rules' %s on turn %d is gone", tag.Code, tag.Segment)
		}
	}
}

// The same data and options give the same model, byte for byte; it reads
// back as it was written.
func TestTrainDeterministic(t *testing.T) {
	_, a := praiseModel(t)
	_, b := praiseModel(t)
	var ja, jb bytes.Buffer
	if err := a.Write(&ja); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(&jb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ja.Bytes(), jb.Bytes()) {
		t.Error("two trainings on the same data differ")
	}
	back, err := ReadModel("m.json", bytes.NewReader(ja.Bytes()), DefaultCodebook())
	if err != nil {
		t.Fatal(err)
	}
	if back.Version != "test" || len(back.Features) != len(a.Features) || back.Codes[codeAffirmation].Threshold != a.Codes[codeAffirmation].Threshold {
		t.Errorf("read back %+v", back.Codes[codeAffirmation])
	}
}

func TestReadModelErrors(t *testing.T) {
	cb := DefaultCodebook()
	for _, tt := range []struct{ file, want string }{
		{`{not json`, "not a hark model file"},
		{`{"schema": 9, "codebook": "hark-practice"}`, "layout 9"},
		{`{"schema": 1, "codebook": "other"}`, `trained for codebook "other"`},
		{`{"schema": 1, "codebook": "hark-practice", "codes": {"gossip": {}}}`, `code "gossip"`},
		{`{"schema": 1, "codebook": "hark-practice", "features": ["w:a"], "codes": {"affirmation": {"feature": [3], "weight": [1]}}}`, "out of range"},
		{`{"schema": 1, "codebook": "hark-practice", "features": ["w:a", "w:a"], "codes": {}}`, "twice"},
	} {
		_, err := ReadModel("m.json", strings.NewReader(tt.file), cb)
		if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want EINVALID with %q", tt.file, err, tt.want)
		}
	}
}

// hark's own model fits hark's own codebook and has every code.
func TestDefaultModel(t *testing.T) {
	cb := DefaultCodebook()
	m, err := DefaultModel(cb)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cb.Codes {
		if m.Codes[c.ID] == nil {
			t.Errorf("hark's own model has no %s", c.ID)
		}
	}
}

// A reviewed session becomes training data: accepted (as recoded) and
// added tags are its codes; rejected and pending ones are not; a session
// whose review is not complete is not used.
func TestFromReview(t *testing.T) {
	sess := &hark.Session{
		Transcript: &hark.Transcript{Segments: []hark.Segment{{Index: 0, Text: "a"}, {Index: 1, Text: "b"}, {Index: 2, Text: "c"}}},
		Annotations: &hark.Annotations{Tags: []hark.Tag{
			{Segment: 0, Code: "open_question", Review: hark.ReviewAccepted},
			{Segment: 0, Code: "directive", Review: hark.ReviewRejected},
			{Segment: 1, Code: "affirmation", OrigCode: "reflective_listening", Review: hark.ReviewAccepted},
			{Segment: 2, Code: "directive", Review: hark.ReviewPending},
			{Segment: 2, Code: "shared_concern", Source: hark.SourceCoach, Review: hark.ReviewAccepted},
		}},
		Review: &hark.ReviewDoc{State: hark.ReviewComplete},
	}
	lt, ok := FromReview(sess)
	if !ok || fmt.Sprint(lt.Labels) != "[[open_question] [affirmation] [shared_concern]]" {
		t.Errorf("labels %v, %v", lt.Labels, ok)
	}
	sess.Review.State = hark.ReviewInProgress
	if _, ok := FromReview(sess); ok {
		t.Error("an unfinished review is training data")
	}
}

// Cross-validation measures the rules and the model on folds the model
// did not see: on the praise data the model finds what the rules do not.
func TestCrossValidate(t *testing.T) {
	rt, _ := praiseModel(t)
	before, after, err := CrossValidate(context.Background(), praiseData(20), TrainConfig{Rules: rt, Codes: []string{codeAffirmation}, MinPositives: 5}, 4, []string{codeAffirmation})
	if err != nil {
		t.Fatal(err)
	}
	if before[0].Gold != 40 || after[0].Gold != 40 || before[0].F1 > 0.1 || after[0].F1 < 0.9 {
		t.Errorf("before %+v\nafter %+v", before[0], after[0])
	}
	if _, _, err := CrossValidate(context.Background(), praiseData(3), TrainConfig{Rules: rt}, 4, []string{codeAffirmation}); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("3 transcripts, 4 folds: %v", err)
	}
}

// BenchmarkModelTagger tags a synthetic one-hour meeting of 700 turns with
// the rules and hark's own model.
func BenchmarkModelTagger(b *testing.B) {
	cb := DefaultCodebook()
	rt, err := NewRuleTagger(cb)
	if err != nil {
		b.Fatal(err)
	}
	m, err := DefaultModel(cb)
	if err != nil {
		b.Fatal(err)
	}
	mt, err := NewModelTagger(rt, m)
	if err != nil {
		b.Fatal(err)
	}
	tr := syntheticMeeting(700)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := mt.Tag(ctx, tr); err != nil {
			b.Fatal(err)
		}
	}
}

// With rule tags dropped, a code in KeepRulesFor keeps every rule tag all
// the same: its rule threshold is 0, where the others' is not.
func TestKeepRulesFor(t *testing.T) {
	rt, err := NewRuleTagger(DefaultCodebook())
	if err != nil {
		t.Fatal(err)
	}
	var data []LabelledTranscript
	for i := 0; i < 24; i++ {
		tr := &hark.Transcript{RecordingID: fmt.Sprintf("k%02d", i)}
		var labels [][]string
		for k, l := range []struct {
			text string
			code []string
		}{
			{"You need to sign the form for the school today.", []string{codeDirective}},
			{"We got there in the end, every morning.", nil},
			{"You need to know the review went really well, honestly.", nil}, // the rules call it a direction; the coders do not
			{"Okay.", nil},
		} {
			role := hark.RoleWorker
			if k%2 == 1 {
				role = hark.RoleParent
			}
			tr.Segments = append(tr.Segments, hark.Segment{Index: k, Role: role, Speaker: string(role), Text: l.text})
			labels = append(labels, l.code)
		}
		data = append(data, LabelledTranscript{Transcript: tr, Labels: labels})
	}
	a := tagFor(t, data[0].Transcript)
	if !slices.Equal(codesOfSegment(a, 2), []string{codeDirective}) {
		t.Fatalf("the rules do not tag the third turn a direction: %v", a.Tags)
	}
	cfg := TrainConfig{Rules: rt, Codes: []string{codeDirective}, MinPositives: 5}
	dropped, err := Train(context.Background(), data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.KeepRulesFor = []string{codeDirective}
	kept, err := Train(context.Background(), data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d, k := dropped.Codes[codeDirective].RuleThreshold, kept.Codes[codeDirective].RuleThreshold; d == 0 || k != 0 {
		t.Errorf("rule thresholds: %v dropping, %v keeping the directive's rule tags", d, k)
	}
}

func codesOfSegment(a *hark.Annotations, seg int) []string {
	var out []string
	for _, t := range a.Tags {
		if t.Segment == seg {
			out = append(out, t.Code)
		}
	}
	return out
}

// L2For holds one code's weights closer to zero than L2 does.
func TestL2For(t *testing.T) {
	rt, _ := praiseModel(t)
	size := func(cfg TrainConfig) float64 {
		m, err := Train(context.Background(), praiseData(24), cfg)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, w := range m.Codes[codeAffirmation].Weight {
			s += w * w
		}
		return s
	}
	cfg := TrainConfig{Rules: rt, Codes: []string{codeAffirmation}, MinPositives: 5}
	plain := size(cfg)
	cfg.L2For = map[string]float64{codeAffirmation: 0.1}
	if held := size(cfg); !(held < plain/2) {
		t.Errorf("sum of squared weights %.3f with L2 0.1 for the code, %.3f without", held, plain)
	}
}
