package pipeline_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/pipeline"
)

// A recording is erased while a worker transcribes it: the worker, when it
// goes on, writes nothing back — not in the index, not in the object
// store — and acks. Then nothing of it is left under the data dir: not its
// id in the stream's files, not its audio.
func TestForgetDuringTranscription(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, idx := startStore(t, dir)
	ns, err := ingest.StartNATSServer(ingest.NATSServerConfig{StoreDir: filepath.Join(dir, "nats"), Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close(context.Background()) })
	q, err := ingest.Connect(ctx, ingest.QueueConfig{URL: ns.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close(context.Background()) })
	if _, err := q.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	store := newStallingStore(st)
	p := pipeline.New(pipeline.Config{Store: store, Index: idx, Publisher: q, Engine: &varyingEngine{}, Tagger: &varyingTagger{},
		Logger: slog.New(slog.DiscardHandler), SidecarExtensions: []string{".vtt"}})

	audio := []byte("RIFF audio bytes the engine reads but does not parse")
	info, err := st.Put(ctx, "north/visit.wav", bytes.NewReader(audio), int64(len(audio)), "audio/wav", map[string]string{ingest.MetaTeam: "north"})
	if err != nil {
		t.Fatal(err)
	}
	vtt := []byte("WEBVTT\n")
	if _, err := st.Put(ctx, "north/visit.vtt", bytes.NewReader(vtt), int64(len(vtt)), "text/vtt", nil); err != nil {
		t.Fatal(err)
	}
	info.Metadata = map[string]string{ingest.MetaTeam: "north"}
	id := hark.RecordingID("recordings", info.Key, info.ETag)
	event := ingest.NewUploadEvent("recordings", info, time.Now())
	if err := q.Publish(ctx, hark.SubjectUploaded, "", event); err != nil {
		t.Fatal(err)
	}

	// The worker stalls as it is about to store the transcript.
	store.stallNext(func(key string) bool { return key == hark.TranscriptKey(id) })
	done := make(chan error, 1)
	go func() { done <- p.Transcribe(ctx, &delivery{data: event, attempt: 1}) }()
	select {
	case <-store.arrived:
	case err := <-done:
		t.Fatalf("the worker ended before it stalled: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the worker never reached the write")
	}
	rec, err := idx.Recording(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Forget(ctx, []*hark.Recording{rec})
	if err != nil {
		t.Fatal(err)
	}
	if got.Recordings != 1 || got.Objects < 3 || got.Messages != 1 {
		t.Errorf("erased %+v; want the recording, its audio, transcript and state, and its upload event", got)
	}
	close(store.release)
	if err := <-done; err != nil {
		t.Fatalf("the worker, when it went on: %v (want it to drop its work quietly)", err)
	}
	if _, err := idx.Recording(ctx, id); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("the index has the recording again: %v", err)
	}
	var left []string
	if err := st.List(ctx, "", func(o hark.ObjectInfo) error { left = append(left, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("objects left in the store: %v", left)
	}
	// Nothing under the data dir names it, nor holds its audio.
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil // a file removed while walking
		}
		for _, leak := range [][]byte{[]byte(id), audio, []byte("visit.wav")} {
			if bytes.Contains(data, leak) {
				t.Errorf("%s holds %q", strings.TrimPrefix(path, dir), leak)
			}
		}
		return nil
	})
}
