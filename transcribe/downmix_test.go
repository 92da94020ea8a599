package transcribe_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/diarize"
	"github.com/harkworks/hark/transcribe"
)

// The stereo testdata meetings (one microphone a speaker) downmixed to one
// channel, as if recorded on one phone: hark tells the two voices apart,
// finds the worker among them from what they say, and the rule tagger then
// finds the worker codes the stereo original has (the same codes, at least
// 80 % of its tags). The words are the reference transcript's, with the
// speakers taken away, so that what is measured is the speakers and roles,
// not a recogniser.
func TestDownmixedMeetings(t *testing.T) {
	tagger, err := annotate.NewRuleTagger(annotate.DefaultCodebook())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"partnership", "authoritarian", "mixed"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", "meetings")
			vtt, err := os.ReadFile(filepath.Join(dir, name+".vtt"))
			if err != nil {
				t.Fatal(err)
			}
			stereo, err := transcribe.ParseVTT(name+".vtt", vtt)
			if err != nil {
				t.Fatal(err)
			}
			transcribe.AssignRoles(stereo)
			want := workerTags(t, tagger, stereo)

			// The downmix, diarized as the transcribe stage does.
			audio, err := os.Open(filepath.Join(dir, name+".wav"))
			if err != nil {
				t.Fatal(err)
			}
			d := diarize.New(diarize.Config{})
			p, err := transcribe.Prepare(context.Background(), name+".wav", audio, transcribe.PrepareConfig{Dir: t.TempDir(), Listen: d.Write})
			audio.Close()
			if err != nil {
				t.Fatal(err)
			}
			p.Remove()
			res, err := d.Result()
			if err != nil {
				t.Fatal(err)
			}
			if res.Speakers != 2 {
				t.Errorf("%d speakers found in the downmix, want 2", res.Speakers)
			}
			bare := make([]hark.Segment, len(stereo))
			for i, s := range stereo {
				bare[i] = hark.Segment{Index: i, Start: s.Start, End: s.End, Text: s.Text, Confidence: 1}
			}
			mono, roles := transcribe.SpeakersFromAudio(bare, res)
			// The worker found: most of the worker's turns are the worker's again.
			agree := 0
			for i := range stereo {
				if i < len(mono) && (stereo[i].Role == hark.RoleWorker) == (mono[i].Role == hark.RoleWorker) {
					agree++
				}
			}
			if len(mono) != len(stereo) || agree < len(stereo)*9/10 {
				t.Errorf("%d of %d turns have the worker's role as in the stereo original (roles %+v)", agree, len(stereo), roles)
			}
			got := workerTags(t, tagger, mono)
			same := 0
			for code, n := range want {
				same += min(n, got[code])
				if got[code] == 0 {
					t.Errorf("the downmix has no %s tag; the stereo original has %d", code, n)
				}
			}
			total := 0
			for _, n := range want {
				total += n
			}
			if total == 0 || float64(same) < 0.8*float64(total) {
				t.Errorf("the downmix finds %d of the stereo original's %d worker tags (%v against %v), want at least 80 %%", same, total, got, want)
			}
			t.Logf("%s: %d speakers, worker tags %d of %d, roles %+v", name, res.Speakers, same, total, roles)
		})
	}
}

// workerTags counts the tags per code on the worker's turns.
func workerTags(t *testing.T, tagger hark.Tagger, segs []hark.Segment) map[string]int {
	t.Helper()
	a, err := tagger.Tag(context.Background(), &hark.Transcript{RecordingID: "rec_downmix", Segments: segs})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, tag := range a.Tags {
		if segs[tag.Segment].Role == hark.RoleWorker {
			out[tag.Code]++
		}
	}
	return out
}
