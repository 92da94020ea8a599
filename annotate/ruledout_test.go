package annotate

import (
	"context"
	"slices"
	"testing"

	"github.com/harkworks/hark"
)

// The codebook's ruled_out_by: a worker turn that gives the parent's words
// back while telling them what to do, or explaining the process, is a
// directive or an explanation and not also a reflection; the rules alone
// would give it both.
func TestRuledOutBy(t *testing.T) {
	rt, err := NewRuleTagger(DefaultCodebook())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ parent, worker, other string }{
		{"I'm on my own in the mornings and they're chaos, I can't get him up.", "So the mornings are chaos. You need to get him up at seven.", "directive"},
		{"I'm on my own in the mornings and they're chaos, I can't get him up.", "So you're on your own in the mornings. The next step is a review conference in March.", "explaining_process"},
	} {
		tr := &hark.Transcript{RecordingID: "r", Segments: []hark.Segment{
			{Index: 0, Start: 0, End: 4, Speaker: "P", Role: hark.RoleParent, Text: tc.parent},
			{Index: 1, Start: 4, End: 9, Speaker: "W", Role: hark.RoleWorker, Text: tc.worker},
		}}
		codes := func(tags []hark.Tag) []string {
			var out []string
			for _, tg := range tags {
				if tg.Segment == 1 {
					out = append(out, tg.Code)
				}
			}
			return out
		}
		raw, err := rt.tag(context.Background(), tr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(raw.Tags); !slices.Contains(got, "reflective_listening") || !slices.Contains(got, tc.other) {
			t.Fatalf("%q: the rules alone give %v; the test wants a turn they give both reflective_listening and %s", tc.worker, got, tc.other)
		}
		ann, err := rt.Tag(context.Background(), tr)
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(ann.Tags); slices.Contains(got, "reflective_listening") || !slices.Contains(got, tc.other) {
			t.Errorf("%q: tagged %v, want %s and no reflection", tc.worker, got, tc.other)
		}
	}
}
