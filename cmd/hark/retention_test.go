package main

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// hark retention and hark sweep against hark up: a policy is set and shown
// (and audited); a recording older than the audio limit loses its audio at
// the sweep, the review page and the audio route say so, and its
// transcript and tags stay; one older than the results limit is erased.
func TestRetentionSweep(t *testing.T) {
	data := t.TempDir()
	b := startUp(t, data)
	dir := t.TempDir()
	var wavs []string
	for _, name := range []string{"month", "year"} {
		wav := filepath.Join(dir, name+".wav")
		copyFile(t, filepath.Join(meetingsDir, "partnership.wav"), wav)
		copyFile(t, filepath.Join(meetingsDir, "partnership.vtt"), filepath.Join(dir, name+".vtt"))
		wavs = append(wavs, wav)
	}
	batch, err := b.upload(uploadMeta{Team: "North"}, "", wavs...)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 2)
	run := func(args ...string) string {
		t.Helper()
		out, err := runHark(t, data, "", args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	if out := run("retention", "show"); !strings.Contains(out, "no retention policies") {
		t.Errorf("show, before: %s", out)
	}
	run("retention", "set", "--team", "North", "--audio-days", "30", "--results-days", "365")
	if out := run("retention", "show"); !strings.Contains(out, "team North: audio 30 days, results 365 days, reviews as long as the results, audit entries kept") {
		t.Errorf("show: %s", out)
	}
	if _, err := runHark(t, data, "", "retention", "set", "--audio-days", "-1"); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("negative days: %v", err)
	}
	// Age the two recordings, 40 days and 400: the index keeps when a
	// recording came, and nothing in hark changes it, so the test does.
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, days := range map[string]int{"month": 40, "year": 400} {
		at := time.Now().Add(-time.Duration(days) * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z")
		if _, err := db.ExecContext(ctx, `UPDATE recordings SET created_at = ? WHERE id = ?`, at, b.session("North/"+name+".wav").Recording.ID); err != nil {
			t.Fatal(err)
		}
	}
	month, year := b.session("North/month.wav"), b.session("North/year.wav")
	if out := run("sweep"); !strings.Contains(out, "audio of 1 recording(s) removed, 1 recording(s) erased") {
		t.Fatalf("sweep: %s", out)
	}
	if _, err := b.up.Index().Recording(ctx, year.Recording.ID); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("the recording older than a year: %v", err)
	}
	after := b.session("North/month.wav")
	if after.Recording.AudioRemoved == nil || len(after.Transcript.Segments) != len(month.Transcript.Segments) || len(after.Annotations.Tags) != len(month.Annotations.Tags) {
		t.Errorf("the 40-day-old recording: %+v", after.Recording)
	}
	coach := b.client("coach", hark.RoleCoach, "North")
	resp, err := coach.Get(b.up.Endpoints.HTTP + "/recordings/" + month.Recording.ID + "/audio")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "removed on") {
		t.Errorf("the audio route: %d %s", resp.StatusCode, body)
	}
	resp, err = coach.Get(b.up.Endpoints.HTTP + "/recordings/" + month.Recording.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "The audio was removed on") || strings.Contains(string(body), "<audio") {
		t.Errorf("the review page does not say the audio is gone")
	}
	entries, err := b.up.idx.AuditLog(ctx, hark.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.Action == "retention" || e.Action == "sweep" {
			actions = append(actions, e.Action+": "+e.Detail)
		}
	}
	if len(actions) != 2 {
		t.Errorf("audited: %q, want the policy and the sweep", actions)
	}
	if out := run("sweep"); !strings.Contains(out, "audio of 0 recording(s) removed, 0 recording(s) erased") {
		t.Errorf("a second sweep: %s", out)
	}
}
