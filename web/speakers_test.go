package web

import (
	"context"
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
