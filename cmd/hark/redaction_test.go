package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
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
	clients := map[string]*http.Client{}
	coach := func(team string) func(path string) string {
		c := clients[team]
		if c == nil {
			c = b.client("coach-"+team, hark.RoleCoach, team)
			clients[team] = c
		}
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

	// The audio with the identifiers silenced, for both: South's found in
	// the clear text, North's where it was masked before storing. The
	// parent's turn (5.2–9.8 s) names the child, a phone number, an
	// address and a postcode: much of it goes quiet; the worker's first
	// question (0.4–4.8 s) only at the child's name.
	original, err := os.ReadFile(filepath.Join(meetingsDir, "partnership.wav"))
	if err != nil {
		t.Fatal(err)
	}
	for team, id := range map[string]string{"North": north.Recording.ID, "South": south.Recording.ID} {
		wav := coach(team)("/recordings/" + id + "/export/wav-redacted")
		if len(wav) != len(original) || wav[:44] != string(original[:44]) {
			t.Errorf("%s: the redacted audio is %d bytes, the original %d: only samples may change", team, len(wav), len(original))
			continue
		}
		silenced := func(from, to float64) float64 { // the share of changed bytes that are now silence, by time
			rate, frame := 16000*2*2, 4 // stereo 16-bit at 16 kHz (partnership.wav)
			a, b := 44+int(from*float64(rate))/frame*frame, 44+int(to*float64(rate))/frame*frame
			zero := 0
			for i := a; i < b && i < len(wav); i++ {
				if wav[i] == 0 && original[i] != 0 {
					zero++
				}
			}
			return float64(zero) / float64(b-a)
		}
		if got := silenced(5.2, 9.8); got < 0.3 {
			t.Errorf("%s: only %.0f%% of the parent's turn silenced", team, 100*got)
		}
		if got := silenced(10.2, 15.3); got > 0.25 {
			t.Errorf("%s: %.0f%% of the worker's threat silenced, which names only Kayleigh", team, 100*got)
		}
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
