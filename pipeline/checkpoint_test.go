package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/pipeline"
)

// stoppedEngine recognises two chunks and is then stopped, the first time;
// the next time it goes on from where the checkpoint says.
type stoppedEngine struct {
	calls   int
	resumed []*hark.Checkpoint
	saving  []bool // whether each call was given somewhere to keep its work
}

func (e *stoppedEngine) Name() string { return "stopped" }
func (e *stoppedEngine) Transcribe(ctx context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	io.Copy(io.Discard, in.Audio)
	e.calls++
	e.resumed = append(e.resumed, in.Resume)
	e.saving = append(e.saving, in.Checkpoint != nil)
	if e.calls == 1 && in.Checkpoint != nil {
		in.Checkpoint(hark.Checkpoint{Key: "k1", Chunks: map[string]json.RawMessage{"0/0": json.RawMessage(`{"start":0}`)}})
		in.Checkpoint(hark.Checkpoint{Key: "k1", Chunks: map[string]json.RawMessage{"0/0": json.RawMessage(`{"start":0}`), "0/1": json.RawMessage(`{"start":120}`)}})
		return nil, hark.Errorf(hark.EUNAVAILABLE, "stopped: the worker is shutting down")
	}
	return &hark.Transcript{Engine: "stopped", Audio: hark.AudioInfo{Format: "pcm16", Channels: 1, SampleRate: 16000, DurationSeconds: 240},
		Segments: []hark.Segment{{Start: 0, End: 4, Speaker: "Worker", Role: hark.RoleWorker, Text: "hello"}}}, nil
}

// An attempt cut short leaves its work in the store (the second chunk too,
// written as the attempt ends though the last write was moments before);
// the next attempt is given it, and once the transcript is stored the
// checkpoint is gone. A team that masks text before storing gets no
// checkpoint: it would hold the clear text.
func TestCheckpointKeptAcrossAttempts(t *testing.T) {
	ctx := context.Background()
	st, idx := startStore(t, t.TempDir())
	engine := &stoppedEngine{}
	clock := time.Now()
	p := pipeline.New(pipeline.Config{Store: st, Index: idx, Engine: engine, Tagger: &varyingTagger{}, Logger: slog.New(slog.DiscardHandler),
		Publisher: discardPublisher{}, Now: func() time.Time { return clock }})
	put := func(key, team string) (hark.ObjectInfo, string) {
		audio := []byte("RIFF audio")
		info, err := st.Put(ctx, key, bytes.NewReader(audio), int64(len(audio)), "audio/wav", map[string]string{ingest.MetaTeam: team})
		if err != nil {
			t.Fatal(err)
		}
		info.Metadata = map[string]string{ingest.MetaTeam: team}
		return info, hark.RecordingID("recordings", info.Key, info.ETag)
	}
	info, id := put("north/long.wav", "north")
	ev := ingest.NewUploadEvent("recordings", info, time.Now())
	if err := p.Transcribe(ctx, &delivery{data: ev, attempt: 1}); hark.ErrorCode(err) != hark.EUNAVAILABLE {
		t.Fatalf("the attempt cut short: %v", err)
	}
	var kept hark.Checkpoint
	rc, _, err := st.Get(ctx, hark.CheckpointKey(id))
	if err != nil {
		t.Fatalf("no checkpoint after the attempt cut short: %v", err)
	}
	json.NewDecoder(rc).Decode(&kept)
	rc.Close()
	if kept.Key != "k1" || len(kept.Chunks) != 2 {
		t.Errorf("the checkpoint in the store: %+v, want both chunks", kept)
	}

	if err := p.Transcribe(ctx, &delivery{data: ev, attempt: 2}); err != nil {
		t.Fatal(err)
	}
	if len(engine.resumed) != 2 || engine.resumed[1] == nil || len(engine.resumed[1].Chunks) != 2 || engine.resumed[0] != nil {
		t.Errorf("the engine was given %+v to resume from", engine.resumed)
	}
	if _, err := st.Stat(ctx, hark.CheckpointKey(id)); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("the checkpoint is still there once the transcript is stored: %v", err)
	}
	if rec, err := idx.Recording(ctx, id); err != nil || rec.Status != hark.StatusTranscribed {
		t.Errorf("the recording: %+v %v", rec, err)
	}

	if err := idx.SetRedaction(ctx, hark.Redaction{Team: "south", Mode: hark.RedactStore}); err != nil {
		t.Fatal(err)
	}
	info, id = put("south/long.wav", "south")
	if err := p.Transcribe(ctx, &delivery{data: ingest.NewUploadEvent("recordings", info, time.Now()), attempt: 1}); err != nil {
		t.Fatal(err)
	}
	if engine.saving[2] {
		t.Error("a team that masks before storing was given a checkpoint to keep")
	}
	if _, err := st.Stat(ctx, hark.CheckpointKey(id)); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("a checkpoint for the masked team: %v", err)
	}
}
