package index

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// BenchmarkPutTranscript stores the transcript of a two-hour meeting
// (2,400 turns) and its tags (600), replacing the previous ones, as a
// worker does for each recording.
func BenchmarkPutTranscript(b *testing.B) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	r := &hark.Recording{Schema: 1, ID: hark.RecordingID("recordings", "long.wav", "e"), Bucket: "recordings", Key: "long.wav", ETag: "e",
		Team: "north", Status: hark.StatusReady, CreatedAt: now, UpdatedAt: now}
	if err := db.PutRecording(ctx, r); err != nil {
		b.Fatal(err)
	}
	tr := &hark.Transcript{RecordingID: r.ID, Engine: "bench"}
	for i := range 2400 {
		tr.Segments = append(tr.Segments, hark.Segment{Index: i, Start: float64(i) * 3, End: float64(i)*3 + 2.5, Speaker: "Worker", Role: hark.RoleWorker,
			Text: fmt.Sprintf("Turn %d: so what I'm hearing is that the mornings are the hard part for you and Leo.", i), Confidence: 0.9})
	}
	an := &hark.Annotations{RecordingID: r.ID, Codebook: "hark-practice", CodebookVersion: "1", Tagger: "rules"}
	for i := range 600 {
		an.Tags = append(an.Tags, hark.Tag{Segment: i * 4, Code: "reflective_listening", Start: 0, End: 30, Evidence: "so what I'm hearing is that the", Confidence: 0.8, Source: hark.SourceRules, Review: hark.ReviewPending})
	}
	b.ResetTimer()
	for b.Loop() {
		if err := db.PutTranscript(ctx, tr); err != nil {
			b.Fatal(err)
		}
		if err := db.PutAnnotations(ctx, an); err != nil {
			b.Fatal(err)
		}
	}
}
