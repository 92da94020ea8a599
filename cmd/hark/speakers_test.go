package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/web"
)

// hark upload --speakers: the number of people reaches the recording (for
// the diarizer), and a number that cannot be right is refused before
// anything is stored.
func TestUploadSpeakers(t *testing.T) {
	b := startUp(t, t.TempDir())
	dir := t.TempDir()
	wav := filepath.Join(dir, "visit.wav")
	copyFile(t, filepath.Join(meetingsDir, "mixed.wav"), wav)
	copyFile(t, filepath.Join(meetingsDir, "mixed.vtt"), filepath.Join(dir, "visit.vtt"))
	batch, err := b.upload(uploadMeta{Team: "North", Speakers: "2"}, "", wav)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	if rec := b.session("North/visit.wav").Recording; rec.Speakers != 2 {
		t.Errorf("the recording says %d speakers, want 2", rec.Speakers)
	}
	for _, bad := range []string{"0", "11", "two"} {
		_, err := runHark(t, b.dataDir, "", "upload", "--team", "North", "--speakers", bad, wav)
		if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(hark.ErrorMessage(err), "from 1 to 10") {
			t.Errorf("--speakers %s: %v", bad, err)
		}
	}
}

// A coach gives the worker's role to the other speaker of a meeting whose
// roles came out the wrong way round: the annotate stage tags the session
// again, so the worker's codes (the threats of escalation) now sit on that
// speaker's turns, and the machine's transcript stays as it was. An index
// rebuilt from the store has the corrected speakers too.
func TestSpeakerCorrectionRetags(t *testing.T) {
	data := t.TempDir()
	b := startUp(t, data)
	wav := swappedMeeting(t)
	batch, err := b.upload(uploadMeta{Team: "North"}, "", wav)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	before := b.session("North/visit.wav")
	threatsOn := func(s *hark.Session) map[string]int {
		out := map[string]int{}
		for _, tag := range s.Annotations.Tags {
			if tag.Code == "threat_of_escalation" {
				out[s.Transcript.Segments[tag.Segment].Speaker]++
			}
		}
		return out
	}
	if n := threatsOn(before); n["Parent"] != 0 {
		t.Fatalf("before the correction the threats are on %v: the test proves nothing", n)
	}

	coach := b.client("coach", hark.RoleCoach, "North")
	version := 0
	for _, change := range []map[string]any{
		{"action": hark.CorrectRole, "speaker": "Parent", "role": "worker"},
		{"action": hark.CorrectRole, "speaker": "Worker", "role": "parent"},
	} {
		change["version"] = version
		st, out := postReview(t, coach, b.up.Endpoints.HTTP, before.Recording.ID, change)
		if st != http.StatusOK || !out.Retagging {
			t.Fatalf("%v: %d %+v", change, st, out)
		}
		version = out.Version
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		after := b.session("North/visit.wav")
		if n := threatsOn(after); n["Parent"] > 0 && n["Worker"] == 0 {
			for _, s := range after.Transcript.Segments {
				if s.Speaker == "Parent" && s.Role != hark.RoleWorker {
					t.Errorf("segment %d of Parent has role %s", s.Index, s.Role)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the threats are still on %v after the correction", threatsOn(after))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The index is lost and rebuilt from the store: the corrections are
	// made again to the machine's transcript, which the store kept.
	reindexKeeps(t, b, data, "North/visit.wav")
}

// reindexKeeps waits until the pipeline is idle and the recording ready
// (every correction sent the session to be tagged again: the snapshot must
// be the last word), loses the index, rebuilds it from the store, and
// checks that it holds the same.
func reindexKeeps(t *testing.T, b *testBundle, data, key string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if idle, err := b.up.Idle(t.Context()); err == nil && idle {
			if s := b.session(key); s.Recording.Status == hark.StatusReady {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the session was not tagged again within 30 s")
		}
	}
	snapshot := rebuildable(t, b)
	b.close()
	for _, f := range []string{"index.db", "index.db-wal", "index.db-shm"} {
		if err := os.Remove(filepath.Join(data, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	b = startUp(t, data)
	if out, err := runHark(t, data, "", "reindex"); err != nil {
		t.Fatalf("reindex: %v\n%s", err, out)
	}
	if again := rebuildable(t, b); again != snapshot {
		t.Errorf("the rebuilt index differs.\nbefore: %s\nafter:  %s", snapshot, again)
	}
}

// postReview posts one review change as the signed-in client c, with its
// session's CSRF token, and returns the status and the answer.
func postReview(t *testing.T, c *http.Client, base, id string, change map[string]any) (int, web.ReviewResponse) {
	t.Helper()
	var me struct{ CSRF string }
	resp, err := c.Get(base + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	data, _ := json.Marshal(change)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/recordings/"+id+"/review", bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", me.CSRF)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out web.ReviewResponse
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// swappedMeeting writes the authoritarian meeting as visit.wav with its
// transcript's voices swapped (the worker labelled Parent), and returns the
// WAV's path.
func swappedMeeting(t *testing.T) string {
	return editedMeeting(t, strings.NewReplacer("<v Worker>", "<v Parent>", "<v Parent>", "<v Worker>").Replace)
}

// editedMeeting writes the authoritarian meeting as visit.wav with its
// transcript changed by edit, and returns the WAV's path.
func editedMeeting(t *testing.T, edit func(vtt string) string) string {
	t.Helper()
	dir := t.TempDir()
	wav := filepath.Join(dir, "visit.wav")
	copyFile(t, filepath.Join(meetingsDir, "authoritarian.wav"), wav)
	vtt, err := os.ReadFile(filepath.Join(meetingsDir, "authoritarian.vtt"))
	if err != nil {
		t.Fatal(err)
	}
	edited := edit(string(vtt))
	if edited == string(vtt) {
		t.Fatal("the testdata meeting changed: the edit found nothing to change")
	}
	if err := os.WriteFile(filepath.Join(dir, "visit.vtt"), []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	return wav
}
