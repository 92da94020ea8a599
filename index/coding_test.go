package index

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// Double coding: a session marked for two coders keeps each coder's
// review apart from the other's and from the session's own review and
// tags; only its coders may write one, each at its own version; settling
// makes one review the session's and freezes the coders'; erasing the
// recording takes it all.
func testDoubleCoding(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusReady, 0)
	other := rec("b", "south", "b2", hark.StatusReady, 1)
	put(t, db, r, other)
	putTags(t, db, r.ID, tag(0, "reflection", hark.ReviewPending), tag(1, "open_question", hark.ReviewPending))

	if _, err := db.DoubleCoding(ctx, r.ID); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("an unmarked session: %v, want ENOTFOUND", err)
	}
	if err := db.MarkDoubleCoding(ctx, &hark.DoubleCoding{RecordingID: r.ID, Coders: []string{"sam"}}); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("one coder: %v, want EINVALID", err)
	}
	if err := db.MarkDoubleCoding(ctx, &hark.DoubleCoding{RecordingID: recID("missing"), Coders: []string{"sam", "alex"}}); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("an unknown recording: %v, want ENOTFOUND", err)
	}
	dc := &hark.DoubleCoding{RecordingID: r.ID, Coders: []string{"sam", "alex"}, How: "by hand", MarkedBy: "lead", MarkedAt: base}
	if err := db.MarkDoubleCoding(ctx, dc); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkDoubleCoding(ctx, &hark.DoubleCoding{RecordingID: other.ID, Coders: []string{"kim", "lee"}, How: "random 50% of b2, seed 7", MarkedAt: base.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if all, err := db.DoubleCoded(ctx, nil); err != nil || len(all) != 2 || all[0].RecordingID != r.ID {
		t.Errorf("every double-coded session: %+v %v", all, err)
	}
	if north, err := db.DoubleCoded(ctx, []string{"north"}); err != nil || len(north) != 1 || north[0].How != "by hand" || !north[0].Codes("alex") {
		t.Errorf("north's double-coded sessions: %+v %v", north, err)
	}

	sam, err := db.CoderReview(ctx, r.ID, "sam")
	if err != nil || sam.Version != 0 || sam.Coder != "sam" {
		t.Fatalf("sam's fresh review: %+v %v", sam, err)
	}
	sam.Decisions = []hark.Decision{{Key: hark.TagKey(0, 0, 4, "reflection"), Review: hark.ReviewAccepted, By: "sam"}}
	sam.Notes = []hark.Note{{ID: "n1", Segment: 0, Text: "sam's note", By: "sam"}}
	sam.State, sam.UpdatedAt = hark.ReviewComplete, base
	if err := db.PutCoderReview(ctx, sam, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkDoubleCoding(ctx, &hark.DoubleCoding{RecordingID: r.ID, Coders: []string{"alex", "kim"}, MarkedAt: base}); hark.ErrorCode(err) != hark.ECONFLICT || !strings.Contains(err.Error(), "sam has begun coding") {
		t.Errorf("re-marked without sam, who has begun: %v, want ECONFLICT", err)
	}
	if err := db.PutCoderReview(ctx, &hark.ReviewDoc{RecordingID: r.ID, Coder: "sam", UpdatedAt: base}, 0); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Errorf("a change on a stale view of sam's review: %v, want ECONFLICT", err)
	}
	if err := db.PutCoderReview(ctx, &hark.ReviewDoc{RecordingID: r.ID, Coder: "kim", UpdatedAt: base}, 0); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("a review by someone not among the coders: %v, want EINVALID", err)
	}
	alex, _ := db.CoderReview(ctx, r.ID, "alex")
	if alex.Version != 0 || len(alex.Decisions) != 0 || len(alex.Notes) != 0 {
		t.Errorf("alex's review shows sam's work: %+v", alex)
	}
	alex.Decisions = []hark.Decision{{Key: hark.TagKey(0, 0, 4, "reflection"), Review: hark.ReviewRejected, By: "alex"}}
	alex.UpdatedAt = base
	if err := db.PutCoderReview(ctx, alex, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.SettleDoubleCoding(ctx, &hark.ReviewDoc{RecordingID: r.ID, UpdatedAt: base}, 0, "lead"); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("settling before every coder completed: %v, want EINVALID", err)
	}
	alex.State = hark.ReviewComplete
	if err := db.PutCoderReview(ctx, alex, 1); err != nil {
		t.Fatal(err)
	}
	// Both complete: the reconciliation shows them side by side, so
	// neither may change any more.
	if err := db.PutCoderReview(ctx, alex, 2); hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("a change once every coder completed: %v, want EINVALID (frozen)", err)
	}
	shared, _ := db.Review(ctx, r.ID)
	if shared.Version != 0 || len(shared.Decisions) != 0 {
		t.Errorf("the session's own review took a coder's work: %+v", shared)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM tags WHERE recording_id = $1 AND review <> 'pending'`, r.ID); n != 0 {
		t.Errorf("%d tags judged in the session's tags by the coders' blind reviews", n)
	}
	revs, err := db.CoderReviews(ctx, r.ID)
	if err != nil || len(revs) != 2 || revs[0].Coder != "alex" || revs[1].Coder != "sam" || revs[1].State != hark.ReviewComplete {
		t.Fatalf("the coders' reviews: %+v %v", revs, err)
	}

	settled := &hark.ReviewDoc{RecordingID: r.ID, Coder: "sam", Decisions: sam.Decisions, State: hark.ReviewComplete, UpdatedAt: base.Add(time.Hour)}
	if err := db.SettleDoubleCoding(ctx, settled, 0, "lead"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.DoubleCoding(ctx, r.ID); got.Blind() || got.SettledBy != "lead" || !got.SettledAt.Equal(base.Add(time.Hour)) {
		t.Errorf("after settling: %+v", got)
	}
	if shared, _ := db.Review(ctx, r.ID); shared.Version != 1 || shared.Coder != "" || len(shared.Decisions) != 1 {
		t.Errorf("the settled review: %+v", shared)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM tags WHERE recording_id = $1 AND review = 'accepted'`, r.ID); n != 1 {
		t.Errorf("%d tags accepted after settling, want 1", n)
	}
	if err := db.PutCoderReview(ctx, alex, 2); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("a coder's change after settling: %v, want EINVALID", err)
	}
	if err := db.SettleDoubleCoding(ctx, settled, 1, "lead"); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Errorf("settling twice: %v, want ECONFLICT", err)
	}
	if err := db.UnmarkDoubleCoding(ctx, r.ID); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Errorf("unmarking a settled session: %v, want ECONFLICT", err)
	}

	if err := db.UnmarkDoubleCoding(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DoubleCoding(ctx, other.ID); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("after unmarking: %v", err)
	}

	if _, err := db.Forget(ctx, []string{r.ID}, base); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"double_coding", "coder_reviews"} {
		if n := count(t, db, `SELECT COUNT(*) FROM `+table+` WHERE recording_id = $1`, r.ID); n != 0 {
			t.Errorf("%d rows left in %s after the recording was erased", n, table)
		}
	}
}

// A coder's session has the machine's tags with the coder's own decisions
// and tags, whatever the session's review and the other coders' say.
func testCoderSession(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusReady, 0)
	put(t, db, r)
	putTags(t, db, r.ID, tag(0, "reflection", hark.ReviewRejected), tag(1, "open_question", hark.ReviewPending)) // the session's review rejects the first
	if err := db.MarkDoubleCoding(ctx, &hark.DoubleCoding{RecordingID: r.ID, Coders: []string{"sam", "alex"}, MarkedAt: base}); err != nil {
		t.Fatal(err)
	}
	sam := &hark.ReviewDoc{RecordingID: r.ID, Coder: "sam", UpdatedAt: base,
		Decisions: []hark.Decision{{Key: hark.TagKey(1, 0, 4, "open_question"), Review: hark.ReviewAccepted, By: "sam"}},
		Added:     []hark.Tag{{Key: "c:1", Segment: 0, Code: "affirmation", Start: 0, End: 4, Source: hark.SourceCoach, Review: hark.ReviewAccepted, ReviewedBy: "sam"}}}
	if err := db.PutCoderReview(ctx, sam, 0); err != nil {
		t.Fatal(err)
	}
	got := map[string]hark.Review{}
	for _, who := range []string{"sam", "alex"} {
		s, err := db.CoderSession(ctx, r.ID, who)
		if err != nil {
			t.Fatal(err)
		}
		if s.Review.Coder != who {
			t.Errorf("%s's session carries %q's review", who, s.Review.Coder)
		}
		for _, tg := range s.Annotations.Tags {
			got[who+" "+tg.Code] = tg.Review
		}
	}
	want := map[string]hark.Review{
		"sam reflection": hark.ReviewPending, "sam open_question": hark.ReviewAccepted, "sam affirmation": hark.ReviewAccepted,
		"alex reflection": hark.ReviewPending, "alex open_question": hark.ReviewPending,
	}
	jsonEqual(t, "the coders' tags", got, want)
}

// Restoring double coding from the object store (hark reindex): into an
// index without it, the mark and the coders' reviews come back as stored,
// at their versions; into one that has them, nothing newer is replaced, a
// settled mark replaces a blind one and never the other way round; a review
// by someone who is not a coder is refused.
func testRestoreDoubleCoding(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusReady, 0)
	put(t, db, r)
	dc := &hark.DoubleCoding{RecordingID: r.ID, Coders: []string{"sam", "alex"}, How: "by hand", MarkedBy: "lead", MarkedAt: base}
	sam := &hark.ReviewDoc{Schema: hark.SchemaVersion, RecordingID: r.ID, Coder: "sam", Version: 3, State: hark.ReviewComplete, UpdatedAt: base,
		Decisions: []hark.Decision{{Key: hark.TagKey(0, 0, 4, "reflection"), Review: hark.ReviewAccepted, By: "sam"}}}
	alex := &hark.ReviewDoc{Schema: hark.SchemaVersion, RecordingID: r.ID, Coder: "alex", Version: 1, State: hark.ReviewInProgress, UpdatedAt: base}
	if skipped, err := db.RestoreDoubleCoding(ctx, dc, []*hark.ReviewDoc{sam, alex}); err != nil || len(skipped) != 0 {
		t.Fatal(skipped, err)
	}
	got, err := db.DoubleCoding(ctx, r.ID)
	if err != nil || got.How != "by hand" || !got.Blind() || !got.Codes("alex") {
		t.Fatalf("the restored mark: %+v %v", got, err)
	}
	if rs, err := db.CoderReview(ctx, r.ID, "sam"); err != nil || rs.Version != 3 || len(rs.Decisions) != 1 || rs.State != hark.ReviewComplete {
		t.Errorf("sam's restored review: %+v %v", rs, err)
	}
	// The index moved on: alex's review there is newer than the store's.
	alex2 := *alex
	alex2.Notes = []hark.Note{{ID: "n1", Text: "newer", By: "alex"}}
	if err := db.PutCoderReview(ctx, &alex2, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RestoreDoubleCoding(ctx, dc, []*hark.ReviewDoc{alex}); err != nil {
		t.Fatal(err)
	}
	if ra, err := db.CoderReview(ctx, r.ID, "alex"); err != nil || ra.Version != 2 || len(ra.Notes) != 1 {
		t.Errorf("alex's newer review was replaced by the store's older one: %+v %v", ra, err)
	}
	settledAt := base.Add(time.Hour)
	settled := *dc
	settled.SettledBy, settled.SettledAt = "lead", &settledAt
	if _, err := db.RestoreDoubleCoding(ctx, &settled, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := db.DoubleCoding(ctx, r.ID); err != nil || got.Blind() || got.SettledBy != "lead" {
		t.Errorf("a stored settled mark over a blind one: %+v %v", got, err)
	}
	later := *dc
	later.MarkedAt = base.Add(2 * time.Hour)
	if _, err := db.RestoreDoubleCoding(ctx, &later, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := db.DoubleCoding(ctx, r.ID); err != nil || got.Blind() {
		t.Errorf("a stored blind mark unsettled the index's: %+v %v", got, err)
	}
	// Reviews are checked against the mark that stands: the index's, here
	// (sam and alex), not the stored one's.
	other := rec("c", "north", "b1", hark.StatusReady, 2)
	put(t, db, other)
	first := &hark.DoubleCoding{RecordingID: other.ID, Coders: []string{"sam", "alex"}, MarkedAt: base.Add(time.Hour)}
	if err := db.MarkDoubleCoding(ctx, first); err != nil {
		t.Fatal(err)
	}
	older := &hark.DoubleCoding{RecordingID: other.ID, Coders: []string{"sam", "kim"}, MarkedAt: base}
	kim := &hark.ReviewDoc{RecordingID: other.ID, Coder: "kim", Version: 1}
	if skipped, err := db.RestoreDoubleCoding(ctx, older, []*hark.ReviewDoc{kim}); err != nil || len(skipped) != 1 || skipped[0] != "kim" {
		t.Errorf("a stored review by someone who is not a coder of the mark that stands: skipped %v, %v; want kim", skipped, err)
	}
	if got, err := db.DoubleCoding(ctx, other.ID); err != nil || !got.Codes("alex") || got.Codes("kim") {
		t.Errorf("an older stored mark replaced the index's: %+v %v", got, err)
	}
	if rk, err := db.CoderReview(ctx, other.ID, "kim"); err != nil || rk.Version != 0 {
		t.Errorf("kim's review went in: %+v %v", rk, err)
	}
	// A stored mark made later than the index's replaces it.
	newer := &hark.DoubleCoding{RecordingID: other.ID, Coders: []string{"sam", "kim"}, MarkedAt: base.Add(3 * time.Hour)}
	if skipped, err := db.RestoreDoubleCoding(ctx, newer, []*hark.ReviewDoc{kim}); err != nil || len(skipped) != 0 {
		t.Errorf("a later stored mark: skipped %v, %v", skipped, err)
	}
	if rk, err := db.CoderReview(ctx, other.ID, "kim"); err != nil || rk.Version != 1 {
		t.Errorf("kim's review under the later mark: %+v %v", rk, err)
	}
	if _, err := db.RestoreDoubleCoding(ctx, &hark.DoubleCoding{RecordingID: recID("missing"), Coders: []string{"sam", "alex"}}, nil); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("an unknown recording: %v, want ENOTFOUND", err)
	}
}
