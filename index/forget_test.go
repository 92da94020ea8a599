package index

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

const plantedPhrase = "marmalade-zeppelin-7734"

// plant stores a recording whose transcript, tags, review note and audit
// entry all carry plantedPhrase.
func plant(t *testing.T, db *DB, name string) *hark.Recording {
	t.Helper()
	ctx := context.Background()
	r := rec(name, "north", "b1", hark.StatusReady, 0)
	put(t, db, r)
	if err := db.PutTranscript(ctx, transcript(r.ID, "We talked about "+plantedPhrase+" at school.", "Right.")); err != nil {
		t.Fatal(err)
	}
	a := &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: r.ID, Codebook: "cb", CodebookVersion: "1", Tagger: "rules",
		Tags: []hark.Tag{{Segment: 0, Code: "open_question", Start: 0, End: 10, Evidence: plantedPhrase, Confidence: 0.9, Source: hark.SourceRules, Review: hark.ReviewPending}}}
	if err := db.PutAnnotations(ctx, a); err != nil {
		t.Fatal(err)
	}
	review := &hark.ReviewDoc{RecordingID: r.ID, State: hark.ReviewInProgress, UpdatedBy: "coach1", UpdatedAt: base,
		Notes:       []hark.Note{{ID: "n1", Segment: 0, Text: "Ask about " + plantedPhrase, By: "coach1", At: base}},
		Suggestions: []hark.SuggestionDecision{{Key: hark.MomentKey(hark.CueThreat, 0), Cue: hark.CueThreat, State: hark.SuggestionAccepted, By: "coach1", At: base}}}
	if err := db.PutReview(ctx, review, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, &hark.AuditEntry{At: base, User: "coach1", Action: "view", RecordingID: r.ID, Detail: "page"}); err != nil {
		t.Fatal(err)
	}
	return r
}

// testForget: a forgotten recording is gone from every table, its audit
// entries with it; nothing can write it back; the other recordings are
// untouched.
func testForget(t *testing.T, db *DB) {
	ctx := context.Background()
	gone, kept := plant(t, db, "gone"), plant(t, db, "kept")
	n, err := db.Forget(ctx, []string{gone.ID, recID("never-was")}, base.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Forget: %d, %v; want 1 recording forgotten", n, err)
	}
	if _, err := db.Session(ctx, gone.ID); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("the forgotten session: %v, want ENOTFOUND", err)
	}
	if entries, err := db.AuditLog(ctx, hark.AuditFilter{RecordingID: gone.ID}); err != nil || len(entries) != 0 {
		t.Errorf("audit entries about the forgotten recording: %v %v", entries, err)
	}
	if list, err := db.Recordings(ctx, hark.RecordingFilter{}); err != nil || len(list) != 1 || list[0].ID != kept.ID {
		t.Errorf("recordings left: %+v %v", list, err)
	}
	if s, err := db.Session(ctx, kept.ID); err != nil || len(s.Transcript.Segments) != 2 || len(s.Review.Notes) != 1 {
		t.Errorf("the kept session: %+v %v", s, err)
	}
	// A worker still busy with it cannot write it back.
	late := rec("gone", "north", "b1", hark.StatusTranscribed, 0)
	for what, err := range map[string]error{
		"PutRecording":   db.PutRecording(ctx, late),
		"ClaimRecording": db.ClaimRecording(ctx, late, 0),
		"PutTranscript":  db.PutTranscript(ctx, transcript(gone.ID, "again")),
		"PutAnnotations": db.PutAnnotations(ctx, &hark.Annotations{RecordingID: gone.ID, Codebook: "cb", CodebookVersion: "1"}),
	} {
		if hark.ErrorCode(err) != hark.ECONFLICT || !hark.IsErased(err) {
			t.Errorf("%s of the forgotten recording: %v, want ECONFLICT, erased", what, err)
		}
	}
	if erased, err := db.Erased(ctx, gone.ID); err != nil || !erased {
		t.Errorf("Erased: %v %v", erased, err)
	}
	if erased, _ := db.Erased(ctx, kept.ID); erased {
		t.Error("the kept recording is erased")
	}
	// A recording that was never forgotten is written as before.
	put(t, db, rec("new", "north", "b1", hark.StatusUploaded, 0))
	if n, err := db.Forget(ctx, []string{gone.ID}, base); err != nil || n != 0 {
		t.Errorf("forgetting twice: %d %v", n, err)
	}
}

// On SQLite nothing of a forgotten recording is left in the files: not its
// id, not its words (secure_delete, and the log truncated).
func TestForgetSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	db := openDSN(t, path)
	testForget(t, db)
	// The kept recording holds the phrase too: forget it, then nothing
	// may be left.
	if _, err := db.Forget(context.Background(), []string{recID("kept")}, base); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{plantedPhrase, recID("gone"), recID("kept")} {
			if bytes.Contains(data, []byte(leak)) {
				t.Errorf("%s still holds %q", filepath.Base(f), leak)
			}
		}
	}
}

func TestForgetPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	admin := openAdmin(t, dsn)
	testForget(t, openDSN(t, freshSchema(t, admin, dsn)))
}

// testRetention: policies are stored and read back, the default first;
// recordings are listed by age; a review is deleted with the coaches' tags
// and the machine's back to pending; old audit entries are pruned.
func testRetention(t *testing.T, db *DB) {
	ctx := context.Background()
	for _, r := range []hark.Retention{{Team: "North", AudioDays: 30}, {ResultsDays: 90, AuditDays: 400}, {Team: "North", AudioDays: 31, ReviewDays: 5}} {
		if err := db.SetRetention(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetRetention(ctx, hark.Retention{AudioDays: -1}); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("negative days: %v", err)
	}
	got, err := db.Retentions(ctx)
	if err != nil || len(got) != 2 || got[0] != (hark.Retention{ResultsDays: 90, AuditDays: 400}) || got[1] != (hark.Retention{Team: "North", AudioDays: 31, ReviewDays: 5}) {
		t.Errorf("policies %+v %v", got, err)
	}
	old, young := plant(t, db, "old"), rec("young", "south", "b1", hark.StatusReady, 60)
	put(t, db, young)
	list, err := db.RecordingsBefore(ctx, "", base.Add(30*time.Minute), 10)
	if err != nil || len(list) != 1 || list[0].ID != old.ID || list[0].CreatedAt.Sub(old.CreatedAt).Abs() > time.Millisecond {
		t.Errorf("before: %+v %v", list, err)
	}
	if list, _ := db.RecordingsBefore(ctx, "south", base.Add(2*time.Hour), 10); len(list) != 1 || list[0].ID != young.ID {
		t.Errorf("south before: %+v", list)
	}
	if err := db.DeleteReview(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	s, err := db.Session(ctx, old.ID)
	if err != nil || s.Review.Version != 0 || len(s.Review.Notes) != 0 || len(s.Annotations.Tags) != 1 || s.Annotations.Tags[0].Review != hark.ReviewPending {
		t.Errorf("after the review was deleted: %+v %v", s, err)
	}
	// The answers the family report read of it go with it.
	var answers string
	if err := db.db.QueryRowContext(ctx, `SELECT answers FROM family_moments WHERE recording_id = $1`, old.ID).Scan(&answers); err != nil || answers != "" {
		t.Errorf("the family report's copy of the deleted review's answers: %q %v", answers, err)
	}
	if n, err := db.PruneAudit(ctx, base.Add(time.Second)); err != nil || n != 1 {
		t.Errorf("pruned %d, %v; want the one entry at base", n, err)
	}
}

func TestRetentionSQLite(t *testing.T) {
	testRetention(t, openDSN(t, filepath.Join(t.TempDir(), "index.db")))
}

func TestRetentionPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	admin := openAdmin(t, dsn)
	testRetention(t, openDSN(t, freshSchema(t, admin, dsn)))
}
