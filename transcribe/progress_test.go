package transcribe

import (
	"context"
	"sync"
	"testing"

	"github.com/harkworks/hark"
)

// The engine says how far it has got after each chunk: from 0 of all the
// voiced chunks to all of them, the seconds adding up to the audio's.
func TestProgressReported(t *testing.T) {
	f := newFakeWhisper(t)
	e, _ := testOpenAI(t, f, OpenAIConfig{Language: "en", Concurrency: 2})
	in := input("meeting.wav", "", wordsAudio(monologue(30), 2, 37)) // seven 6 s chunks
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
	if len(seen) < 2 {
		t.Fatalf("progress reported %d times", len(seen))
	}
	first, last := seen[0], seen[len(seen)-1]
	if first.Done != 0 || first.Total != len(f.reqs()) || first.Stage != hark.StageTranscribe || first.Started.IsZero() {
		t.Errorf("first report %+v; want 0 of %d chunks", first, len(f.reqs()))
	}
	if last.Done != last.Total || last.Seconds < 36 || last.Seconds > last.TotalSeconds+1e-9 || last.Fraction() != 1 {
		t.Errorf("last report %+v; want all chunks, all the audio", last)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Done != seen[i-1].Done+1 {
			t.Errorf("report %d: %d done after %d", i, seen[i].Done, seen[i-1].Done)
		}
	}
}
