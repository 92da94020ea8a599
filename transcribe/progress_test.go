package transcribe

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/harkworks/hark"
)

// The engine says how far it has got after each chunk: from nothing of the
// audio to all of it, a chunk at a time. A recording split by channel has
// each channel's audio to recognise.
func TestProgressReported(t *testing.T) {
	for _, tt := range []struct {
		channel string
		seconds float64
	}{{"", 37}, {"left", 74}} {
		f := newFakeWhisper(t)
		e, _ := testOpenAI(t, f, OpenAIConfig{Language: "en", Concurrency: 2})
		in := input("meeting.wav", tt.channel, wordsAudio(monologue(30), 2, 37)) // seven 6 s chunks a track
		var (
			mu   sync.Mutex
			seen []hark.Progress
		)
		in.Progress = func(p hark.Progress) {
			mu.Lock()
			seen = append(seen, p)
			mu.Unlock()
		}
		if _, err := e.Transcribe(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		if len(seen) < 3 {
			t.Fatalf("worker channel %q: progress reported %d times", tt.channel, len(seen))
		}
		first, last := seen[0], seen[len(seen)-1]
		if first.Done != 0 || math.Abs(first.TotalSeconds-tt.seconds) > 0.1 || first.Stage != hark.StageTranscribe || first.Started.IsZero() {
			t.Errorf("worker channel %q: first report %+v; want nothing done of %g s", tt.channel, first, tt.seconds)
		}
		if last.Done != last.Total || last.Done < len(f.reqs()) || math.Abs(last.Seconds-tt.seconds) > 0.1 || last.Fraction() != 1 {
			t.Errorf("worker channel %q: last report %+v; want every chunk (%d recognised), all the audio", tt.channel, last, len(f.reqs()))
		}
		for i := 1; i < len(seen)-1; i++ {
			if seen[i].Done != seen[i-1].Done+1 || seen[i].Fraction() >= 1 && i < len(seen)-2 {
				t.Errorf("worker channel %q: report %d: %d done after %d (%.2f)", tt.channel, i, seen[i].Done, seen[i-1].Done, seen[i].Fraction())
			}
		}
		if last.Done != seen[len(seen)-2].Done {
			t.Errorf("worker channel %q: the final report counts %d chunks, the one before %d", tt.channel, last.Done, seen[len(seen)-2].Done)
		}
	}
}
