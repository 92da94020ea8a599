package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/web"
)

const forgetPhrase = "marmalade-zeppelin-7734"

// hark forget against hark up: a recording whose transcript and a coach's
// note carry a distinctive phrase is listed, then erased; afterwards
// neither its id, nor its phrase, nor its file name is anywhere under the
// data dir (object store, index and its log, JetStream's files), one audit
// entry says something was erased and why, and the other recording of the
// batch is untouched.
func TestForgetCommand(t *testing.T) {
	data := t.TempDir()
	b := startUp(t, data)
	dir := t.TempDir()
	for _, name := range []string{"planted", "kept"} {
		wav := filepath.Join(dir, name+".wav")
		copyFile(t, filepath.Join(meetingsDir, "partnership.wav"), wav)
		vtt, err := os.ReadFile(filepath.Join(meetingsDir, "partnership.vtt"))
		if err != nil {
			t.Fatal(err)
		}
		if name == "planted" {
			vtt = bytes.Replace(vtt, []byte("school"), []byte(forgetPhrase), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".vtt"), vtt, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	batch, err := b.upload(uploadMeta{Team: "North"}, "", filepath.Join(dir, "planted.wav"), filepath.Join(dir, "kept.wav"))
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 2)
	planted, kept := b.session("North/planted.wav"), b.session("North/kept.wav")
	if !strings.Contains(planted.Transcript.Segments[0].Text+planted.Transcript.Segments[1].Text+planted.Transcript.Segments[2].Text+planted.Transcript.Segments[3].Text, forgetPhrase) {
		found := false
		for _, s := range planted.Transcript.Segments {
			found = found || strings.Contains(s.Text, forgetPhrase)
		}
		if !found {
			t.Fatal("the phrase is not in the transcript: the test proves nothing")
		}
	}
	id := planted.Recording.ID
	coach := b.client("coach", hark.RoleCoach, "North")
	if st, _ := postReview(t, coach, b.up.Endpoints.HTTP, id, map[string]any{"version": 0, "action": "note", "segment": -1, "text": "Ask about " + forgetPhrase}); st != http.StatusOK {
		t.Fatalf("note: %d", st)
	}
	if resp, err := coach.Get(b.up.Endpoints.HTTP + "/recordings/" + id); err == nil { // an audit entry about it
		resp.Body.Close()
	}

	run := func(args ...string) (string, error) {
		t.Helper()
		return runHark(t, data, "", append([]string{"forget"}, args...)...)
	}
	out, err := run(id, "--reason", "subject access request 2026-114")
	if err != nil || !strings.Contains(out, "1 recording(s):") || !strings.Contains(out, "North/planted.wav") || !strings.Contains(out, "nothing erased") {
		t.Fatalf("without --yes: %v\n%s", err, out)
	}
	if _, err := b.up.Index().Recording(context.Background(), id); err != nil {
		t.Fatalf("listed, yet erased: %v", err)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--reason", "x"}, "say what to erase"},
		{[]string{id}, "give the reason"},
		{[]string{"--worker", "w-1", "--reason", "x"}, "a worker needs a team"},
		{[]string{"nonsense", "--reason", "x"}, "is not a recording id"},
	} {
		if _, err := run(bad.args...); err == nil || !strings.Contains(hark.ErrorMessage(err), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
	out, err = run(id, "--reason", "subject access request 2026-114", "--yes")
	if err != nil || !strings.Contains(out, "erased 1 recording(s)") {
		t.Fatalf("forget: %v\n%s", err, out)
	}
	if _, err := b.up.Index().Recording(context.Background(), id); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("the recording is still in the index: %v", err)
	}
	if s := b.session("North/kept.wav"); s.Recording.ID != kept.Recording.ID || len(s.Transcript.Segments) != len(kept.Transcript.Segments) {
		t.Errorf("the other recording of the batch changed: %+v", s.Recording)
	}
	entries, err := b.up.idx.AuditLog(context.Background(), hark.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	forgets := 0
	for _, e := range entries {
		if e.Action == "forget" {
			forgets++
			if e.Detail != "1 recording(s) erased: subject access request 2026-114" || e.RecordingID != "" {
				t.Errorf("the erasure's audit entry: %+v", e)
			}
		}
	}
	if forgets != 1 {
		t.Errorf("%d erasure audit entries, want 1", forgets)
	}

	// Nothing of it under the data dir. The up process keeps running: its
	// index connections and JetStream write as they go.
	time.Sleep(200 * time.Millisecond)
	leaks := [][]byte{[]byte(id), []byte(forgetPhrase), []byte("planted.wav")}
	filepath.WalkDir(data, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, leak := range leaks {
			if bytes.Contains(content, leak) {
				t.Errorf("%s holds %q", strings.TrimPrefix(path, data), leak)
			}
		}
		return nil
	})
}

// The admin's erasure on the JSON API against hark up: the first request
// names what would go and a token; a token for another set is refused; the
// token erases exactly those; a coach cannot.
func TestForgetAPI(t *testing.T) {
	b := startUp(t, t.TempDir())
	dir := t.TempDir()
	var wavs []string
	for _, name := range []string{"one", "two"} {
		wav := filepath.Join(dir, name+".wav")
		copyFile(t, filepath.Join(meetingsDir, "partnership.wav"), wav)
		copyFile(t, filepath.Join(meetingsDir, "partnership.vtt"), filepath.Join(dir, name+".vtt"))
		wavs = append(wavs, wav)
	}
	batch, err := b.upload(uploadMeta{Team: "North", Family: "F-77"}, "", wavs[0])
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	batch, err = b.upload(uploadMeta{Team: "North"}, "", wavs[1])
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	one := b.session("North/one.wav")
	post := func(c *http.Client, body map[string]any) (int, web.ForgetAnswer, string) {
		t.Helper()
		var me struct{ CSRF string }
		resp, err := c.Get(b.up.Endpoints.HTTP + "/api/me")
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&me)
		resp.Body.Close()
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, b.up.Endpoints.HTTP+"/api/admin/forget", bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", me.CSRF)
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var ans web.ForgetAnswer
		_ = json.Unmarshal(raw, &ans)
		return resp.StatusCode, ans, string(raw)
	}
	admin := b.client("admin", hark.RoleAdmin)
	st, ans, raw := post(admin, map[string]any{"family": "F-77", "reason": "subject erasure request 2026-115"})
	if st != http.StatusOK || ans.Erased || len(ans.Recordings) != 1 || ans.Recordings[0].ID != one.Recording.ID || ans.Confirm == "" {
		t.Fatalf("without confirm: %d %s", st, raw)
	}
	if st, _, raw := post(admin, map[string]any{"family": "F-77", "reason": "x", "confirm": "0123456789abcdef"}); st != http.StatusConflict {
		t.Errorf("a token for another set: %d %s", st, raw)
	}
	if st, _, raw := post(b.client("coach", hark.RoleCoach, "North"), map[string]any{"family": "F-77", "reason": "x", "confirm": ans.Confirm}); st != http.StatusNotFound {
		t.Errorf("a coach: %d %s", st, raw)
	}
	st, done, raw := post(admin, map[string]any{"family": "F-77", "reason": "subject erasure request 2026-115", "confirm": ans.Confirm})
	if st != http.StatusOK || !done.Erased {
		t.Fatalf("with confirm: %d %s", st, raw)
	}
	if _, err := b.up.Index().Recording(context.Background(), one.Recording.ID); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("still in the index: %v", err)
	}
	if s := b.session("North/two.wav"); s.Recording.Status != hark.StatusReady {
		t.Error("the other recording is gone")
	}
	entries, _ := b.up.idx.AuditLog(context.Background(), hark.AuditFilter{User: "admin"})
	found := false
	for _, e := range entries {
		found = found || e.Action == "forget" && e.Detail == "1 recording(s) erased: subject erasure request 2026-115" && e.RecordingID == ""
	}
	if !found {
		t.Errorf("the erasure is not audited as the admin: %+v", entries)
	}
}
