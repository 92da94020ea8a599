package web

import (
	"context"
	"encoding/json"
	"fmt"
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

// A coach corrects turns: gives the end of one to another speaker, merges
// two, edits one's words. Each is versioned, audited without the words,
// shows at once and sends the session to be tagged again; a decision on
// a moved turn follows it; a change on a turn the page no longer shows is
// refused.
func TestTurnCorrections(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	coach := b.client("coach", hark.RoleCoach, "north")
	version := func() int {
		sess, err := b.idx.Session(ctx, b.recA)
		if err != nil {
			t.Fatal(err)
		}
		return sess.Review.Version
	}
	post := func(change map[string]any) (int, map[string]any) {
		t.Helper()
		change["version"] = version()
		return coach.review(b.recA, change)
	}
	threat := hark.TagKey(2, 0, 40, "threat_of_escalation")
	if st, body := post(map[string]any{"action": "reject", "key": threat}); st != http.StatusOK {
		t.Fatalf("reject: %d %v", st, body)
	}
	text := "The mornings — café trips make us late."
	word := strings.Index(text, "café")
	if st, body := post(map[string]any{"action": hark.CorrectMove, "segment": 1, "start": word, "speaker": "Grandma", "role": "parent"}); st != http.StatusOK || body["retagging"] != true {
		t.Fatalf("turn-speaker: %d %v", st, body)
	}
	sess, _ := b.idx.Session(ctx, b.recA)
	got := []string{}
	for _, s := range sess.Transcript.Segments {
		got = append(got, fmt.Sprintf("%d %s/%s %s", s.Index, s.Speaker, s.Role, s.Text))
	}
	want := []string{"0 Worker/worker What would you like to talk about today?", "1 Parent/parent The mornings —",
		"2 Grandma/parent café trips make us late.", "3 Worker/worker If you don't engage we will go to court."}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after the split:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := sess.Review.Decisions; len(d) != 1 || d[0].Key != hark.TagKey(3, 0, 40, "threat_of_escalation") || d[0].Review != hark.ReviewRejected {
		t.Errorf("the rejection did not follow its turn: %+v", d)
	}

	if st, body := post(map[string]any{"action": hark.CorrectMerge, "segment": 1}); st != http.StatusOK {
		t.Fatalf("turn-merge: %d %v", st, body)
	}
	if st, body := post(map[string]any{"action": hark.CorrectText, "segment": 1, "text": "The mornings: school runs make us late."}); st != http.StatusOK {
		t.Fatalf("turn-text: %d %v", st, body)
	}
	sess, _ = b.idx.Session(ctx, b.recA)
	if n := len(sess.Transcript.Segments); n != 3 || sess.Transcript.Segments[1].Text != "The mornings: school runs make us late." ||
		sess.Transcript.Segments[1].Speaker != "Parent" {
		t.Errorf("after merging and editing: %+v", sess.Transcript.Segments)
	}
	if d := sess.Review.Decisions; len(d) != 1 || d[0].Key != threat {
		t.Errorf("the rejection did not follow its turn back: %+v", d)
	}
	if len(*b.retags) != 3 {
		t.Errorf("sent to be tagged again %d times, want 3", len(*b.retags))
	}

	for _, bad := range []map[string]any{
		{"action": hark.CorrectMerge, "segment": 2},                                   // the last turn
		{"action": hark.CorrectMerge, "segment": 9},                                   // no such turn
		{"action": hark.CorrectText, "segment": 0, "text": " "},                       // empty
		{"action": hark.CorrectMove, "segment": 0, "start": 500, "speaker": "Parent"}, // outside the turn
		{"action": hark.CorrectMove, "segment": 0, "speaker": "Worker"},               // already theirs
	} {
		if st, body := post(bad); st != http.StatusBadRequest || body["message"] == "" {
			t.Errorf("%v: %d %v, want 400 with a message", bad, st, body)
		}
	}
	entries, err := b.idx.AuditLog(ctx, hark.AuditFilter{RecordingID: b.recA})
	if err != nil {
		t.Fatal(err)
	}
	var turns []string
	for _, e := range entries {
		if strings.Contains(e.Detail, "school") || strings.Contains(e.Detail, "mornings") {
			t.Errorf("the audit log has the turn's words: %q", e.Detail)
		}
		if e.Action == "review" && strings.HasPrefix(e.Detail, "turn-") {
			turns = append(turns, e.Detail)
		}
	}
	if len(turns) != 3 {
		t.Errorf("turn corrections audited: %q, want 3", turns)
	}
}
