package pipeline_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/pipeline"
)

// halfwayEngine reports half its chunks done, then waits to be released.
type halfwayEngine struct {
	reported, release chan struct{}
}

func (e *halfwayEngine) Name() string { return "halfway" }
func (e *halfwayEngine) Transcribe(ctx context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	io.Copy(io.Discard, in.Audio)
	start := time.Now().Add(-time.Minute)
	in.Progress(hark.Progress{Stage: hark.StageTranscribe, Done: 0, Total: 4, TotalSeconds: 40, Started: start})
	in.Progress(hark.Progress{Stage: hark.StageTranscribe, Done: 2, Total: 4, Seconds: 20, TotalSeconds: 40, Started: start})
	close(e.reported)
	<-e.release
	in.Progress(hark.Progress{Stage: hark.StageTranscribe, Done: 4, Total: 4, Seconds: 40, TotalSeconds: 40, Started: start})
	return &hark.Transcript{Engine: "halfway", Audio: hark.AudioInfo{Format: "pcm16", Channels: 1, SampleRate: 16000, DurationSeconds: 40},
		Segments: []hark.Segment{{Start: 0, End: 4, Speaker: "Worker", Role: hark.RoleWorker, Text: "hello"}}}, nil
}

// While a recording is transcribed the index says how far it has got; once
// transcribed, the progress is gone and the state is the stage's own.
func TestProgressInIndex(t *testing.T) {
	ctx := context.Background()
	st, idx := startStore(t, t.TempDir())
	engine := &halfwayEngine{reported: make(chan struct{}), release: make(chan struct{})}
	// A clock that moves on 3 s each time it is read: every report is
	// due (the index is written at most every 2 s).
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(3 * time.Second); return clock }
	p := pipeline.New(pipeline.Config{Store: st, Index: idx, Engine: engine, Tagger: &varyingTagger{}, Logger: slog.New(slog.DiscardHandler),
		Publisher: discardPublisher{}, Now: now})
	audio := []byte("RIFF audio")
	info, err := st.Put(ctx, "north/long.wav", bytes.NewReader(audio), int64(len(audio)), "audio/wav", map[string]string{ingest.MetaTeam: "north"})
	if err != nil {
		t.Fatal(err)
	}
	info.Metadata = map[string]string{ingest.MetaTeam: "north"}
	id := hark.RecordingID("recordings", info.Key, info.ETag)
	done := make(chan error, 1)
	go func() {
		done <- p.Transcribe(ctx, &delivery{data: ingest.NewUploadEvent("recordings", info, time.Now()), attempt: 1})
	}()
	<-engine.reported
	rec, err := idx.Recording(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != hark.StatusTranscribing || rec.Progress == nil || rec.Progress.Done != 2 || rec.Progress.Fraction() != 0.5 {
		t.Errorf("halfway, the index says %s %+v", rec.Status, rec.Progress)
	}
	if left, ok := rec.Progress.Left(time.Now()); !ok || left < 50*time.Second || left > 70*time.Second {
		t.Errorf("time left %v %v, want about a minute", left, ok)
	}
	close(engine.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec, err = idx.Recording(ctx, id)
	if err != nil || rec.Status != hark.StatusTranscribed || rec.Progress != nil {
		t.Errorf("after: %s %+v %v", rec.Status, rec.Progress, err)
	}
}

// discardPublisher takes messages and drops them.
type discardPublisher struct{}

func (discardPublisher) Publish(context.Context, string, string, []byte) error { return nil }
