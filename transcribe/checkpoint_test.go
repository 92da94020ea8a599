package transcribe

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// failingRec recognises a chunk as its own start time, and fails once it
// has recognised after chunks (after < 0: never), as a worker stopped in
// the middle does; it counts the chunks it was asked for.
type failingRec struct {
	mu    sync.Mutex
	after int
	calls int
}

func (f *failingRec) recognize(ctx context.Context, j chunkJob) (chunkResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.after >= 0 && f.calls >= f.after {
		return chunkResult{}, hark.Errorf(hark.EUNAVAILABLE, "stopped")
	}
	f.calls++
	return chunkResult{segments: []hark.Segment{{Start: 0, End: j.Duration, Text: fmt.Sprintf("from %.2f", j.Start)}}, language: "en"}, nil
}

// An interrupted transcription resumes from the chunks it recognised: the
// second attempt asks the recogniser only for the rest, and the transcript
// is the one an uninterrupted run makes. A checkpoint of other audio (or
// another engine's) is not used.
func TestResumeFromCheckpoint(t *testing.T) {
	audio := wordsAudio(monologue(40), 1, 40)
	engine := func(rec recognizer) *speechEngine {
		return &speechEngine{name: "fake", model: "m1", rec: rec, concurrency: 2, log: slog.New(slog.DiscardHandler),
			prep: PrepareConfig{MaxChunkDuration: 2 * time.Second, Dir: t.TempDir()}}
	}
	run := func(rec recognizer, etag string, resume *hark.Checkpoint) (*hark.Transcript, *hark.Checkpoint, error) {
		in := input("m.wav", "", audio)
		in.Recording.ETag = etag
		in.Resume = resume
		var (
			mu   sync.Mutex
			last *hark.Checkpoint
		)
		in.Checkpoint = func(cp hark.Checkpoint) {
			mu.Lock()
			defer mu.Unlock()
			if last == nil || len(cp.Chunks) >= len(last.Chunks) {
				last = &cp
			}
		}
		tr, err := engine(rec).transcribe(context.Background(), in)
		return tr, last, err
	}

	whole := &failingRec{after: -1}
	want, _, err := run(whole, "e1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if whole.calls < 12 {
		t.Fatalf("%d chunks: the test wants many", whole.calls)
	}

	_, cp, err := run(&failingRec{after: 7}, "e1", nil)
	if hark.ErrorCode(err) != hark.EUNAVAILABLE {
		t.Fatalf("the interrupted attempt: %v", err)
	}
	if cp == nil || len(cp.Chunks) != 7 {
		t.Fatalf("the checkpoint of the interrupted attempt: %+v, want its 7 chunks", cp)
	}

	again := &failingRec{after: -1}
	got, cp2, err := run(again, "e1", cp)
	if err != nil {
		t.Fatal(err)
	}
	if again.calls != whole.calls-7 {
		t.Errorf("the second attempt recognised %d chunks, want the %d left", again.calls, whole.calls-7)
	}
	if !reflect.DeepEqual(got.Segments, want.Segments) {
		t.Errorf("the resumed transcript differs from an uninterrupted one:\n%v\n%v", got.Segments, want.Segments)
	}
	if cp2 == nil || len(cp2.Chunks) != whole.calls {
		t.Errorf("the second attempt's checkpoint holds %d chunks, want all %d (the resumed ones kept)", len(cp2.Chunks), whole.calls)
	}

	other := &failingRec{after: -1}
	if _, _, err := run(other, "e2", cp); err != nil || other.calls != whole.calls {
		t.Errorf("a checkpoint of other audio: %d chunks recognised (%v), want all %d", other.calls, err, whole.calls)
	}
}
