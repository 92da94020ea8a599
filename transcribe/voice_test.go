package transcribe

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

// With the team's learned voice of the worker, the engine tells the worker
// by voice: their segments are the worker's, the role says so, and the
// other speaker's role is left to the words. A voice that is nobody's, or
// one that cannot be read, leaves all roles to the words.
func TestEngineWorkerByVoice(t *testing.T) {
	dir := filepath.Join("..", "testdata", "speakers")
	audio, err := os.ReadFile(filepath.Join(dir, "home-visit.wav"))
	if err != nil {
		t.Fatal(err)
	}
	refs, err := diarize.ReadRTTMFile(filepath.Join(dir, "home-visit.rttm"))
	if err != nil {
		t.Fatal(err)
	}
	// The worker's voice, from 20 s of their own turns.
	var samples []float32
	p, err := Prepare(context.Background(), "home-visit.wav", bytes.NewReader(audio), PrepareConfig{Dir: t.TempDir(),
		Listen: func(x []float32) { samples = append(samples, x...) }})
	if err != nil {
		t.Fatal(err)
	}
	p.Remove()
	d := diarize.New(diarize.Config{})
	var clip float64
	for _, r := range refs["home-visit"] {
		if r.Speaker == "worker" && clip < 20 {
			d.Write(samples[int(r.Start*ChunkRate):int(r.End*ChunkRate)])
			clip += r.End - r.Start
		}
	}
	voice, err := d.Voice()
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := json.Marshal(voice)

	f := newFakeWhisper(t)
	e, _ := testOpenAI(t, f, OpenAIConfig{MaxChunkBytes: DefaultMaxChunkBytes})
	transcribe := func(workerVoice []byte) *hark.Transcript {
		t.Helper()
		in := input("home-visit.wav", "", audio)
		in.WorkerVoice = workerVoice
		tr, err := NewService(Config{Audio: e}).Transcribe(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	tr := transcribe(stored)
	var worker hark.SpeakerRole
	for _, r := range tr.Speakers.Roles {
		if r.Role == hark.RoleWorker {
			worker = r
		}
	}
	if worker.Source != hark.RoleFromVoice || worker.Confidence <= 0.3 {
		t.Fatalf("the worker's role %+v, want one told by voice; roles %+v", worker, tr.Speakers.Roles)
	}
	// That speaker is the reference's worker.
	var hyp []diarize.Turn
	for _, s := range tr.Segments {
		hyp = append(hyp, diarize.Turn{Start: s.Start, End: s.End, Speaker: s.Speaker})
		if s.Speaker == worker.Speaker && s.Role != hark.RoleWorker {
			t.Errorf("segment %d of the worker has role %s", s.Index, s.Role)
		}
	}
	if m := diarize.MapSpeakers(refs["home-visit"], hyp, nil, 0); m[worker.Speaker] != "worker" {
		t.Errorf("the voice chose %s, which is the reference's %q", worker.Speaker, m[worker.Speaker])
	}
	for _, r := range tr.Speakers.Roles {
		if r.Speaker != worker.Speaker && (r.Role != hark.RoleParent || r.Source != hark.RoleFromWords) {
			t.Errorf("the other speaker: %+v", r)
		}
	}

	for name, v := range map[string][]byte{"no voice": nil, "unreadable": []byte("{not json")} {
		for _, r := range transcribe(v).Speakers.Roles {
			if r.Source != hark.RoleFromWords {
				t.Errorf("%s: role %+v, want every role from the words", name, r)
			}
		}
	}
}
