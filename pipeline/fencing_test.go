package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/pipeline"
)

// These tests stall one attempt at the worst moment — after it checked that
// it still owns the recording and before it writes — let a second attempt
// take the recording over and finish, then let the first go on. Its late
// results must not replace the second's. The servers are real: the S3
// server hark embeds, SQLite, and nats-server with JetStream.

// delivery is one queue delivery as a stage sees it.
type delivery struct {
	data    []byte
	attempt int
	claimed map[string]int
}

func (d *delivery) Data() []byte          { return d.data }
func (d *delivery) Attempt() int          { return d.attempt }
func (d *delivery) Final() bool           { return false }
func (d *delivery) InProgress() error     { return nil }
func (d *delivery) Claimed(id string) int { return d.claimed[id] }
func (d *delivery) SetClaimed(id string, lease int) {
	if d.claimed == nil {
		d.claimed = map[string]int{}
	}
	d.claimed[id] = lease
}

// varyingEngine reads the audio and returns a transcript that says which
// call made it, as a speech engine that is not deterministic would.
type varyingEngine struct {
	calls    atomic.Int32
	failNext atomic.Bool // the next call fails as a busy speech server does
}

func (e *varyingEngine) Name() string { return "varying" }
func (e *varyingEngine) Transcribe(_ context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	if _, err := io.Copy(io.Discard, in.Audio); err != nil {
		return nil, err
	}
	if e.failNext.CompareAndSwap(true, false) {
		return nil, hark.Errorf(hark.EUNAVAILABLE, "speech server busy")
	}
	n := e.calls.Add(1)
	return &hark.Transcript{Engine: "varying", Audio: hark.AudioInfo{Format: "pcm16", Channels: 1, SampleRate: 16000, DurationSeconds: 4},
		Segments: []hark.Segment{{Start: 0, End: 4, Speaker: "Worker", Role: hark.RoleWorker, Text: fmt.Sprintf("take %d", n)}}}, nil
}

// varyingTagger tags the first turn with a different code on each call, as
// a language-model tagger might.
type varyingTagger struct {
	calls    atomic.Int32
	failNext atomic.Bool // the next call fails as a busy language model does
}

func (t *varyingTagger) Name() string { return "varying" }
func (t *varyingTagger) Tag(_ context.Context, tr *hark.Transcript) (*hark.Annotations, error) {
	if t.failNext.CompareAndSwap(true, false) {
		return nil, hark.Errorf(hark.EUNAVAILABLE, "language model busy")
	}
	code := "open_question"
	if t.calls.Add(1) > 1 {
		code = "reflective_listening"
	}
	return &hark.Annotations{Codebook: "test", CodebookVersion: "1", Tagger: "varying", Tags: []hark.Tag{{
		Segment: 0, Code: code, Start: 0, End: len(tr.Segments[0].Text), Evidence: tr.Segments[0].Text,
		Confidence: 1, Source: hark.SourceLLM, Review: hark.ReviewPending}}}, nil
}

// stallingStore holds the first write of a key that matches until released.
type stallingStore struct {
	hark.ObjectStore
	match   func(key string) bool
	reads   bool        // stall a read (Get) rather than a write
	stalled atomic.Bool // only the first matching call waits
	arrived chan struct{}
	release chan struct{}
}

func newStallingStore(s hark.ObjectStore) *stallingStore {
	return &stallingStore{ObjectStore: s, match: func(string) bool { return false }}
}

// stallNext makes the next write of a key that match accepts wait.
func (s *stallingStore) stallNext(match func(string) bool) {
	s.stallNextCall(match, false)
}

// stallNextCall makes the next read (reads) or write of a key that match
// accepts wait.
func (s *stallingStore) stallNextCall(match func(string) bool, reads bool) {
	s.match, s.reads = match, reads
	s.stalled.Store(false)
	s.arrived, s.release = make(chan struct{}), make(chan struct{})
}

func (s *stallingStore) stall(key string) {
	if !s.match(key) || !s.stalled.CompareAndSwap(false, true) {
		return
	}
	close(s.arrived)
	<-s.release
}

func (s *stallingStore) Get(ctx context.Context, key string) (io.ReadCloser, hark.ObjectInfo, error) {
	if s.reads {
		s.stall(key)
	}
	return s.ObjectStore.Get(ctx, key)
}

func (s *stallingStore) Put(ctx context.Context, key string, r io.Reader, size int64, ct string, meta map[string]string) (hark.ObjectInfo, error) {
	if !s.reads {
		s.stall(key)
	}
	return s.ObjectStore.Put(ctx, key, r, size, ct, meta)
}

func (s *stallingStore) Create(ctx context.Context, key string, data []byte, ct string) (hark.ObjectInfo, error) {
	if !s.reads {
		s.stall(key)
	}
	return s.ObjectStore.Create(ctx, key, data, ct)
}

func (s *stallingStore) Replace(ctx context.Context, key string, data []byte, ct, etag string) (hark.ObjectInfo, error) {
	if !s.reads {
		s.stall(key)
	}
	return s.ObjectStore.Replace(ctx, key, data, ct, etag)
}

func TestStalledAttemptIsFenced(t *testing.T) {
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
	engine, tagger := &varyingEngine{}, &varyingTagger{}
	p := pipeline.New(pipeline.Config{Store: store, Index: idx, Publisher: q, Engine: engine, Tagger: tagger,
		Logger: slog.New(slog.DiscardHandler)})

	audio := []byte("RIFF audio bytes the engine reads but does not parse")
	info, err := st.Put(ctx, "north/visit.wav", bytes.NewReader(audio), int64(len(audio)), "audio/wav", map[string]string{ingest.MetaTeam: "north"})
	if err != nil {
		t.Fatal(err)
	}
	info.Metadata = map[string]string{ingest.MetaTeam: "north"}
	id := hark.RecordingID("recordings", info.Key, info.ETag)
	event := ingest.NewUploadEvent("recordings", info, time.Now())

	// runStalled starts the first attempt, waits until it stalls at a write,
	// runs the second attempt to the end, then lets the first go on.
	runStalled := func(handle func(context.Context, hark.Delivery) error, data []byte, match func(string) bool) {
		t.Helper()
		store.stallNext(match)
		first := make(chan error, 1)
		go func() { first <- handle(ctx, &delivery{data: data, attempt: 1}) }()
		select {
		case <-store.arrived:
		case err := <-first:
			t.Fatalf("the first attempt ended before it stalled: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("the first attempt never reached the write")
		}
		// The first attempt's worker has stalled past its ack wait: the
		// queue delivers the message again, to another worker.
		if err := handle(ctx, &delivery{data: data, attempt: 2}); err != nil {
			t.Fatalf("the attempt that took over: %v", err)
		}
		close(store.release)
		if err := <-first; err != nil {
			t.Fatalf("the stalled attempt, when it went on: %v (want it dropped quietly)", err)
		}
	}

	t.Run("transcribe", func(t *testing.T) {
		runStalled(p.Transcribe, event, func(key string) bool { return key == hark.TranscriptKey(id) })
		rec, err := idx.Recording(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != hark.StatusTranscribed || rec.Attempts != 2 || rec.Lease != 2 {
			t.Fatalf("recording: %s, attempts %d, lease %d; want transcribed, 2, 2", rec.Status, rec.Attempts, rec.Lease)
		}
		s, err := idx.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var stored hark.Transcript
		readJSON(t, st, hark.TranscriptKey(id), &stored)
		// The second attempt stored its transcript first ("take 2"); the
		// stalled one's ("take 1") is in neither place.
		if got := s.Transcript.Segments[0].Text; got != "take 2" {
			t.Errorf("index transcript %q, want the attempt that took over's", got)
		}
		if got := stored.Segments[0].Text; got != "take 2" {
			t.Errorf("stored transcript %q, want the attempt that took over's", got)
		}
	})

	t.Run("annotate", func(t *testing.T) {
		msg, _ := json.Marshal(pipeline.TranscribedMessage{Schema: hark.SchemaVersion, RecordingID: id})
		// Stall the first attempt after its tags are made and its ownership
		// checked: at its first write of the annotations.
		runStalled(p.Annotate, msg, func(key string) bool { return strings.HasPrefix(key, hark.ResultsPrefix+id+"/annotations") })
		rec, err := idx.Recording(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != hark.StatusReady || rec.Lease != 4 || rec.Attempts != 2 {
			t.Fatalf("recording: %s, lease %d, attempts %d; want ready, 4, 2", rec.Status, rec.Lease, rec.Attempts)
		}
		s, err := idx.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Annotations.Tags) != 1 || s.Annotations.Tags[0].Code != "reflective_listening" {
			t.Errorf("index tags %+v, want only the attempt that took over's (reflective_listening)", s.Annotations.Tags)
		}
		counts, err := idx.TagCounts(ctx, hark.CountFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if counts["open_question"] != 0 || counts["reflective_listening"] != 1 {
			t.Errorf("tag counts %v: the stalled attempt's tag was counted", counts)
		}
		var stored hark.Annotations
		readJSON(t, st, hark.AnnotationsKey(id), &stored)
		if stored.Lease != 4 || len(stored.Tags) != 1 || stored.Tags[0].Code != "reflective_listening" {
			t.Errorf("stored annotations: lease %d, tags %+v; want the attempt that took over's", stored.Lease, stored.Tags)
		}
	})

	t.Run("state", func(t *testing.T) {
		// A re-annotation stalls at its last write, the recording's state
		// (its second write of recording.json, after the one that took it
		// on), while another attempt takes over and finishes.
		msg, _ := json.Marshal(pipeline.TranscribedMessage{Schema: hark.SchemaVersion, RecordingID: id, Force: true})
		var writes atomic.Int32
		runStalled(p.Annotate, msg, func(key string) bool {
			return key == hark.RecordingKey(id) && writes.Add(1) == 2
		})
		var stored hark.Recording
		readJSON(t, st, hark.RecordingKey(id), &stored)
		rec, err := idx.Recording(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Lease != 6 || rec.Lease != 6 || stored.Status != hark.StatusReady || rec.Status != hark.StatusReady {
			t.Errorf("recording.json: %s lease %d; index: %s lease %d; want both ready under lease 6 (the attempt that took over)",
				stored.Status, stored.Lease, rec.Status, rec.Lease)
		}
	})

	t.Run("stale write put back", func(t *testing.T) {
		// A re-annotation stalls after its ownership check, as it reads the
		// stored annotations before replacing them. Another attempt takes
		// the recording over and fails before it writes any. The stalled
		// write lands on the older copy, finds the recording taken over,
		// and puts that copy back.
		var before hark.Annotations
		readJSON(t, st, hark.AnnotationsKey(id), &before)
		msg, _ := json.Marshal(pipeline.TranscribedMessage{Schema: hark.SchemaVersion, RecordingID: id, Force: true})
		store.stallNextCall(func(key string) bool { return strings.HasPrefix(key, hark.ResultsPrefix+id+"/annotations") }, true)
		first := make(chan error, 1)
		go func() { first <- p.Annotate(ctx, &delivery{data: msg, attempt: 1}) }()
		select {
		case <-store.arrived:
		case err := <-first:
			t.Fatalf("the first attempt ended before it stalled: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("the first attempt never reached the annotations")
		}
		tagger.failNext.Store(true)
		if err := p.Annotate(ctx, &delivery{data: msg, attempt: 2}); !hark.IsTemporary(err) {
			t.Fatalf("the attempt that took over, with the model busy: %v, want a temporary error", err)
		}
		close(store.release)
		if err := <-first; err != nil {
			t.Fatalf("the stalled attempt: %v (want it dropped quietly)", err)
		}
		for _, key := range []string{hark.AnnotationsKey(id), hark.AnnotationsVersionKey(id, "test", "1")} {
			var after hark.Annotations
			readJSON(t, st, key, &after)
			if after.Lease != before.Lease {
				t.Errorf("%s: lease %d after the stalled write, want the copy from before (lease %d) put back", key, after.Lease, before.Lease)
			}
		}
	})

	// A delivery the queue held while a dependency was down is run again
	// as the same attempt: the recording it took on is its own, while
	// another message for the same recording is still a duplicate.
	t.Run("held delivery runs again", func(t *testing.T) {
		info, err := st.Put(ctx, "north/second.wav", bytes.NewReader(audio), int64(len(audio)), "audio/wav", map[string]string{ingest.MetaTeam: "north"})
		if err != nil {
			t.Fatal(err)
		}
		info.Metadata = map[string]string{ingest.MetaTeam: "north"}
		id := hark.RecordingID("recordings", info.Key, info.ETag)
		event := ingest.NewUploadEvent("recordings", info, time.Now())
		lease := func() (hark.Status, int) {
			rec, err := idx.Recording(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return rec.Status, rec.Lease
		}
		engine.failNext.Store(true)
		held := &delivery{data: event, attempt: 1}
		if err := p.Transcribe(ctx, held); !hark.IsTemporary(err) {
			t.Fatalf("first run with the speech server busy: %v, want a temporary error", err)
		}
		if st, l := lease(); st != hark.StatusTranscribing || l != 1 || held.claimed[id] != 1 {
			t.Fatalf("after the first run: %s lease %d, delivery claimed %d; want transcribing under lease 1, claimed 1", st, l, held.claimed[id])
		}
		if err := p.Transcribe(ctx, &delivery{data: event, attempt: 1}); err != nil {
			t.Fatal(err)
		}
		if st, l := lease(); st != hark.StatusTranscribing || l != 1 {
			t.Fatalf("a duplicate message took the recording on: %s lease %d", st, l)
		}
		if err := p.Transcribe(ctx, held); err != nil {
			t.Fatalf("the held delivery run again: %v", err)
		}
		if st, l := lease(); st != hark.StatusTranscribed || l != 2 {
			t.Fatalf("after the held delivery ran again: %s lease %d, want transcribed under lease 2 (not skipped as a duplicate)", st, l)
		}

		// The index goes back in time (restored from a backup): the store
		// holds a later lease. The next stage catches up instead of
		// taking the store's copy for another attempt's, for ever.
		var doc hark.Recording
		readJSON(t, st, hark.RecordingKey(id), &doc)
		doc.Lease = 9
		data, _ := json.Marshal(doc)
		if _, err := st.Put(ctx, hark.RecordingKey(id), bytes.NewReader(data), int64(len(data)), "application/json", nil); err != nil {
			t.Fatal(err)
		}
		msg, _ := json.Marshal(pipeline.TranscribedMessage{Schema: hark.SchemaVersion, RecordingID: id})
		if err := p.Annotate(ctx, &delivery{data: msg, attempt: 1}); err != nil {
			t.Fatal(err)
		}
		if st, l := lease(); st != hark.StatusReady || l <= 9 {
			t.Fatalf("with the index behind the store: %s lease %d, want ready above lease 9", st, l)
		}
	})
}

func readJSON(t *testing.T, s hark.ObjectStore, key string, v any) {
	t.Helper()
	r, _, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := json.NewDecoder(r).Decode(v); err != nil {
		t.Fatal(err)
	}
}
