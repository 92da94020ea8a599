package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// The session page says how the speakers were told apart and their roles,
// and warns the coach when hark is not sure who the worker is.
func TestSessionPageSpeakers(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	sess, err := b.idx.Session(ctx, b.recA)
	if err != nil {
		t.Fatal(err)
	}
	tr := sess.Transcript
	tr.Speakers = &hark.SpeakerInfo{Source: hark.SpeakersDiarization, Count: 2, Estimated: true, Confidence: 0.9,
		Roles: []hark.SpeakerRole{
			{Speaker: "Worker", Role: hark.RoleWorker, Confidence: 0.55, Source: hark.RoleFromWords},
			{Speaker: "Parent", Role: hark.RoleParent, Confidence: 0.55, Source: hark.RoleFromWords},
		}}
	if err := b.idx.PutTranscript(ctx, tr); err != nil {
		t.Fatal(err)
	}
	coach := b.client("coach", hark.RoleCoach, "north")
	_, body := coach.get("/recordings/" + b.recA)
	for _, want := range []string{"Told apart in the audio by hark: 2 speakers (an estimate, 90% sure).",
		"<strong>Worker</strong>: worker <small>(55%, guessed from what each speaker says)</small>",
		`class="doubt" role="alert">hark is not sure Worker is the worker (55%`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}

	tr.Speakers.Roles[0].Confidence, tr.Speakers.Roles[0].Source = 0.9, hark.RoleFromVoice
	if err := b.idx.PutTranscript(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if _, body := coach.get("/recordings/" + b.recA); strings.Contains(body, `class="doubt"`) || !strings.Contains(body, "by the worker&#39;s learned voice") {
		t.Errorf("a sure worker: the page still doubts, or does not say how:\n%s", body)
	}
}

// A coach corrects who speaks: a speaker's role, and a speaker's name
// (naming one after another makes them one). Each change is versioned and
// audited, shows in the transcript at once, and sends the session to be
// tagged again; bad ones are refused with a reason.
func TestSpeakerCorrections(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	coach := b.client("coach", hark.RoleCoach, "north")
	post := func(change map[string]any) (int, map[string]any) {
		t.Helper()
		_, body := coach.get("/api/recordings/" + b.recA)
		var cur struct {
			Review struct{ Version int } `json:"review"`
		}
		_ = json.Unmarshal([]byte(body), &cur)
		change["version"] = cur.Review.Version
		return coach.review(b.recA, change)
	}
	// The machine took the parent for the worker and the worker for the parent.
	if st, body := post(map[string]any{"action": hark.CorrectRole, "speaker": "Parent", "role": "worker"}); st != http.StatusOK || body["retagging"] != true {
		t.Fatalf("speaker-role: %d %v", st, body)
	}
	if st, body := post(map[string]any{"action": hark.CorrectRole, "speaker": "Worker", "role": "parent"}); st != http.StatusOK {
		t.Fatalf("speaker-role: %d %v", st, body)
	}
	sess, err := b.idx.Session(ctx, b.recA)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sess.Transcript.Segments {
		want := hark.RoleWorker
		if s.Speaker == "Worker" {
			want = hark.RoleParent
		}
		if s.Role != want {
			t.Errorf("segment %d (%s) has role %s, want %s", s.Index, s.Speaker, s.Role, want)
		}
	}
	if len(sess.Review.Corrections) != 2 || sess.Review.Corrections[0].By != "coach" {
		t.Errorf("corrections %+v", sess.Review.Corrections)
	}
	if len(*b.retags) != 2 || (*b.retags)[0] != b.recA {
		t.Errorf("sent to be tagged again: %v", *b.retags)
	}

	// Renaming the parent after the worker makes them one speaker, with the
	// worker's (corrected) role.
	if st, body := post(map[string]any{"action": hark.CorrectName, "speaker": "Parent", "text": "Worker"}); st != http.StatusOK {
		t.Fatalf("speaker-name: %d %v", st, body)
	}
	sess, _ = b.idx.Session(ctx, b.recA)
	for _, s := range sess.Transcript.Segments {
		if s.Speaker != "Worker" || s.Role != hark.RoleParent {
			t.Errorf("after the merge, segment %d: %s %s", s.Index, s.Speaker, s.Role)
		}
	}

	for _, bad := range []map[string]any{
		{"action": hark.CorrectRole, "speaker": "Parent", "role": "worker"}, // merged away
		{"action": hark.CorrectRole, "speaker": "Worker", "role": "boss"},
		{"action": hark.CorrectName, "speaker": "Worker", "text": "   "},
	} {
		if st, body := post(bad); st != http.StatusBadRequest || body["message"] == "" {
			t.Errorf("%v: %d %v, want 400 with a message", bad, st, body)
		}
	}
	researcher := b.client("researcher", hark.RoleResearcher, "north")
	if st, _ := researcher.review(b.recA, map[string]any{"version": sess.Review.Version, "action": hark.CorrectRole, "speaker": "Worker", "role": "worker"}); st != http.StatusBadRequest {
		t.Errorf("a researcher corrects speakers: %d, want 400", st)
	}
	entries, err := b.idx.AuditLog(ctx, hark.AuditFilter{RecordingID: b.recA})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == "review" && strings.HasPrefix(e.Detail, "speaker-") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d speaker corrections audited, want 3", n)
	}
}
