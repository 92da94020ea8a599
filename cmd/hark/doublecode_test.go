package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

// Double coding from the command line, against the index in a data dir: a
// random share of a batch drawn from a seed (the same seed, the same
// sessions), coders who cannot review the team refused, the status of each
// coder, the agreement per code against figures worked by hand, the
// disagreements turn by turn, and settling; what mark, unmark and settle
// do kept next to the recording in the object store.
func TestDoubleCodeCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b := startUp(t, dir)
	stored := func(key string, v any) bool {
		t.Helper()
		r, _, err := b.up.store.Get(ctx, key)
		if hark.ErrorCode(err) == hark.ENOTFOUND {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := json.NewDecoder(r).Decode(v); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return true
	}
	run := func(args ...string) (string, error) {
		t.Helper()
		return runHark(t, dir, "", args...)
	}
	mustRun := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("hark %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	mustRun("user", "add", "sam", "--role", "coach", "--team", "North")
	mustRun("user", "add", "alex", "--role", "coach", "--team", "North")
	mustRun("user", "add", "kim", "--role", "coach", "--team", "South")
	idx := b.up.idx
	now := time.Now().UTC()
	var all []string
	for i := range 10 {
		key := fmt.Sprintf("North/visit-%02d.wav", i)
		r := &hark.Recording{Schema: 1, ID: hark.RecordingID("recordings", key, "e1"), Bucket: "recordings", Key: key, ETag: "e1",
			Team: "North", Batch: "b1", Status: hark.StatusReady, Attempts: 1, DurationSeconds: 20, CreatedAt: now, UpdatedAt: now}
		if err := idx.PutRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := idx.PutTranscript(ctx, &hark.Transcript{RecordingID: r.ID, Segments: []hark.Segment{
			{Index: 0, Start: 0, End: 5, Speaker: "Worker", Role: hark.RoleWorker, Text: "What would you like to talk about?"},
			{Index: 1, Start: 5, End: 10, Speaker: "Worker", Role: hark.RoleWorker, Text: "If this goes on we go to court."}}}); err != nil {
			t.Fatal(err)
		}
		if err := idx.PutAnnotations(ctx, &hark.Annotations{RecordingID: r.ID, Codebook: "hark-practice", CodebookVersion: "1", Tagger: "rules", Tags: []hark.Tag{
			{Segment: 0, Code: "open_question", Start: 0, End: 10, Source: hark.SourceRules, Review: hark.ReviewPending},
			{Segment: 1, Code: "threat_of_escalation", Start: 0, End: 10, Source: hark.SourceRules, Review: hark.ReviewPending}}}); err != nil {
			t.Fatal(err)
		}
		all = append(all, r.ID)
	}

	if out, err := run("double-code", "mark", all[0], "--coders", "sam,kim"); err == nil || !strings.Contains(err.Error(), "cannot review team North") {
		t.Errorf("a coder of another team: %v\n%s", err, out)
	}
	if out, err := run("double-code", "mark", all[0], "--coders", "sam"); err == nil {
		t.Errorf("one coder was accepted:\n%s", out)
	}
	draw := func() []string {
		t.Helper()
		out := mustRun("double-code", "mark", "--batch", "b1", "--share", "0.3", "--seed", "42", "--coders", "sam,alex")
		if !strings.Contains(out, "3 session(s) marked") || !strings.Contains(out, "random 30% of batch b1 (3 of 10 ready sessions), seed 42") {
			t.Errorf("mark:\n%s", out)
		}
		dcs, err := idx.DoubleCoded(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, dc := range dcs {
			ids = append(ids, dc.RecordingID)
		}
		slices.Sort(ids)
		return ids
	}
	picked := draw()
	var mark hark.DoubleCoding
	if !stored(hark.DoubleCodingKey(picked[0]), &mark) || !slices.Equal(mark.Coders, []string{"sam", "alex"}) || !strings.Contains(mark.How, "seed 42") {
		t.Errorf("the mark in the object store: %+v", mark)
	}
	if err := hark.PutJSON(ctx, b.up.store, hark.CoderReviewKey(picked[0], "sam"), &hark.ReviewDoc{RecordingID: picked[0], Coder: "sam"}); err != nil {
		t.Fatal(err)
	}
	mustRun(append([]string{"double-code", "unmark"}, picked...)...)
	var gone hark.ReviewDoc
	if stored(hark.DoubleCodingKey(picked[0]), &mark) || stored(hark.CoderReviewKey(picked[0], "sam"), &gone) {
		t.Error("unmark left the mark or a coder's review in the object store")
	}
	if again := draw(); !slices.Equal(again, picked) || len(picked) != 3 {
		t.Fatalf("the same seed drew %v, then %v", picked, again)
	}

	// Sam accepts both tags of every session; alex both, but for the
	// threat in the first session. Over turns: open_question agrees on
	// all 6 (kappa 1); the threat: both 2, sam only 1, neither 3, so
	// observed 5/6, chance ½·⅓ + ½·⅔ = ½, kappa (5/6 − ½)/(½) = ⅔.
	for i, id := range picked {
		for _, coder := range []string{"sam", "alex"} {
			threat := hark.ReviewAccepted
			if coder == "alex" && i == 0 {
				threat = hark.ReviewRejected
			}
			doc := &hark.ReviewDoc{RecordingID: id, Coder: coder, State: hark.ReviewComplete, UpdatedAt: now, Decisions: []hark.Decision{
				{Key: hark.TagKey(0, 0, 10, "open_question"), Review: hark.ReviewAccepted, By: coder},
				{Key: hark.TagKey(1, 0, 10, "threat_of_escalation"), Review: threat, By: coder}}}
			if err := idx.PutCoderReview(ctx, doc, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out := mustRun("double-code", "status", "--team", "North"); strings.Count(out, "sam (complete), alex (complete)") != 3 {
		t.Errorf("status:\n%s", out)
	}
	var rep report.CoderReport
	out := mustRun("double-code", "agreement", "--format", "json", "--seed", "7", "--min-cell", "1", "--rounds", "200")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("agreement --format json: %v\n%s", err, out)
	}
	kappa := map[string]float64{}
	for _, r := range rep.Rows {
		if r.Segments != nil && r.Segments.Kappa.Value != nil {
			kappa[r.Code] = *r.Segments.Kappa.Value
		}
	}
	if math.Abs(kappa["open_question"]-1) > 1e-9 || math.Abs(kappa["threat_of_escalation"]-2.0/3) > 1e-9 {
		t.Errorf("kappa per code %v, want open_question 1 and threat_of_escalation 0.667", kappa)
	}
	if out := mustRun("double-code", "agreement"); !strings.Contains(out, "3 double-coded session(s)") || !strings.Contains(out, "true") {
		t.Errorf("agreement over 3 sessions under the default threshold of 5 should be withheld:\n%s", out)
	}
	first := picked[0]
	if out := mustRun("double-code", "disagreements", first); !strings.Contains(out, "threat_of_escalation") || strings.Contains(out, "open_question") || !strings.Contains(out, "1 disagreement(s)") {
		t.Errorf("disagreements:\n%s", out)
	}
	if out, err := run("double-code", "settle", first, "--take", "kim"); err == nil {
		t.Errorf("settled taking someone who is not a coder:\n%s", out)
	}
	mustRun("double-code", "settle", first, "--take", "alex", "--by", "lead")
	shared, err := idx.Review(ctx, first)
	if err != nil || shared.Coder != "" || len(shared.Decisions) != 2 || shared.Decisions[1].Review != hark.ReviewRejected {
		t.Errorf("the settled review: %+v %v", shared, err)
	}
	if out := mustRun("double-code", "status"); !strings.Contains(out, "by lead") {
		t.Errorf("status after settling:\n%s", out)
	}
	var review hark.ReviewDoc
	if !stored(hark.DoubleCodingKey(first), &mark) || mark.SettledBy != "lead" || !stored(hark.ReviewKey(first), &review) || review.Version != shared.Version || len(review.Decisions) != 2 {
		t.Errorf("the settled mark and review in the object store: %+v, %+v", mark, review)
	}
	// Had the copy failed, settling again writes it.
	if err := b.up.store.Remove(ctx, hark.ReviewKey(first)); err != nil {
		t.Fatal(err)
	}
	if out := mustRun("double-code", "settle", first, "--take", "sam"); !strings.Contains(out, "written to the object store again") {
		t.Errorf("settling a settled session:\n%s", out)
	}
	review = hark.ReviewDoc{}
	if !stored(hark.ReviewKey(first), &review) || review.Version != shared.Version || review.Decisions[1].Review != hark.ReviewRejected {
		t.Errorf("the settled review written again: %+v (alex's, as settled, not sam's)", review)
	}
	if out, err := run("double-code", "unmark", first); err == nil {
		t.Errorf("a settled session was unmarked:\n%s", out)
	}
}

// Without `hark up` or --s3, the commands that keep double coding in the
// object store say what they need and how to give it.
func TestDoubleCodeNeedsTheStore(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"double-code", "unmark", "r1"}, {"double-code", "settle", "r1", "--take", "sam"}, {"reindex"}} {
		out, err := runHark(t, dir, "", args...)
		if err == nil || !strings.Contains(err.Error(), "needs the object store") || !strings.Contains(err.Error(), "--s3") {
			t.Errorf("hark %s without a store: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
