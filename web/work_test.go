package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// The session page of a recording still being transcribed says how far it
// has got, and the script that follows the work without a reload is on
// it; the API it polls gives the same figures. A ready recording's page
// has neither.
func TestSessionPageShowsWork(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	now := time.Now().UTC()
	r := &hark.Recording{Schema: 1, ID: hark.RecordingID("recordings", "north/long.wav", "e2"), Bucket: "recordings", Key: "north/long.wav", ETag: "e2",
		Team: "north", Batch: "north-batch", Status: hark.StatusTranscribing, Attempts: 1, CreatedAt: now, UpdatedAt: now,
		Progress: &hark.Progress{Stage: hark.StageTranscribe, Done: 3, Total: 12, Seconds: 1800, TotalSeconds: 7200, Started: now.Add(-10 * time.Minute)}}
	if err := b.idx.PutRecording(ctx, r); err != nil {
		t.Fatal(err)
	}
	c := b.client("coach-north", hark.RoleCoach, "north")
	code, page := c.get("/recordings/" + r.ID)
	if code != 200 {
		t.Fatalf("session page: %d", code)
	}
	for _, want := range []string{`id="work" data-status="transcribing"`, `value="0.250"`, "3 of 12 chunks (25%), about 30 min left", `src="/static/session-work.js"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	code, body := c.get("/api/recordings/" + r.ID)
	var s hark.Session
	if code != 200 || json.Unmarshal([]byte(body), &s) != nil || s.Recording.Progress == nil || s.Recording.Progress.Done != 3 || s.Recording.Progress.TotalSeconds != 7200 {
		t.Errorf("the API the page polls: %d %s", code, body)
	}
	if code, js := c.get("/static/session-work.js"); code != 200 || !strings.Contains(js, "/api/recordings/") || !strings.Contains(js, "location.reload()") {
		t.Errorf("session-work.js: %d", code)
	}

	if _, page := c.get("/recordings/" + b.recA); strings.Contains(page, `id="work"`) {
		t.Error("a ready recording's page shows work in hand")
	}
}
