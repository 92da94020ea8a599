package eaf_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/eaf"
	"github.com/harkworks/hark/qda/qdatest"
)

func TestWrite(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	sess := &hark.Session{
		Recording: &hark.Recording{ID: "rec_1", Key: "Team A/home visit.wav", UpdatedAt: at},
		Transcript: &hark.Transcript{Engine: "sidecar", Segments: []hark.Segment{
			{Index: 0, Start: 0.4, End: 3.05, Speaker: "Worker", Role: hark.RoleWorker, Text: "What would you like us to talk about today?"},
			{Index: 1, Start: 3.2, End: 6, Speaker: "Mum", Role: hark.RoleParent, Text: "Léo's school & <the plan>."},
			{Index: 2, Start: 5.5, End: 9, Speaker: "Worker", Role: hark.RoleWorker, Text: "So school is on your mind."},
		}},
		Annotations: &hark.Annotations{Tags: []hark.Tag{
			{Segment: 0, Code: "joint_agenda_setting", Evidence: "What would you like", Source: hark.SourceRules, Review: hark.ReviewAccepted, ReviewedBy: "sam"},
			{Segment: 0, Code: "open_question", Evidence: "What would you like us to talk about today?", Source: hark.SourceRules, Review: hark.ReviewPending},
			{Segment: 2, Code: "reflective_listening", Evidence: "So school is on your mind", Source: hark.SourceCoach, Review: hark.ReviewAccepted, ReviewedBy: "sam"},
			{Segment: 2, Code: "directive", Evidence: "So school", Source: hark.SourceRules, Review: hark.ReviewRejected},
			{Segment: 1, Code: "old_code", Evidence: "school", Source: hark.SourceLLM, Review: hark.ReviewPending},
			{Segment: 2, Code: "open_question", Evidence: "school", Source: hark.SourceRules, Review: hark.ReviewPending},
		}},
	}
	var buf bytes.Buffer
	st, err := eaf.Write(&buf, sess, eaf.Config{Author: "ana", Codebook: annotate.DefaultCodebook()})
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		t.Log(buf.String())
	}
	got := qdatest.ValidateEAF(t, buf.Bytes())
	if got.MediaURL != "Team%20A/home%20visit.wav" {
		t.Errorf("media url %q", got.MediaURL)
	}
	if st.Turns != 3 || st.Tags != 5 {
		t.Errorf("stats %+v", st)
	}
	if w := got.Tiers["Worker"]; len(w) != 2 || w[1] != "So school is on your mind." {
		t.Errorf("worker tier %q", w)
	}
	if m := got.Tiers["Mum"]; len(m) != 1 || m[0] != "Léo's school & <the plan>." {
		t.Errorf("mum tier %q", m)
	}
	if r := got.Tiers["Reflective listening"]; len(r) != 1 || r[0] != "So school is on your mind [added by sam]" || got.Times["Reflective listening"][0] != [2]int64{5500, 9000} {
		t.Errorf("reflective listening tier %q %v", r, got.Times["Reflective listening"])
	}
	if a := got.Tiers["Joint agenda setting"]; len(a) != 1 || !strings.HasSuffix(a[0], "[accepted by sam]") {
		t.Errorf("agenda tier %q", a)
	}
	if _, ok := got.Tiers["Directive"]; ok {
		t.Error("a rejected tag is written")
	}
	if _, ok := got.Tiers["old_code"]; !ok {
		t.Errorf("a code the codebook lacks has no tier: %v", got)
	}
	// Turns 1 and 2 overlap: the open-question tags in turns 0 and 2 do
	// not, so they stay two annotations; overlapping ones on one tier merge.
	if q := got.Tiers["Open question"]; len(q) != 2 {
		t.Errorf("open question tier %q", q)
	}
	var again bytes.Buffer
	if _, err := eaf.Write(&again, sess, eaf.Config{Author: "ana", Codebook: annotate.DefaultCodebook()}); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two exports of the same session differ")
	}
	// Audio written next to the document.
	buf.Reset()
	if _, err := eaf.Write(&buf, sess, eaf.Config{MediaURL: "./out.wav"}); err != nil {
		t.Fatal(err)
	}
	if got := qdatest.ValidateEAF(t, buf.Bytes()); got.MediaURL != "./out.wav" {
		t.Errorf("media url %q", got.MediaURL)
	}
	// Overlapping turns of one speaker merge rather than overlap.
	sess.Transcript.Segments[1].Speaker = "Worker"
	buf.Reset()
	if _, err := eaf.Write(&buf, sess, eaf.Config{}); err != nil {
		t.Fatal(err)
	}
	if w := qdatest.ValidateEAF(t, buf.Bytes()).Tiers["Worker"]; len(w) != 2 {
		t.Errorf("worker tier %q", w)
	}
	// No transcript at all.
	buf.Reset()
	if _, err := eaf.Write(&buf, &hark.Session{Recording: sess.Recording}, eaf.Config{}); err != nil {
		t.Fatal(err)
	}
	qdatest.ValidateEAF(t, buf.Bytes())
}
