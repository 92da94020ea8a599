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
// from it, and double coding: the marks, settled or not, and each coder's
// independent review.
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
	sam := b.reviewer("sam")
	v := sam(s.Recording.ID, 0, map[string]any{"action": "reject", "key": s.Annotations.Tags[0].Key})
	sam(s.Recording.ID, v, map[string]any{"action": "note", "segment": 0, "text": "A warm opening: use it in supervision."})

	// The two other sessions are double-coded: one settled, the other
	// still blind with one coder's review under way.
	var others []*hark.Session
	for _, key := range []string{"North/authoritarian.wav", "North/partnership.wav"} {
		if o := b.session(key); len(o.Annotations.Tags) > 0 {
			others = append(others, o)
		}
	}
	if len(others) != 2 {
		t.Fatalf("%d of the other sessions have tags, want 2", len(others))
	}
	ana, ben := b.reviewer("ana"), b.reviewer("ben")
	if out, err := runHark(t, dir, "", "double-code", "mark", others[0].Recording.ID, others[1].Recording.ID, "--coders", "ana,ben"); err != nil {
		t.Fatalf("double-code mark: %v\n%s", err, out)
	}
	settled, blind := others[0], others[1]
	v = ana(settled.Recording.ID, 0, map[string]any{"action": "accept", "key": settled.Annotations.Tags[0].Key})
	ana(settled.Recording.ID, v, map[string]any{"action": "state", "state": "complete"})
	v = ben(settled.Recording.ID, 0, map[string]any{"action": "reject", "key": settled.Annotations.Tags[0].Key})
	ben(settled.Recording.ID, v, map[string]any{"action": "state", "state": "complete"})
	if out, err := runHark(t, dir, "", "double-code", "settle", settled.Recording.ID, "--take", "ben"); err != nil {
		t.Fatalf("double-code settle: %v\n%s", err, out)
	}
	ana(blind.Recording.ID, 0, map[string]any{"action": "reject", "key": blind.Annotations.Tags[0].Key})

	before := rebuildable(t, b)
	if strings.Count(before, "double-coded by [ana ben]") != 2 || !strings.Contains(before, `settled by "cli"`) || !strings.Contains(before, "ana's review v1 in_progress") {
		t.Fatalf("the double coding is not in the index as made:\n%s", before)
	}

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
		for _, d := range rv.Decisions {
			fmt.Fprintf(&sb, " %s:%s", d.Key, d.Review)
		}
		idx := b.up.idx
		dc, err := idx.DoubleCoding(ctx, r.ID)
		if hark.ErrorCode(err) != hark.ENOTFOUND {
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&sb, " double-coded by %v (%s), settled by %q", dc.Coders, dc.How, dc.SettledBy)
			crs, err := idx.CoderReviews(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, cr := range crs {
				fmt.Fprintf(&sb, " %s's review v%d %s", cr.Coder, cr.Version, cr.State)
				for _, d := range cr.Decisions {
					fmt.Fprintf(&sb, " %s:%s", d.Key, d.Review)
				}
			}
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// reviewer returns a function that makes a change to a session's review
// as a new coach of team North called name, through the API, and returns
// the review's new version.
func (b *testBundle) reviewer(name string) func(id string, version int, change map[string]any) int {
	b.t.Helper()
	c := b.client(name, hark.RoleCoach, "North")
	var me struct{ CSRF string }
	resp, err := c.Get(b.up.Endpoints.HTTP + "/api/me")
	if err != nil {
		b.t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	return func(id string, version int, change map[string]any) int {
		b.t.Helper()
		change["version"] = version
		data, _ := json.Marshal(change)
		req, _ := http.NewRequest(http.MethodPost, b.up.Endpoints.HTTP+"/api/recordings/"+id+"/review", bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", me.CSRF)
		resp, err := c.Do(req)
		if err != nil {
			b.t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Version int
			Warning string
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Warning != "" {
			b.t.Fatalf("%s's review of %s %v: %d %q", name, id, change, resp.StatusCode, out.Warning)
		}
		return out.Version
	}
}
