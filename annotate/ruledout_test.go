package annotate

import (
	"context"
	"maps"
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

// The codebook's outweighed_by, with the model: a worker turn that gives
// the parent's words back while sharing the worker's own concern is a
// shared concern; the rules also call it a reflection, and the model,
// not sure of that, lets the shared concern outweigh it. A model sure of
// the reflection keeps it, and the rules alone keep it.
func TestOutweighedBy(t *testing.T) {
	cb := DefaultCodebook()
	rt, err := NewRuleTagger(cb)
	if err != nil {
		t.Fatal(err)
	}
	m, err := DefaultModel(cb)
	if err != nil {
		t.Fatal(err)
	}
	tr := &hark.Transcript{RecordingID: "r", Segments: []hark.Segment{
		{Index: 0, Start: 0, End: 4, Speaker: "P", Role: hark.RoleParent, Text: "I didn't take her to the weigh-in, I was up all night with her and I slept through it."},
		{Index: 1, Start: 4, End: 9, Speaker: "W", Role: hark.RoleWorker, Text: "I hear you, and I'm worried too, because we both want her weight checked properly."},
	}}
	codes := func(tg hark.Tagger) []string {
		t.Helper()
		ann, err := tg.Tag(context.Background(), tr)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tag := range ann.Tags {
			if tag.Segment == 1 {
				out = append(out, tag.Code)
			}
		}
		return out
	}
	if got := codes(rt); !slices.Contains(got, "reflective_listening") {
		t.Fatalf("the rules alone give %v; the test wants a turn they call a reflection", got)
	}
	mt, err := NewModelTagger(rt, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := codes(mt); slices.Contains(got, "reflective_listening") || !slices.Contains(got, "shared_concern") {
		t.Errorf("rules+model: %v, want shared_concern and no reflection", got)
	}
	sure := *m
	sure.Codes = maps.Clone(m.Codes)
	rl := *m.Codes["reflective_listening"]
	rl.Threshold = 0 // every probability is sure
	sure.Codes["reflective_listening"] = &rl
	if mt, err = NewModelTagger(rt, &sure); err != nil {
		t.Fatal(err)
	}
	if got := codes(mt); !slices.Contains(got, "reflective_listening") || !slices.Contains(got, "shared_concern") {
		t.Errorf("rules+model, sure of the reflection: %v, want both", got)
	}
}
