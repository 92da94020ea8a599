package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// The object store is the system of record: with the index deleted, `hark
// reindex` rebuilds every recording, transcript, tag and coach's review
// from it.
func TestReindexRebuildsFromTheStore(t *testing.T) {
	dir := t.TempDir()
	b := startUp(t, dir)
	batch, err := b.upload(uploadMeta{Team: "North", Worker: "w-17", MeetingType: "home-visit", RecordedOn: "2026-11-02"}, "", meetingsDir)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	if r := b.waitBatch(batch, 3); r.Statuses[hark.StatusReady] != 3 {
		t.Fatalf("want 3 ready, got %+v", r)
	}

	// A coach rejects a tag and leaves a note.
	s := b.session("North/mixed.wav")
	if len(s.Annotations.Tags) == 0 {
		t.Fatal("no tags to review")
	}
	coach := b.client("sam", hark.RoleCoach, "North")
	var me struct{ CSRF string }
	resp, err := coach.Get(b.up.Endpoints.HTTP + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	review := func(version int, change map[string]any) int {
		t.Helper()
		change["version"] = version
		data, _ := json.Marshal(change)
		req, _ := http.NewRequest(http.MethodPost, b.up.Endpoints.HTTP+"/api/recordings/"+s.Recording.ID+"/review", bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", me.CSRF)
		resp, err := coach.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Version int }
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
			t.Fatalf("review %v: %d", change, resp.StatusCode)
		}
		return out.Version
	}
	v := review(0, map[string]any{"action": "reject", "key": s.Annotations.Tags[0].Key})
	review(v, map[string]any{"action": "note", "segment": 0, "text": "A warm opening: use it in supervision."})

	before := rebuildable(t, b)

	// The index is lost.
	b.close()
	for _, f := range []string{"index.db", "index.db-wal", "index.db-shm"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	b = startUp(t, dir)
	if list, _ := b.up.Index().Recordings(context.Background(), hark.RecordingFilter{}); len(list) != 0 {
		t.Fatalf("the new index already holds %d recordings", len(list))
	}
	out, err := runHark(t, dir, "", "reindex")
	if err != nil {
		t.Fatalf("reindex: %v\n%s", err, out)
	}
	if !strings.Contains(out, "reindexed 3 recording(s)") {
		t.Errorf("reindex said:\n%s", out)
	}
	if after := rebuildable(t, b); after != before {
		t.Errorf("rebuilt index differs.\nbefore: %s\nafter:  %s", before, after)
	}
}

// rebuildable lists what the index holds that it must rebuild from the
// store: each recording's state, its transcript, its tags with their review
// status, and the coaches' review with its notes.
func rebuildable(t *testing.T, b *testBundle) string {
	t.Helper()
	ctx := context.Background()
	list, err := b.up.Index().Recordings(ctx, hark.RecordingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, r := range list {
		s, err := b.up.Index().Session(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s %s team=%s lease=%d segments=%d", r.Key, r.Status, r.Team, r.Lease, len(s.Transcript.Segments))
		for _, seg := range s.Transcript.Segments {
			fmt.Fprintf(&sb, " [%s %.2f %d]", seg.Role, seg.Start, len(seg.Text))
		}
		for _, tag := range s.Annotations.Tags {
			fmt.Fprintf(&sb, " %s:%s", tag.Code, tag.Review)
		}
		rv, err := b.up.Index().Review(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, " review v%d", rv.Version)
		for _, n := range rv.Notes {
			fmt.Fprintf(&sb, " note %d %q by %s", n.Segment, n.Text, n.By)
		}
		sb.WriteString("\n")
	}
	return sb.String()
}
