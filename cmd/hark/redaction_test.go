package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
)

// identifiedVTT is a meeting whose turns name a child, a phone number, an
// address and a postcode, and whose worker makes a threat the rules tag.
const identifiedVTT = `WEBVTT

00:00:00.400 --> 00:00:04.800
<v Worker>How have things been with Tobias since the conference?

00:00:05.200 --> 00:00:09.800
<v Parent>My son Tobias is fine. Ring me on 07700 900123, we're at 12 Acacia Avenue, M14 5RT.

00:00:10.200 --> 00:00:15.300
<v Worker>If you don't engage with the plan, Kayleigh, we will have to start care proceedings.
`

// hark redaction: North redacts before storing (the clear text is never
// kept, the uploaded transcript goes once read), South on display only (the
// store keeps the clear text, the pages, the API and exports mask it); in
// both the threat stays tagged on its words.
func TestRedaction(t *testing.T) {
	data := t.TempDir()
	b := startUp(t, data)
	names := filepath.Join(t.TempDir(), "names.txt")
	if err := os.WriteFile(names, []byte("# North's families\nKayleigh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"redaction", "set", "--team", "North", "--mode", "store", "--names-file", names},
		{"redaction", "set", "--team", "South", "--mode", "display", "--names-file", names},
	} {
		if out, err := runHark(t, data, "", args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	if out, _ := runHark(t, data, "", "redaction", "show"); !strings.Contains(out, "team North: store, 1 name(s)") || !strings.Contains(out, "team South: display, 1 name(s)") || strings.Contains(out, "Kayleigh") {
		t.Errorf("show: %s", out)
	}
	if _, err := runHark(t, data, "", "redaction", "set", "--mode", "sometimes"); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("a bad mode: %v", err)
	}
	dir := t.TempDir()
	for _, team := range []string{"North", "South"} {
		wav := filepath.Join(dir, team, "visit.wav")
		os.MkdirAll(filepath.Dir(wav), 0o700)
		copyFile(t, filepath.Join(meetingsDir, "partnership.wav"), wav)
		if err := os.WriteFile(filepath.Join(dir, team, "visit.vtt"), []byte(identifiedVTT), 0o600); err != nil {
			t.Fatal(err)
		}
		batch, err := b.upload(uploadMeta{Team: team}, "", wav)
		if err != nil {
			t.Fatalf("upload: %v\n%s", err, b.out)
		}
		b.waitBatch(batch, 1)
	}
	identifiers := []string{"Tobias", "07700 900123", "Acacia", "M14 5RT", "Kayleigh"}
	leaks := func(what, s string) {
		t.Helper()
		for _, id := range identifiers {
			if strings.Contains(s, id) {
				t.Errorf("%s holds %q", what, id)
			}
		}
	}
	threatOnItsWords := func(s *hark.Session) {
		t.Helper()
		for _, tag := range s.Annotations.Tags {
			if tag.Code == "threat_of_escalation" {
				seg := s.Transcript.Segments[tag.Segment]
				if seg.Text[tag.Start:tag.End] != tag.Evidence || !strings.Contains(tag.Evidence, "care proceedings") {
					t.Errorf("the threat's evidence %q is not its words in %q", tag.Evidence, seg.Text)
				}
				return
			}
		}
		t.Errorf("no threat tagged: %+v", s.Annotations.Tags)
	}
	store, err := ingest.NewStore(ingest.StoreConfig{Endpoint: b.up.Endpoints.S3, AccessKey: b.up.Secrets.S3AccessKey, SecretKey: b.up.Secrets.S3SecretKey, Bucket: "recordings"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	object := func(key string) string {
		rd, _, err := store.Get(context.Background(), key)
		if err != nil {
			return ""
		}
		defer rd.Close()
		data, _ := io.ReadAll(rd)
		return string(data)
	}
	coach := func(team string) func(path string) string {
		c := b.client("coach-"+team, hark.RoleCoach, team)
		return func(path string) string {
			resp, err := c.Get(b.up.Endpoints.HTTP + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			return string(data)
		}
	}

	north := b.session("North/visit.wav")
	leaks("North's indexed transcript", jsonText(t, north.Transcript))
	leaks("North's tags", jsonText(t, north.Annotations))
	leaks("North's stored transcript", object(hark.TranscriptKey(north.Recording.ID)))
	if object("North/visit.vtt") != "" {
		t.Error("North's uploaded transcript (the clear text) is still in the store")
	}
	if got := north.Transcript.Segments[1].Text; got != "My son ****** is fine. Ring me on ***** ******, we're at ** ****** ******, *** ***." {
		t.Errorf("North's turn: %q", got)
	}
	threatOnItsWords(north)

	south := b.session("South/visit.wav")
	if !strings.Contains(object(hark.TranscriptKey(south.Recording.ID)), "07700 900123") {
		t.Error("South's stored transcript is not the clear text")
	}
	get := coach("South")
	for _, path := range []string{"/api/recordings/" + south.Recording.ID, "/recordings/" + south.Recording.ID,
		"/recordings/" + south.Recording.ID + "/export/csv", "/recordings/" + south.Recording.ID + "/export/vtt", "/recordings/" + south.Recording.ID + "/export/json"} {
		body := get(path)
		if !strings.Contains(body, "****") {
			t.Errorf("%s: nothing masked", path)
		}
		leaks("South's "+path, body)
	}
	var shown hark.Session
	if err := json.Unmarshal([]byte(get("/api/recordings/"+south.Recording.ID)), &shown); err != nil {
		t.Fatal(err)
	}
	threatOnItsWords(&shown)
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
