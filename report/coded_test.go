package report

import (
	"reflect"
	"testing"

	"github.com/harkworks/hark"
)

// A session's units of agreement come from the coders' complete reviews:
// accepted machine tags under the coder's code, the coder's own tags, not
// pending or rejected ones; a coder whose review is in hand is left out.
func TestCodedSession(t *testing.T) {
	tr := &hark.Transcript{Segments: []hark.Segment{{Index: 0, Start: 0, End: 4}, {Index: 1, Start: 4, End: 9}}}
	s := CodedSession("rec_1", tr, map[string]CoderView{
		"sam": {State: hark.ReviewComplete, Tags: []hark.Tag{
			{Segment: 0, Code: "open_question", Review: hark.ReviewAccepted, Source: hark.SourceRules},
			{Segment: 0, Code: "reflective_listening", Review: hark.ReviewPending, Source: hark.SourceRules},
			{Segment: 1, Code: "affirmation", Review: hark.ReviewAccepted, Source: hark.SourceCoach},
		}},
		"alex": {State: hark.ReviewComplete, Tags: []hark.Tag{
			{Segment: 0, Code: "open_question", Review: hark.ReviewRejected, Source: hark.SourceRules},
			{Segment: 0, Code: "reflective_listening", Review: hark.ReviewAccepted, Source: hark.SourceRules, OrigCode: "open_question"},
		}},
		"kim": {State: hark.ReviewInProgress, Tags: []hark.Tag{{Segment: 0, Code: "open_question", Review: hark.ReviewAccepted}}},
	})
	want := []CodedUnit{
		{Start: 0, End: 4, Codes: map[string][]string{"sam": {"open_question"}, "alex": {"reflective_listening"}}},
		{Start: 4, End: 9, Codes: map[string][]string{"sam": {"affirmation"}, "alex": {}}},
	}
	if s.Session != "rec_1" || !reflect.DeepEqual(s.Segments, want) {
		t.Errorf("units %+v, want %+v", s.Segments, want)
	}
}
