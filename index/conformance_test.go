package index

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// runConformance is the index's behaviour, run against every database it
// supports. newDSN returns the DSN of a fresh, empty database that no other
// test sees, and removes it when the test ends.
func runConformance(t *testing.T, newDSN func(t *testing.T) string) {
	open := func(t *testing.T) *DB { return openDSN(t, newDSN(t)) }
	tests := []struct {
		name string
		fn   func(t *testing.T, db *DB)
	}{
		{"PutRecordingInsertAndUpdate", testPutRecordingInsertAndUpdate},
		{"PutRecordingKeepsTranscriptAndTags", testPutRecordingKeepsTranscriptAndTags},
		{"PutRecordingFenced", testPutRecordingFenced},
		{"ResultsFenced", testResultsFenced},
		{"SignInFailures", testSignInFailures},
		{"ClaimRecording", testClaimRecording},
		{"ClaimRecordingRace", testClaimRecordingRace},
		{"RecordingNotFound", testRecordingNotFound},
		{"RecordingTimesRoundTrip", testRecordingTimesRoundTrip},
		{"RecordingsFilters", testRecordingsFilters},
		{"RecordingsNewestFirst", testRecordingsNewestFirst},
		{"RecordingsTagCounts", testRecordingsTagCounts},
		{"PutTranscriptReplaces", testPutTranscriptReplaces},
		{"PutTranscriptLongTranscript", testPutTranscriptLong},
		{"PutTranscriptDuplicateIndex", testPutTranscriptDuplicateIndex},
		{"PutUnknownRecording", testPutUnknownRecording},
		{"PutAnnotationsReplaces", testPutAnnotationsReplaces},
		{"SessionRoundTrip", testSessionRoundTrip},
		{"ReviewVersions", testReviewVersions},
		{"DoubleCoding", testDoubleCoding},
		{"CoderSession", testCoderSession},
		{"RestoreDoubleCoding", testRestoreDoubleCoding},
		{"Users", testUsers},
		{"RenameAndRemoveUser", testRenameAndRemoveUser},
		{"RecordingsAccessFilters", testRecordingsAccessFilters},
		{"WebSessions", testWebSessions},
		{"AuditLog", testAuditLog},
		{"ReviewSurvivesReannotation", testReviewSurvivesReannotation},
		{"SessionWithoutResults", testSessionWithoutResults},
		{"StatusCounts", testStatusCounts},
		{"TagCounts", testTagCounts},
		{"Concurrent", testConcurrent},
		{"UnicodeAndQuotes", testUnicodeAndQuotes},
		{"InvalidUTF8AndNUL", testInvalidUTF8AndNUL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
	t.Run("MigrateTwice", func(t *testing.T) {
		t.Parallel()
		dsn := newDSN(t)
		db := openDSN(t, dsn)
		put(t, db, rec("a", "team", "b1", hark.StatusReady, 1))
		db2 := openDSN(t, dsn) // a restart: nothing to apply, data kept
		if _, err := db2.Recording(context.Background(), recID("a")); err != nil {
			t.Fatalf("after reopening: %v", err)
		}
		assertMigrations(t, db2)
	})
	t.Run("MigrateConcurrently", func(t *testing.T) {
		t.Parallel()
		dsn := newDSN(t)
		const n = 4
		var wg sync.WaitGroup
		errs := make([]error, n)
		dbs := make([]*DB, n)
		for i := range n {
			wg.Go(func() { dbs[i], errs[i] = Open(context.Background(), dsn) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("process %d: %v", i, errs[i])
				continue
			}
			t.Cleanup(func() { dbs[i].Close() })
		}
		if t.Failed() {
			return
		}
		assertMigrations(t, dbs[0])
	})
	t.Run("NewerSchema", func(t *testing.T) {
		t.Parallel()
		dsn := newDSN(t)
		db := openDSN(t, dsn)
		if _, err := db.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', $1)`,
			db.dialect.time(time.Now())); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), dsn)
		if hark.ErrorCode(err) != hark.ECONFLICT || !strings.Contains(err.Error(), "version 999") {
			t.Fatalf("opening an index from a newer hark: got %v, want ECONFLICT naming version 999", err)
		}
	})
}

// openDSN opens dsn and closes it when the test ends.
func openDSN(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open index: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close index: %v", err)
		}
	})
	return db
}

func assertMigrations(t *testing.T, db *DB) {
	t.Helper()
	ms, err := migrations(db.dialect)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.db.Query(`SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got, want []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(v, " ", name))
	}
	for _, m := range ms {
		want = append(want, fmt.Sprint(m.version, " ", m.name))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("schema_migrations = %q, want %q", got, want)
	}
}

// base is the time the fixtures are created around; it has nanoseconds, which
// the Recording document must keep.
var base = time.Date(2026, 3, 2, 9, 30, 0, 123456789, time.UTC)

func recID(name string) string {
	return hark.RecordingID("recordings", "meetings/"+name+".wav", "etag-"+name)
}

// rec is a recording named name, created minute minutes after base.
func rec(name, team, batch string, status hark.Status, minute int) *hark.Recording {
	created := base.Add(time.Duration(minute) * time.Minute)
	return &hark.Recording{
		Schema: hark.SchemaVersion, ID: recID(name), Bucket: "recordings", Key: "meetings/" + name + ".wav",
		ETag: "etag-" + name, Size: 1234567, DurationSeconds: 61.25, Channels: 2, SampleRate: 16000,
		Team: team, Worker: "w-17", MeetingType: "home visit", RecordedOn: "2026-03-01",
		WorkerChannel: "left", Engine: "sidecar", Batch: batch, Status: status, Attempts: 1,
		CreatedAt: created, UpdatedAt: created.Add(time.Second),
	}
}

func put(t *testing.T, db *DB, rs ...*hark.Recording) {
	t.Helper()
	for _, r := range rs {
		if err := db.PutRecording(context.Background(), r); err != nil {
			t.Fatalf("PutRecording %s: %v", r.Key, err)
		}
	}
}

// putTags stores tags as a tagger and a coach would: the machine's tags as
// annotations, then a review that gives them their review state and adds the
// coach's tags.
func putTags(t *testing.T, db *DB, id string, tags ...hark.Tag) {
	t.Helper()
	ctx := context.Background()
	var machine []hark.Tag
	review := &hark.ReviewDoc{RecordingID: id, UpdatedBy: "coach1", UpdatedAt: base}
	for _, tg := range tags {
		if tg.Source == hark.SourceCoach {
			tg.Key = fmt.Sprintf("c:%d", len(review.Added)+1)
			tg.ReviewedBy, tg.ReviewedAt = "coach1", &base
			review.Added = append(review.Added, tg)
			continue
		}
		if tg.Review != hark.ReviewPending {
			review.Decisions = append(review.Decisions, hark.Decision{Key: hark.TagKey(tg.Segment, tg.Start, tg.End, tg.Code), Review: tg.Review, By: "coach1", At: base})
		}
		tg.Review = hark.ReviewPending
		machine = append(machine, tg)
	}
	a := &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: id, Codebook: "mi", CodebookVersion: "2", Tagger: "rules", Tags: machine}
	if err := db.PutAnnotations(ctx, a); err != nil {
		t.Fatalf("PutAnnotations %s: %v", id, err)
	}
	if len(review.Decisions)+len(review.Added) == 0 {
		return
	}
	cur, err := db.Review(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutReview(ctx, review, cur.Version); err != nil {
		t.Fatalf("PutReview %s: %v", id, err)
	}
}

// keyed returns tags as the index gives them back without a review: with
// their keys.
func keyed(tags ...hark.Tag) []hark.Tag {
	out := make([]hark.Tag, len(tags))
	for i, tg := range tags {
		tg.Key = hark.TagKey(tg.Segment, tg.Start, tg.End, tg.Code)
		out[i] = tg
	}
	return out
}

func emptyReview(id string) *hark.ReviewDoc {
	return &hark.ReviewDoc{Schema: hark.SchemaVersion, RecordingID: id, Decisions: []hark.Decision{}, Added: []hark.Tag{}, Notes: []hark.Note{}}
}

func tag(seg int, code string, review hark.Review) hark.Tag {
	return hark.Tag{Segment: seg, Code: code, Start: 0, End: 4, Evidence: "okay", Confidence: 0.5, Source: hark.SourceRules, Review: review}
}

func transcript(id string, texts ...string) *hark.Transcript {
	t := &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: id, Engine: "sidecar", Model: "vtt", Language: "en",
		Audio: hark.AudioInfo{Format: "pcm16", Channels: 2, SampleRate: 16000, DurationSeconds: 61.25}, Segments: []hark.Segment{}}
	for i, text := range texts {
		role := hark.RoleWorker
		if i%2 == 1 {
			role = hark.RoleParent
		}
		t.Segments = append(t.Segments, hark.Segment{Index: i, Start: float64(i) * 2.5, End: float64(i)*2.5 + 2.25,
			Speaker: fmt.Sprintf("S%d", i%2), Role: role, Text: text, Confidence: 0.875})
	}
	return t
}

// jsonEqual fails unless got and want encode to the same JSON, which is
// how the pages and the API see them.
func jsonEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func keys(ss []hark.RecordingSummary) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(s.Key, "meetings/"), ".wav"))
	}
	return out
}

func count(t *testing.T, db *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func testPutRecordingInsertAndUpdate(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusUploaded, 0)
	put(t, db, r)
	got, err := db.Recording(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "after insert", got, r)

	r2 := *r
	r2.Status, r2.Stage, r2.Reason, r2.Attempts = hark.StatusFailed, hark.StageTranscribe, "the file is not a WAV", 3
	r2.Team, r2.Batch, r2.DurationSeconds = "south", "b2", 99.5
	r2.UpdatedAt = r.UpdatedAt.Add(time.Hour)
	put(t, db, &r2)
	got, err = db.Recording(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "after update", got, &r2)
	if !reflect.DeepEqual(got, &r2) {
		t.Fatalf("after update: got %+v, want %+v", got, &r2)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM recordings`); n != 1 {
		t.Fatalf("%d rows after an update, want 1", n)
	}
	list, err := db.Recordings(ctx, hark.RecordingFilter{Team: "south", Batch: "b2", Status: hark.StatusFailed})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Reason != "the file is not a WAV" {
		t.Fatalf("filtered on the updated columns: %+v", list)
	}
	if list, _ := db.Recordings(ctx, hark.RecordingFilter{Team: "north"}); len(list) != 0 {
		t.Fatalf("the old team still matches: %v", keys(list))
	}
}

func testPutRecordingKeepsTranscriptAndTags(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusTranscribing, 0)
	put(t, db, r)
	if err := db.PutTranscript(ctx, transcript(r.ID, "hello", "hi")); err != nil {
		t.Fatal(err)
	}
	putTags(t, db, r.ID, tag(0, "open_question", hark.ReviewPending))
	r.Status = hark.StatusReady
	put(t, db, r)
	s, err := db.Session(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Recording.Status != hark.StatusReady || s.Transcript == nil || len(s.Transcript.Segments) != 2 || s.Annotations == nil || len(s.Annotations.Tags) != 1 {
		t.Fatalf("a recording update lost its transcript or tags: %+v", s)
	}
}

func testRecordingNotFound(t *testing.T, db *DB) {
	ctx := context.Background()
	put(t, db, rec("a", "north", "b1", hark.StatusReady, 0))
	if _, err := db.Recording(ctx, recID("missing")); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("Recording of an unknown id: got %v, want ENOTFOUND", err)
	}
	if _, err := db.Session(ctx, recID("missing")); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("Session of an unknown id: got %v, want ENOTFOUND", err)
	}
	if _, err := db.Recording(ctx, ""); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("Recording of an empty id: got %v, want ENOTFOUND", err)
	}
	if err := db.PutRecording(ctx, &hark.Recording{}); hark.ErrorCode(err) != hark.EINVALID {
		t.Fatalf("PutRecording without an id: got %v, want EINVALID", err)
	}
}

func testRecordingTimesRoundTrip(t *testing.T, db *DB) {
	ctx := context.Background()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	cases := map[string]time.Time{
		"zero":  {},
		"nanos": base,
		"whole": base.Truncate(time.Second),
		"local": base.In(paris),
		"far":   time.Date(2999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	for name, at := range cases {
		r := rec(name, "north", "b1", hark.StatusReady, 0)
		r.CreatedAt, r.UpdatedAt = at, at
		put(t, db, r)
		got, err := db.Recording(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, name, got, r)
	}
}

func testRecordingsFilters(t *testing.T, db *DB) {
	ctx := context.Background()
	put(t, db,
		rec("n1", "north", "b1", hark.StatusReady, 1),
		rec("n2", "north", "b1", hark.StatusFailed, 2),
		rec("n3", "north", "b2", hark.StatusReady, 3),
		rec("s1", "south", "b1", hark.StatusReady, 4),
		rec("s2", "south", "b2", hark.StatusUploaded, 5),
		rec("x1", "", "", hark.StatusUploaded, 6),
	)
	tests := []struct {
		name string
		f    hark.RecordingFilter
		want []string
	}{
		{"all", hark.RecordingFilter{}, []string{"x1", "s2", "s1", "n3", "n2", "n1"}},
		{"team", hark.RecordingFilter{Team: "north"}, []string{"n3", "n2", "n1"}},
		{"batch", hark.RecordingFilter{Batch: "b1"}, []string{"s1", "n2", "n1"}},
		{"status", hark.RecordingFilter{Status: hark.StatusReady}, []string{"s1", "n3", "n1"}},
		{"team and batch", hark.RecordingFilter{Team: "south", Batch: "b2"}, []string{"s2"}},
		{"all three", hark.RecordingFilter{Team: "north", Batch: "b1", Status: hark.StatusFailed}, []string{"n2"}},
		{"limit", hark.RecordingFilter{Limit: 2}, []string{"x1", "s2"}},
		{"limit with filter", hark.RecordingFilter{Status: hark.StatusReady, Limit: 1}, []string{"s1"}},
		{"negative limit is the default", hark.RecordingFilter{Team: "south", Limit: -1}, []string{"s2", "s1"}},
		{"no match", hark.RecordingFilter{Team: "east"}, []string{}},
		{"no match on status", hark.RecordingFilter{Team: "south", Status: hark.StatusFailed}, []string{}},
	}
	for _, tt := range tests {
		got, err := db.Recordings(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got == nil {
			t.Fatalf("%s: nil list, want an empty one", tt.name)
		}
		if !reflect.DeepEqual(keys(got), tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, keys(got), tt.want)
		}
	}
}

func testRecordingsNewestFirst(t *testing.T, db *DB) {
	ctx := context.Background()
	// Within one second, fractions of different lengths, and ties broken by
	// key: what RFC 3339 text with trimmed zeros used to get wrong.
	at := base.Truncate(time.Second)
	times := map[string]time.Duration{
		"a": 0, "b": 500 * time.Millisecond, "c": 123456 * time.Microsecond, "d": 123457 * time.Microsecond,
		"e": 900 * time.Millisecond, "f": 900 * time.Millisecond, "g": time.Second + time.Microsecond, "h": -time.Microsecond,
	}
	for name, d := range times {
		r := rec(name, "north", "b1", hark.StatusReady, 0)
		r.CreatedAt = at.Add(d)
		put(t, db, r)
	}
	got, err := db.Recordings(ctx, hark.RecordingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"g", "e", "f", "b", "d", "c", "a", "h"}; !reflect.DeepEqual(keys(got), want) {
		t.Fatalf("order: got %v, want %v", keys(got), want)
	}
}

func testRecordingsTagCounts(t *testing.T, db *DB) {
	ctx := context.Background()
	a, b, c := rec("a", "north", "b1", hark.StatusReady, 1), rec("b", "north", "b1", hark.StatusAnnotating, 2), rec("c", "north", "b1", hark.StatusReady, 3)
	put(t, db, a, b, c)
	putTags(t, db, a.ID, tag(0, "reflection", hark.ReviewPending), tag(1, "reflection", hark.ReviewAccepted),
		tag(2, "reflection", hark.ReviewRejected), tag(2, "affirmation", hark.ReviewPending), tag(3, "rejected_only", hark.ReviewRejected))
	putTags(t, db, b.ID, tag(0, "affirmation", hark.ReviewAccepted))
	got, err := db.Recordings(ctx, hark.RecordingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]map[string]int{}
	for _, s := range got {
		counts[strings.TrimSuffix(strings.TrimPrefix(s.Key, "meetings/"), ".wav")] = s.TagCounts
	}
	want := map[string]map[string]int{
		"a": {"reflection": 2, "affirmation": 1},
		"b": {"affirmation": 1},
		"c": {},
	}
	if !reflect.DeepEqual(counts, want) {
		t.Fatalf("tag counts: got %v, want %v", counts, want)
	}
	for _, s := range got {
		if s.TagCounts == nil {
			t.Fatalf("%s: nil tag counts, want an empty map", s.Key)
		}
	}
}

func testPutTranscriptReplaces(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusTranscribing, 0)
	other := rec("other", "north", "b1", hark.StatusTranscribing, 1)
	put(t, db, r, other)
	if err := db.PutTranscript(ctx, transcript(other.ID, "untouched")); err != nil {
		t.Fatal(err)
	}
	if err := db.PutTranscript(ctx, transcript(r.ID, "one", "two", "three")); err != nil {
		t.Fatal(err)
	}
	second := transcript(r.ID, "uno", "dos")
	second.Engine, second.Model = "whisper", "small"
	second.Speakers = &hark.SpeakerInfo{Source: hark.SpeakersDiarization, Count: 2, Estimated: true, Confidence: 0.8,
		Roles: []hark.SpeakerRole{{Speaker: "Speaker 1", Role: hark.RoleWorker, Confidence: 0.7, Source: hark.RoleFromWords}}}
	if err := db.PutTranscript(ctx, second); err != nil {
		t.Fatal(err)
	}
	s, err := db.Session(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "transcript after the second put", s.Transcript, second)
	if n := count(t, db, `SELECT COUNT(*) FROM segments WHERE recording_id = $1`, r.ID); n != 2 {
		t.Fatalf("%d segment rows, want 2", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM segments WHERE recording_id = $1`, other.ID); n != 1 {
		t.Fatalf("another recording's segments changed: %d rows, want 1", n)
	}
	empty := transcript(r.ID)
	if err := db.PutTranscript(ctx, empty); err != nil {
		t.Fatal(err)
	}
	if s, _ = db.Session(ctx, r.ID); s.Transcript == nil || len(s.Transcript.Segments) != 0 || s.Transcript.Segments == nil {
		t.Fatalf("after an empty transcript: %+v, want a transcript with no segments", s.Transcript)
	}
}

func testPutTranscriptLong(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusTranscribing, 0)
	put(t, db, r)
	texts := make([]string, 2*insertBatch+7)
	for i := range texts {
		texts[i] = fmt.Sprintf("segment %d", i)
	}
	long := transcript(r.ID, texts...)
	if err := db.PutTranscript(ctx, long); err != nil {
		t.Fatal(err)
	}
	s, err := db.Session(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "long transcript", s.Transcript, long)
}

func testPutTranscriptDuplicateIndex(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusTranscribing, 0)
	put(t, db, r)
	tr := transcript(r.ID, "one", "two")
	tr.Segments[1].Index = 0
	if err := db.PutTranscript(ctx, tr); hark.ErrorCode(err) != hark.EINVALID {
		t.Fatalf("two segments with one index: got %v, want EINVALID", err)
	}
}

func testPutUnknownRecording(t *testing.T, db *DB) {
	ctx := context.Background()
	put(t, db, rec("a", "north", "b1", hark.StatusReady, 0))
	id := recID("missing")
	if err := db.PutTranscript(ctx, transcript(id, "hello")); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("PutTranscript of an unknown recording: got %v, want ENOTFOUND", err)
	}
	err := db.PutAnnotations(ctx, &hark.Annotations{RecordingID: id, Tags: []hark.Tag{tag(0, "reflection", hark.ReviewPending)}})
	if hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("PutAnnotations of an unknown recording: got %v, want ENOTFOUND", err)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM segments`) + count(t, db, `SELECT COUNT(*) FROM tags`); n != 0 {
		t.Fatalf("%d orphan rows, want none", n)
	}
}

func testPutAnnotationsReplaces(t *testing.T, db *DB) {
	ctx := context.Background()
	r, other := rec("a", "north", "b1", hark.StatusReady, 0), rec("other", "north", "b1", hark.StatusReady, 1)
	put(t, db, r, other)
	putTags(t, db, other.ID, tag(0, "kept", hark.ReviewPending))
	putTags(t, db, r.ID, tag(0, "reflection", hark.ReviewPending), tag(1, "reflection", hark.ReviewPending), tag(2, "affirmation", hark.ReviewPending))
	second := &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: r.ID, Codebook: "mi", CodebookVersion: "3", Tagger: "llm",
		Tags: []hark.Tag{tag(4, "open_question", hark.ReviewPending)}}
	if err := db.PutAnnotations(ctx, second); err != nil {
		t.Fatal(err)
	}
	s, err := db.Session(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *second
	want.Tags = keyed(second.Tags...)
	jsonEqual(t, "annotations after the second put", s.Annotations, &want)
	if n := count(t, db, `SELECT COUNT(*) FROM tags WHERE recording_id = $1`, other.ID); n != 1 {
		t.Fatalf("another recording's tags changed: %d rows, want 1", n)
	}
	if err := db.PutAnnotations(ctx, &hark.Annotations{RecordingID: r.ID, Codebook: "mi"}); err != nil {
		t.Fatal(err)
	}
	if s, _ = db.Session(ctx, r.ID); s.Annotations == nil || s.Annotations.Tags == nil || len(s.Annotations.Tags) != 0 {
		t.Fatalf("after empty annotations: %+v, want annotations with no tags", s.Annotations)
	}
}

func testSessionRoundTrip(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusReady, 0)
	put(t, db, r)
	tr := transcript(r.ID, "Hello, I'm from the team.", "Hi.", "How have things been?", "Hard.")
	// Given out of order: the session lists segments by index.
	given := *tr
	given.Segments = []hark.Segment{tr.Segments[2], tr.Segments[0], tr.Segments[3], tr.Segments[1]}
	if err := db.PutTranscript(ctx, &given); err != nil {
		t.Fatal(err)
	}
	tags := []hark.Tag{
		{Segment: 0, Code: "introduction", Start: 0, End: 5, Evidence: "Hello", Confidence: 0.9, Source: hark.SourceRules, Review: hark.ReviewPending},
		{Segment: 2, Code: "open_question", Start: 0, End: 21, Evidence: "How have things been?", Confidence: 0.75, Source: hark.SourceLLM, Review: hark.ReviewPending},
		{Segment: 2, Code: "affirmation", Start: 4, End: 8, Evidence: "have", Confidence: 0.5, Source: hark.SourceRules, Review: hark.ReviewPending},
	}
	a := &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: r.ID, Codebook: "mi", CodebookVersion: "2.1", Tagger: "rules+llm",
		Tags: []hark.Tag{tags[2], tags[1], tags[0]}}
	if err := db.PutAnnotations(ctx, a); err != nil {
		t.Fatal(err)
	}
	at := base.Add(time.Hour).Truncate(time.Microsecond) // what both databases keep
	review := &hark.ReviewDoc{RecordingID: r.ID, State: hark.ReviewInProgress, UpdatedBy: "coach1", UpdatedAt: at,
		Decisions: []hark.Decision{
			{Key: hark.TagKey(0, 0, 5, "introduction"), Review: hark.ReviewAccepted, By: "coach1", At: at, Moment: true},
			{Key: hark.TagKey(2, 4, 8, "affirmation"), Review: hark.ReviewAccepted, Code: "reflective_listening", By: "coach1", At: at},
		},
		Added: []hark.Tag{{Key: "c:1", Segment: 3, Code: "empathy", Start: 0, End: 4, Evidence: "Hard", Confidence: 1,
			Source: hark.SourceCoach, Review: hark.ReviewAccepted, ReviewedBy: "coach1", ReviewedAt: &at}},
		Notes: []hark.Note{{ID: "n1", Segment: -1, Text: "Good opening.", By: "coach1", At: at}},
	}
	if err := db.PutReview(ctx, review, 0); err != nil {
		t.Fatal(err)
	}
	s, err := db.Session(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantTags := keyed(tags...)
	wantTags[0].Review, wantTags[0].ReviewedBy, wantTags[0].ReviewedAt, wantTags[0].Moment = hark.ReviewAccepted, "coach1", &at, true
	wantTags[2].Review, wantTags[2].ReviewedBy, wantTags[2].ReviewedAt = hark.ReviewAccepted, "coach1", &at
	wantTags[2].Code, wantTags[2].OrigCode = "reflective_listening", "affirmation"
	wantReview := *review
	wantReview.Schema, wantReview.Version = hark.SchemaVersion, 1
	want := &hark.Session{
		Recording:  r,
		Transcript: tr,
		// By segment, then start, then code.
		Annotations: &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: r.ID, Codebook: "mi", CodebookVersion: "2.1",
			Tagger: "rules+llm", Tags: []hark.Tag{wantTags[0], wantTags[1], wantTags[2], review.Added[0]}},
		Review: &wantReview,
	}
	jsonEqual(t, "session", s, want)
}

func testSessionWithoutResults(t *testing.T, db *DB) {
	r := rec("a", "north", "b1", hark.StatusUploaded, 0)
	put(t, db, r)
	s, err := db.Session(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "session", s, &hark.Session{Recording: r, Review: emptyReview(r.ID)})
}

func testStatusCounts(t *testing.T, db *DB) {
	ctx := context.Background()
	put(t, db,
		rec("a", "north", "b1", hark.StatusReady, 1), rec("b", "north", "b1", hark.StatusReady, 2),
		rec("c", "north", "b1", hark.StatusFailed, 3), rec("d", "north", "b2", hark.StatusReady, 4),
		rec("e", "north", "b2", hark.StatusTranscribing, 5), rec("f", "north", "", hark.StatusUploaded, 6),
		rec("g", "south", "b1", hark.StatusReady, 7))
	for _, tt := range []struct {
		f    hark.CountFilter
		want map[hark.Status]int
	}{
		{hark.CountFilter{}, map[hark.Status]int{hark.StatusReady: 4, hark.StatusFailed: 1, hark.StatusTranscribing: 1, hark.StatusUploaded: 1}},
		{hark.CountFilter{Batch: "b1"}, map[hark.Status]int{hark.StatusReady: 3, hark.StatusFailed: 1}},
		{hark.CountFilter{Batch: "b2"}, map[hark.Status]int{hark.StatusReady: 1, hark.StatusTranscribing: 1}},
		{hark.CountFilter{Batch: "none"}, map[hark.Status]int{}},
		{hark.CountFilter{Batch: "b1", Teams: []string{"south"}}, map[hark.Status]int{hark.StatusReady: 1}},
		{hark.CountFilter{Batch: "b1", Teams: []string{"north", "south"}}, map[hark.Status]int{hark.StatusReady: 3, hark.StatusFailed: 1}},
		{hark.CountFilter{Teams: []string{"south"}}, map[hark.Status]int{hark.StatusReady: 1}},
		{hark.CountFilter{Batch: "b2", Teams: []string{"south"}}, map[hark.Status]int{}},
		{hark.CountFilter{Teams: []string{}}, map[hark.Status]int{}},
	} {
		got, err := db.StatusCounts(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v: got %v, want %v", tt.f, got, tt.want)
		}
	}
}

func testTagCounts(t *testing.T, db *DB) {
	ctx := context.Background()
	a, b, c, d := rec("a", "north", "b1", hark.StatusReady, 1), rec("b", "north", "b1", hark.StatusAnnotating, 2),
		rec("c", "north", "b2", hark.StatusReady, 3), rec("d", "north", "b2", hark.StatusFailed, 4)
	put(t, db, a, b, c, d)
	putTags(t, db, a.ID, tag(0, "reflection", hark.ReviewPending), tag(1, "reflection", hark.ReviewAccepted), tag(1, "empathy", hark.ReviewRejected))
	putTags(t, db, b.ID, tag(0, "reflection", hark.ReviewAccepted), tag(0, "not_ready", hark.ReviewAccepted))
	putTags(t, db, c.ID, tag(0, "reflection", hark.ReviewPending), tag(0, "affirmation", hark.ReviewPending), tag(1, "empathy", hark.ReviewAccepted))
	putTags(t, db, d.ID, tag(0, "failed_only", hark.ReviewPending))
	e := rec("e", "south", "b1", hark.StatusReady, 5)
	put(t, db, e)
	putTags(t, db, e.ID, tag(0, "south_only", hark.ReviewPending))
	for _, tt := range []struct {
		f    hark.CountFilter
		want map[string]int
	}{
		{hark.CountFilter{}, map[string]int{"reflection": 3, "affirmation": 1, "empathy": 1, "south_only": 1}},
		{hark.CountFilter{Batch: "b1"}, map[string]int{"reflection": 2, "south_only": 1}},
		{hark.CountFilter{Batch: "b2"}, map[string]int{"reflection": 1, "affirmation": 1, "empathy": 1}},
		{hark.CountFilter{Batch: "none"}, map[string]int{}},
		{hark.CountFilter{Batch: "b1", Teams: []string{"north"}}, map[string]int{"reflection": 2}},
		{hark.CountFilter{Teams: []string{"south"}}, map[string]int{"south_only": 1}},
		{hark.CountFilter{Batch: "b2", Teams: []string{"south"}}, map[string]int{}},
		{hark.CountFilter{Teams: []string{}}, map[string]int{}},
	} {
		got, err := db.TagCounts(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v: got %v, want %v", tt.f, got, tt.want)
		}
	}
}

// testConcurrent has several goroutines write the same few recordings at
// once, as redelivered messages and parallel workers do, while a reader
// watches: no snapshot ever mixes two writers' tags or segments, and each
// recording ends with one row and exactly one writer's tags and segments.
func testConcurrent(t *testing.T, db *DB) {
	ctx := context.Background()
	const workers, recordings, rounds = 8, 3, 6
	var writers, reader sync.WaitGroup
	errs := make(chan error, workers*recordings*rounds*3+1)
	start, done := make(chan struct{}), make(chan struct{})
	for w := range workers {
		writers.Go(func() {
			<-start
			for range rounds {
				for i := range recordings {
					r := rec(fmt.Sprintf("r%d", i), "north", "b1", hark.StatusReady, i)
					r.Attempts = 1 // redeliveries of one attempt; a newer attempt would fence these out
					if err := db.PutRecording(ctx, r); err != nil {
						errs <- fmt.Errorf("worker %d: PutRecording: %w", w, err)
						return
					}
					tags := make([]hark.Tag, w+1) // a count that says which worker wrote them
					for k := range tags {
						tags[k] = tag(k, fmt.Sprintf("w%d", w), hark.ReviewPending)
					}
					a := &hark.Annotations{RecordingID: r.ID, Codebook: "mi", Tagger: fmt.Sprint("worker ", w), Tags: tags}
					if err := db.PutAnnotations(ctx, a); err != nil {
						errs <- fmt.Errorf("worker %d: PutAnnotations: %w", w, err)
						return
					}
					if err := db.PutTranscript(ctx, transcript(r.ID, make([]string, w+1)...)); err != nil {
						errs <- fmt.Errorf("worker %d: PutTranscript: %w", w, err)
						return
					}
				}
			}
		})
	}
	reader.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			default:
			}
			s, err := db.Session(ctx, recID(fmt.Sprintf("r%d", n%recordings)))
			if hark.ErrorCode(err) == hark.ENOTFOUND {
				continue
			}
			if err == nil {
				err = oneWriter(s)
			}
			if err != nil {
				errs <- fmt.Errorf("reader: %w", err)
				return
			}
		}
	})
	close(start)
	writers.Wait()
	close(done)
	reader.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if n := count(t, db, `SELECT COUNT(*) FROM recordings`); n != recordings {
		t.Fatalf("%d recording rows, want %d", n, recordings)
	}
	total := 0
	for i := range recordings {
		s, err := db.Session(ctx, recID(fmt.Sprintf("r%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if s.Annotations == nil || s.Transcript == nil {
			t.Fatalf("recording %d lost its transcript or tags", i)
		}
		if err := oneWriter(s); err != nil {
			t.Fatal(err)
		}
		total += len(s.Annotations.Tags)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM tags`); n != total {
		t.Fatalf("%d tag rows, but the sessions hold %d", n, total)
	}
	sum := 0
	counts, err := db.TagCounts(ctx, hark.CountFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range counts {
		sum += n
	}
	if sum != total {
		t.Fatalf("TagCounts sums to %d, want %d", sum, total)
	}
}

// oneWriter checks that a session's tags and segments each come from one
// worker of testConcurrent: worker w writes w+1 tags coded "w<w>", and w+1
// segments indexed from 0.
func oneWriter(s *hark.Session) error {
	if a := s.Annotations; a != nil {
		codes := map[string]int{}
		for _, tg := range a.Tags {
			codes[tg.Code]++
		}
		if len(codes) != 1 {
			return fmt.Errorf("%s has tags from several writers: %v", s.Recording.Key, codes)
		}
		for code, n := range codes {
			var w int
			fmt.Sscanf(code, "w%d", &w)
			if n != w+1 || a.Tagger != fmt.Sprint("worker ", w) {
				return fmt.Errorf("%s: %d tags of %s by %q, want %d by worker %d", s.Recording.Key, n, code, a.Tagger, w+1, w)
			}
		}
	}
	if tr := s.Transcript; tr != nil {
		for k, sg := range tr.Segments {
			if sg.Index != k {
				return fmt.Errorf("%s: segments from several writers: %+v", s.Recording.Key, tr.Segments)
			}
		}
	}
	return nil
}

func testUnicodeAndQuotes(t *testing.T, db *DB) {
	ctx := context.Background()
	weird := []string{
		`O'Brien "North" team`,
		`meetings/Zoë's "first" visit – café ☕ 2026.wav`,
		`'); DROP TABLE recordings; --`,
		`back\slash and 100% _under_ $1 ?`,
		"עברית and 中文 and e\u0301 and 🧑‍🧒",
		"  leading and trailing spaces  ",
	}
	for i, s := range weird {
		r := rec(fmt.Sprint("u", i), s, s, hark.StatusReady, i)
		r.Key, r.Worker, r.MeetingType, r.Reason = s, s, s, s
		r.ID = hark.RecordingID(r.Bucket, r.Key, r.ETag)
		put(t, db, r)
		if err := db.PutTranscript(ctx, &hark.Transcript{RecordingID: r.ID, Engine: s, Language: s,
			Segments: []hark.Segment{{Index: 0, Speaker: s, Role: hark.RoleWorker, Text: s}}}); err != nil {
			t.Fatal(err)
		}
		putTags(t, db, r.ID, hark.Tag{Segment: 0, Code: s, Start: 0, End: len(s), Evidence: s, Source: hark.SourceCoach, Review: hark.ReviewAccepted})
		got, err := db.Recording(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, "recording", got, r)
		list, err := db.Recordings(ctx, hark.RecordingFilter{Team: s, Batch: s})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Key != s || list[0].TagCounts[s] != 1 {
			t.Fatalf("filter on %q: %+v", s, list)
		}
		sess, err := db.Session(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Transcript.Segments[0].Text != s || sess.Transcript.Engine != s || sess.Annotations.Tags[0].Evidence != s ||
			sess.Annotations.Tags[0].Code != s {
			t.Fatalf("session of %q: %+v %+v", s, sess.Transcript, sess.Annotations)
		}
		counts, err := db.TagCounts(ctx, hark.CountFilter{Batch: s})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(counts, map[string]int{s: 1}) {
			t.Fatalf("TagCounts(%q) = %v", s, counts)
		}
	}
	if n := count(t, db, `SELECT COUNT(*) FROM recordings`); n != len(weird) {
		t.Fatalf("%d recordings, want %d", n, len(weird))
	}
	// Byte order, as SQLite compares: upper case before lower, ASCII before
	// everything else.
	for _, name := range []string{"Zulu", "alpha", "Alpha", "zulu", "Ärger", "_x"} {
		r := rec(name, "order", "order", hark.StatusReady, 0)
		put(t, db, r)
	}
	got, err := db.Recordings(ctx, hark.RecordingFilter{Team: "order"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Alpha", "Zulu", "_x", "alpha", "zulu", "Ärger"}
	if !reflect.DeepEqual(keys(got), want) {
		t.Fatalf("ties in time ordered by key: got %v, want %v", keys(got), want)
	}
	if !sort.StringsAreSorted(want) {
		t.Fatal("the expected order is not byte order")
	}
}

// testInvalidUTF8AndNUL: text PostgreSQL cannot store is stored the same
// way on both databases, as the object store's JSON documents store it.
func testInvalidUTF8AndNUL(t *testing.T, db *DB) {
	ctx := context.Background()
	bad := "ok \xff\xfe and a \x00 nul"
	r := rec("bad", bad, "b1", hark.StatusReady, 0)
	put(t, db, r)
	if err := db.PutTranscript(ctx, &hark.Transcript{RecordingID: r.ID, Segments: []hark.Segment{{Index: 0, Speaker: bad, Text: bad}}}); err != nil {
		t.Fatal(err)
	}
	putTags(t, db, r.ID, hark.Tag{Segment: 0, Code: bad, Evidence: bad, Review: hark.ReviewPending})
	s, err := db.Session(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := "ok \uFFFD\uFFFD and a \uFFFD nul"
	if got := s.Transcript.Segments[0].Text; got != want {
		t.Fatalf("segment text %q, want %q", got, want)
	}
	if got := s.Annotations.Tags[0].Evidence; got != want {
		t.Fatalf("evidence %q, want %q", got, want)
	}
	var doc hark.Recording
	b, _ := json.Marshal(r)
	_ = json.Unmarshal(b, &doc)
	jsonEqual(t, "recording", s.Recording, &doc)
	list, err := db.Recordings(ctx, hark.RecordingFilter{Team: bad})
	if err != nil || len(list) != 1 {
		t.Fatalf("filter on the same invalid team: %v %v", keys(list), err)
	}
}

func testPutRecordingFenced(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusTranscribing, 0)
	r.Attempts, r.Lease = 2, 2
	put(t, db, r)
	stale := *r
	stale.Attempts, stale.Lease, stale.Status = 1, 1, hark.StatusTranscribed
	if err := db.PutRecording(ctx, &stale); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("a stale attempt's write: %v, want ECONFLICT", err)
	}
	got, err := db.Recording(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lease != 2 || got.Status != hark.StatusTranscribing {
		t.Fatalf("the stale write changed the recording: %+v", got)
	}
	same := *r
	same.Status = hark.StatusTranscribed
	put(t, db, &same) // the owning attempt may write
}

// testResultsFenced: a transcript or tags made under a lease that is no
// longer the recording's are refused and change nothing; lease 0 (reindex)
// is not checked.
func testResultsFenced(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusAnnotating, 0)
	r.Attempts, r.Lease = 1, 3
	put(t, db, r)
	seg := func(text string) []hark.Segment {
		return []hark.Segment{{Index: 0, Start: 0, End: 2, Speaker: "A", Role: hark.RoleWorker, Text: text}}
	}
	if err := db.PutTranscript(ctx, &hark.Transcript{RecordingID: r.ID, Engine: "e", Segments: seg("owner"), Lease: 3}); err != nil {
		t.Fatalf("the owner's transcript: %v", err)
	}
	if err := db.PutTranscript(ctx, &hark.Transcript{RecordingID: r.ID, Engine: "e", Segments: seg("stale"), Lease: 2}); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("a stale transcript: %v, want ECONFLICT", err)
	}
	tag := func(code string) []hark.Tag {
		return []hark.Tag{{Segment: 0, Code: code, Start: 0, End: 5, Evidence: "owner", Source: hark.SourceRules, Review: hark.ReviewPending}}
	}
	if err := db.PutAnnotations(ctx, &hark.Annotations{RecordingID: r.ID, Codebook: "c", CodebookVersion: "1", Tags: tag("open_question"), Lease: 3}); err != nil {
		t.Fatalf("the owner's tags: %v", err)
	}
	if err := db.PutAnnotations(ctx, &hark.Annotations{RecordingID: r.ID, Codebook: "c", CodebookVersion: "1", Tags: tag("closed_question"), Lease: 2}); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("stale tags: %v, want ECONFLICT", err)
	}
	s, err := db.Session(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Transcript.Segments) != 1 || s.Transcript.Segments[0].Text != "owner" || len(s.Annotations.Tags) != 1 || s.Annotations.Tags[0].Code != "open_question" {
		t.Fatalf("stale results got in: %+v %+v", s.Transcript.Segments, s.Annotations.Tags)
	}
	if err := db.PutTranscript(ctx, &hark.Transcript{RecordingID: recID("missing"), Engine: "e", Segments: seg("x"), Lease: 1}); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("a fenced transcript of an unknown recording: %v, want ENOTFOUND", err)
	}
	if err := db.PutTranscript(ctx, &hark.Transcript{RecordingID: r.ID, Engine: "e", Segments: seg("rebuilt")}); err != nil {
		t.Fatalf("an unfenced transcript (reindex): %v", err)
	}
}

func testSignInFailures(t *testing.T, db *DB) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	attempt := func(key string, at time.Time) []time.Time {
		t.Helper()
		got, err := db.SignInAttempt(ctx, key, at, at.Add(-15*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	attempt("name:sam", t0)
	attempt("name:sam", t0.Add(time.Minute))
	attempt("addr:10.0.0.1", t0.Add(2*time.Minute))
	got := attempt("name:sam", t0.Add(3*time.Minute))
	if len(got) != 3 || !got[0].Equal(t0) || !got[2].Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("attempts of name:sam: %v, want 10:00, 10:01 and 10:03, oldest first", got)
	}
	if err := db.ForgetSignInAttempt(ctx, "name:sam", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := attempt("name:sam", t0.Add(4*time.Minute)); len(got) != 3 || got[1].Equal(t0.Add(time.Minute)) {
		t.Fatalf("after forgetting 10:01: %v", got)
	}
	// An attempt 20 minutes on forgets those older than its window.
	if got := attempt("name:sam", t0.Add(20*time.Minute)); len(got) != 1 {
		t.Fatalf("attempts outside the window were kept: %v", got)
	}
	if err := db.ClearSignInFailures(ctx, "name:sam"); err != nil {
		t.Fatal(err)
	}
	if got := attempt("name:sam", t0.Add(21*time.Minute)); len(got) != 1 {
		t.Fatalf("cleared attempts remain: %v", got)
	}
	if got := attempt("addr:10.0.0.1", t0.Add(21*time.Minute)); len(got) != 1 {
		t.Fatalf("addr:10.0.0.1: %v, want only the new attempt (10:02 is out of the window)", got)
	}
}

func testClaimRecording(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusTranscribing, 0)
	r.Attempts, r.Lease = 1, 1
	if err := db.ClaimRecording(ctx, r, 0); err != nil {
		t.Fatalf("first claim of a new recording: %v", err)
	}
	if err := db.ClaimRecording(ctx, r, 0); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("second claim with the same previous lease: %v, want ECONFLICT", err)
	}
	r2 := *r
	r2.Lease = 2
	r2.Status = hark.StatusAnnotating
	if err := db.ClaimRecording(ctx, &r2, 1); err != nil {
		t.Fatalf("taking over from lease 1: %v", err)
	}
	if err := db.ClaimRecording(ctx, &r2, 1); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("taking over twice: %v, want ECONFLICT", err)
	}
	got, err := db.Recording(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lease != 2 || got.Attempts != 1 || got.Status != hark.StatusAnnotating {
		t.Fatalf("after the claims: lease %d attempts %d %s, want lease 2, attempts 1, annotating", got.Lease, got.Attempts, got.Status)
	}
}

func testClaimRecordingRace(t *testing.T, db *DB) {
	ctx := context.Background()
	const workers = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range workers {
		wg.Go(func() {
			r := rec("race", "north", "b1", hark.StatusTranscribing, 0)
			r.Attempts, r.Lease = 1, 1
			err := db.ClaimRecording(ctx, r, 0)
			if err != nil && hark.ErrorCode(err) != hark.ECONFLICT {
				t.Errorf("claim: %v", err)
				return
			}
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d of %d concurrent claims won, want exactly 1", won, workers)
	}
}

func testReviewVersions(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusReady, 0)
	put(t, db, r)
	if _, err := db.Review(ctx, recID("missing")); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("review of an unknown recording: %v, want ENOTFOUND", err)
	}
	cur, err := db.Review(ctx, r.ID)
	if err != nil || cur.Version != 0 {
		t.Fatalf("fresh review: %+v, %v", cur, err)
	}
	first := &hark.ReviewDoc{RecordingID: r.ID, Notes: []hark.Note{{ID: "n1", Segment: -1, Text: "one", By: "a"}}}
	if err := db.PutReview(ctx, first, 0); err != nil {
		t.Fatal(err)
	}
	// A second coach still looking at version 0 is refused.
	stale := &hark.ReviewDoc{RecordingID: r.ID, Notes: []hark.Note{{ID: "n2", Segment: -1, Text: "two", By: "b"}}}
	if err := db.PutReview(ctx, stale, 0); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("change on a stale view: %v, want ECONFLICT", err)
	}
	got, err := db.Review(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || len(got.Notes) != 1 || got.Notes[0].Text != "one" {
		t.Fatalf("after a refused change: %+v", got)
	}
	got.Notes = append(got.Notes, stale.Notes...)
	if err := db.PutReview(ctx, got, 1); err != nil {
		t.Fatalf("change on the current view: %v", err)
	}
	if got, _ := db.Review(ctx, r.ID); got.Version != 2 || len(got.Notes) != 2 {
		t.Fatalf("after two changes: %+v", got)
	}
}

func testReviewSurvivesReannotation(t *testing.T, db *DB) {
	ctx := context.Background()
	r := rec("a", "north", "b1", hark.StatusReady, 0)
	put(t, db, r)
	putTags(t, db, r.ID, tag(0, "reflection", hark.ReviewRejected), tag(1, "reflection", hark.ReviewAccepted),
		hark.Tag{Segment: 2, Code: "affirmation", Start: 0, End: 4, Evidence: "okay", Source: hark.SourceCoach, Review: hark.ReviewAccepted})
	// A new codebook version finds the same tag in segment 1 and a new one.
	a := &hark.Annotations{RecordingID: r.ID, Codebook: "mi", CodebookVersion: "3", Tagger: "rules",
		Tags: []hark.Tag{tag(1, "reflection", hark.ReviewPending), tag(3, "open_question", hark.ReviewPending)}}
	if err := db.PutAnnotations(ctx, a); err != nil {
		t.Fatal(err)
	}
	s, err := db.Session(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]hark.Review{}
	for _, tg := range s.Annotations.Tags {
		got[fmt.Sprintf("%d/%s/%s", tg.Segment, tg.Code, tg.Source)] = tg.Review
	}
	want := map[string]hark.Review{"1/reflection/rules": hark.ReviewAccepted, "3/open_question/rules": hark.ReviewPending, "2/affirmation/coach": hark.ReviewAccepted}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after re-annotation: %v, want %v", got, want)
	}
}

func testUsers(t *testing.T, db *DB) {
	ctx := context.Background()
	u := &hark.User{ID: "u1", Name: "sam", Display: "Sam O'Neil", Role: hark.RoleCoach, Teams: []string{"north", "east"},
		PasswordHash: "$argon2id$x", CreatedAt: base}
	if err := db.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := db.UserByName(ctx, "sam")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "u1" || got.Role != hark.RoleCoach || !reflect.DeepEqual(got.Teams, []string{"east", "north"}) || got.PasswordHash != u.PasswordHash || got.Disabled {
		t.Fatalf("got %+v", got)
	}
	u.Teams, u.Disabled = []string{"west"}, true
	if err := db.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.User(ctx, "u1"); !reflect.DeepEqual(got.Teams, []string{"west"}) || !got.Disabled {
		t.Fatalf("after update: %+v", got)
	}
	if err := db.PutUser(ctx, &hark.User{ID: "u2", Name: "sam", Role: hark.RoleAnalyst, CreatedAt: base}); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("a second user with the same name: %v, want ECONFLICT", err)
	}
	if _, err := db.UserByName(ctx, "nobody"); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := db.UserByOIDC(ctx, ""); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("empty subject: %v", err)
	}
	if err := db.PutTeam(ctx, "south"); err != nil {
		t.Fatal(err)
	}
	put(t, db, rec("a", "north", "b1", hark.StatusReady, 0))
	teams, err := db.Teams(ctx)
	if err != nil || !reflect.DeepEqual(teams, []string{"north", "south", "west"}) {
		t.Fatalf("teams %v, %v", teams, err)
	}
	users, err := db.Users(ctx)
	if err != nil || len(users) != 1 {
		t.Fatalf("users %v, %v", users, err)
	}
}

func testWebSessions(t *testing.T, db *DB) {
	ctx := context.Background()
	if err := db.PutUser(ctx, &hark.User{ID: "u1", Name: "sam", Role: hark.RoleCoach, CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	s := &hark.WebSession{TokenHash: "h1", UserID: "u1", CSRF: "c", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := db.PutWebSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.WebSession(ctx, "h1", base.Add(time.Minute))
	if err != nil || got.UserID != "u1" || got.CSRF != "c" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := db.WebSession(ctx, "h1", base.Add(2*time.Hour)); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("expired session: %v, want ENOTFOUND", err)
	}
	s.TokenHash = "h2"
	if err := db.PutWebSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUserSessions(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.WebSession(ctx, "h2", base); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("after signing out everywhere: %v", err)
	}
}

func testAuditLog(t *testing.T, db *DB) {
	ctx := context.Background()
	for i, e := range []hark.AuditEntry{
		{User: "sam", Action: "view", RecordingID: "r1"},
		{User: "jo", Action: "play", RecordingID: "r1", Detail: "at 12.5s"},
		{User: "sam", Action: "export", RecordingID: "r2"},
	} {
		e.At = base.Add(time.Duration(i) * time.Minute)
		if err := db.Audit(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.AuditLog(ctx, hark.AuditFilter{})
	if err != nil || len(all) != 3 || all[0].Action != "export" || all[2].Action != "view" {
		t.Fatalf("all: %+v, %v", all, err)
	}
	sam, _ := db.AuditLog(ctx, hark.AuditFilter{User: "sam"})
	r1, _ := db.AuditLog(ctx, hark.AuditFilter{RecordingID: "r1", Since: base.Add(30 * time.Second)})
	if len(sam) != 2 || len(r1) != 1 || r1[0].User != "jo" || r1[0].Detail != "at 12.5s" {
		t.Fatalf("filtered: %+v / %+v", sam, r1)
	}
}

func testRecordingsAccessFilters(t *testing.T, db *DB) {
	ctx := context.Background()
	a, b, c := rec("a", "north", "b1", hark.StatusReady, 0), rec("b", "south", "b1", hark.StatusReady, 1), rec("c", "east", "b1", hark.StatusReady, 2)
	a.RecordedOn, b.RecordedOn, c.RecordedOn = "2026-01-15", "2026-02-15", "2026-03-15"
	b.Worker, b.MeetingType = "w-2", "conference"
	put(t, db, a, b, c)
	putTags(t, db, a.ID, tag(0, "threat", hark.ReviewPending), tag(1, "reflection", hark.ReviewAccepted))
	putTags(t, db, b.ID, tag(0, "threat", hark.ReviewRejected))
	tests := []struct {
		name string
		f    hark.RecordingFilter
		want []string
	}{
		{"all", hark.RecordingFilter{}, []string{"c", "b", "a"}},
		{"teams", hark.RecordingFilter{Teams: []string{"north", "east"}}, []string{"c", "a"}},
		{"no teams", hark.RecordingFilter{Teams: []string{}}, nil},
		{"worker", hark.RecordingFilter{Worker: "w-2"}, []string{"b"}},
		{"meeting type", hark.RecordingFilter{MeetingType: "conference"}, []string{"b"}},
		{"dates", hark.RecordingFilter{From: "2026-02-01", To: "2026-03-15"}, []string{"c", "b"}},
		{"code, rejected not counted", hark.RecordingFilter{Code: "threat"}, []string{"a"}},
		{"team within teams", hark.RecordingFilter{Team: "south", Teams: []string{"north"}}, nil},
	}
	for _, tt := range tests {
		list, err := db.Recordings(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range list {
			got = append(got, strings.TrimSuffix(strings.TrimPrefix(r.Key, "meetings/"), ".wav"))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	list, _ := db.Recordings(ctx, hark.RecordingFilter{Team: "north"})
	if len(list) != 1 || list[0].Tags != 2 || list[0].Reviewed != 1 {
		t.Fatalf("progress of a: %+v", list)
	}
}
