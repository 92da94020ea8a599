package pipeline_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/pipeline"
)

// The retention sweep: with North keeping audio 30 days, results 365 and
// reviews 730, and the default (South) keeping results 90 days and audit
// entries 400 days, recordings of each age lose what their policy says and
// nothing else; the sweep audits its counts.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	st, idx := startStore(t, t.TempDir())
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	p := pipeline.New(pipeline.Config{Store: st, Index: idx, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	for _, r := range []hark.Retention{{Team: "North", AudioDays: 30, ResultsDays: 365, ReviewDays: 730}, {ResultsDays: 90, AuditDays: 400},
		{Team: "East", ResultsDays: 365, ReviewDays: 30}} {
		if err := idx.SetRetention(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	recs := map[string]*hark.Recording{}
	plant := func(name, team string, days int, reviewed bool) {
		t.Helper()
		key := team + "/" + name + ".wav"
		audio := []byte("RIFF " + name)
		info, err := st.Put(ctx, key, bytes.NewReader(audio), int64(len(audio)), "audio/wav", nil)
		if err != nil {
			t.Fatal(err)
		}
		at := now.Add(-time.Duration(days) * 24 * time.Hour)
		r := &hark.Recording{Schema: hark.SchemaVersion, ID: hark.RecordingID("recordings", key, info.ETag), Bucket: "recordings", Key: key,
			ETag: info.ETag, Team: team, Status: hark.StatusReady, CreatedAt: at, UpdatedAt: at}
		if err := idx.PutRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		tr := &hark.Transcript{RecordingID: r.ID, Segments: []hark.Segment{{Index: 0, Text: "hello", Role: hark.RoleWorker}}}
		if err := idx.PutTranscript(ctx, tr); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Put(ctx, hark.TranscriptKey(r.ID), bytes.NewReader([]byte("{}")), 2, "application/json", nil); err != nil {
			t.Fatal(err)
		}
		if reviewed {
			if err := idx.PutReview(ctx, &hark.ReviewDoc{RecordingID: r.ID, State: hark.ReviewComplete, UpdatedAt: at}, 0); err != nil {
				t.Fatal(err)
			}
		}
		recs[name] = r
	}
	plant("north-new", "North", 10, false)        // keeps everything
	plant("north-month", "North", 40, false)      // loses its audio
	plant("north-year", "North", 400, false)      // erased
	plant("north-reviewed", "North", 400, true)   // its review is kept 730 days: only its audio goes
	plant("north-old-review", "North", 800, true) // erased, review and all
	plant("south-new", "South", 60, false)        // keeps everything (the default keeps no audio limit)
	plant("south-old", "South", 100, true)        // erased: the default keeps reviews as long as results
	plant("east-reviewed", "East", 40, true)      // loses its review, keeps the rest
	plant("east-blind", "East", 40, false)        // double-coded, blind: loses its coders' reviews
	// East's reviewed session was double-coded too, and another one is
	// double-coded blind, without a review of its own yet: the coders'
	// reviews are reviews, and go with the mark when the review does.
	east, blind := recs["east-reviewed"].ID, recs["east-blind"].ID
	for _, id := range []string{east, blind} {
		dc := &hark.DoubleCoding{RecordingID: id, Coders: []string{"sam", "alex"}, How: "by hand", MarkedAt: now}
		if err := idx.MarkDoubleCoding(ctx, dc); err != nil {
			t.Fatal(err)
		}
		cr := &hark.ReviewDoc{RecordingID: id, Coder: "sam", State: hark.ReviewInProgress, Notes: []hark.Note{{ID: "n1", Text: "a coder's note"}}}
		if err := idx.PutCoderReview(ctx, cr, 0); err != nil {
			t.Fatal(err)
		}
		if hark.PutJSON(ctx, st, hark.DoubleCodingKey(id), dc) != nil || hark.PutJSON(ctx, st, hark.CoderReviewKey(id, "sam"), cr) != nil {
			t.Fatal("could not store the double coding")
		}
	}
	if err := idx.Audit(ctx, &hark.AuditEntry{At: now.Add(-500 * 24 * time.Hour), User: "sam", Action: "view"}); err != nil {
		t.Fatal(err)
	}
	if err := idx.Audit(ctx, &hark.AuditEntry{At: now.Add(-10 * 24 * time.Hour), User: "sam", Action: "view"}); err != nil {
		t.Fatal(err)
	}

	got, err := p.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := pipeline.SweepCounts{AudioRemoved: 2, Erased: 3, ReviewsRemoved: 2, AuditPruned: 1}
	if got != want {
		t.Errorf("sweep %+v, want %+v", got, want)
	}
	has := func(key string) bool { _, err := st.Stat(ctx, key); return err == nil }
	for name, w := range map[string]struct{ indexed, audio bool }{
		"north-new": {true, true}, "north-month": {true, false}, "north-year": {false, false}, "north-reviewed": {true, false},
		"north-old-review": {false, false}, "south-new": {true, true}, "south-old": {false, false}, "east-reviewed": {true, true}, "east-blind": {true, true},
	} {
		r := recs[name]
		_, err := idx.Recording(ctx, r.ID)
		if (err == nil) != w.indexed {
			t.Errorf("%s: in the index %v, want %v", name, err == nil, w.indexed)
		}
		if has(r.Key) != w.audio {
			t.Errorf("%s: audio %v, want %v", name, has(r.Key), w.audio)
		}
		if has(hark.TranscriptKey(r.ID)) != w.indexed {
			t.Errorf("%s: transcript stored %v, want %v", name, has(hark.TranscriptKey(r.ID)), w.indexed)
		}
	}
	if r, err := idx.Recording(ctx, recs["north-month"].ID); err != nil || r.AudioRemoved == nil || !r.AudioRemoved.Equal(now) {
		t.Errorf("the recording does not say its audio was removed: %+v %v", r, err)
	}
	if rv, err := idx.Review(ctx, recs["east-reviewed"].ID); err != nil || rv.Version != 0 {
		t.Errorf("East's review after 30 days: version %d, %v; want none", rv.Version, err)
	}
	for _, id := range []string{east, blind} {
		if _, err := idx.DoubleCoding(ctx, id); hark.ErrorCode(err) != hark.ENOTFOUND {
			t.Errorf("%s's double coding after its reviews went: %v, want none", id, err)
		}
		if crs, err := idx.CoderReviews(ctx, id); err != nil || len(crs) != 0 {
			t.Errorf("%s's coders' reviews after they went: %d, %v", id, len(crs), err)
		}
		if has(hark.DoubleCodingKey(id)) || has(hark.CoderReviewKey(id, "sam")) {
			t.Errorf("%s's double coding is still in the object store after its reviews went", id)
		}
	}
	entries, err := idx.AuditLog(ctx, hark.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Action != "sweep" && entries[1].Action != "sweep" {
		t.Errorf("audit log after the sweep: %+v (want the recent view and the sweep's entry)", entries)
	}
	// A second sweep finds nothing more to do.
	if again, err := p.Sweep(ctx); err != nil || again != (pipeline.SweepCounts{}) {
		t.Errorf("a second sweep: %+v %v", again, err)
	}
}
