package faults

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// A worker killed (SIGKILL) in the middle of a long transcription loses
// only the chunk it was on: the chunks it had recognised are in the store
// (hark.CheckpointKey), and the worker that takes the recording over
// resumes from them, asking the speech server only for the rest; once the
// transcript is stored the checkpoint is gone.
func TestKilledTranscriptionResumes(t *testing.T) {
	h := newHarness(t, options{AckWait: 2 * time.Second})
	speech := newSpeechServer(t)
	speech.stalled, speech.stallAfter = false, 1 // the first chunk is answered, the second hangs
	opts := workerOpts{Stages: "transcribe", Concurrency: 1, Env: []string{
		"HARK_OPENAI_BASE_URL=" + speech.URL + "/v1", "HARK_OPENAI_API_KEY=" + speech.key,
		"HARK_OPENAI_MAX_CHUNK_MB=1", "HARK_OPENAI_CONCURRENCY=1"}} // chunks of about 30 s, one at a time
	a := h.startWorker("a", opts)
	key := "resumed/no-sidecar.wav"
	h.put(key, loadMeeting(t, "partnership").wav, "audio/wav", nil) // 1:28: three chunks or more
	rec := h.waitStatus(key, hark.StatusTranscribing, 1, time.Minute)
	var cp hark.Checkpoint
	h.eventually(time.Minute, "a checkpoint with the first chunk", func() (bool, string) {
		err := h.getJSON(hark.CheckpointKey(rec.ID), &cp)
		return err == nil && len(cp.Chunks) == 1, strings.TrimSpace(a.log())
	})
	a.kill()
	speech.mu.Lock()
	before := speech.requests
	speech.mu.Unlock()

	speech.answer()
	b := h.startWorker("b", opts)
	h.waitStatus(key, hark.StatusTranscribed, 2, 2*time.Minute)
	speech.mu.Lock()
	byB := speech.requests - before
	speech.mu.Unlock()
	m := regexp.MustCompile(`msg="recognised speech in chunks".* chunks=(\d+) resumed=(\d+)`).FindStringSubmatch(b.log())
	if m == nil {
		t.Fatalf("the second worker did not say what it recognised:\n%s", b.log())
	}
	chunks, _ := strconv.Atoi(m[1])
	if chunks < 3 || m[2] != "1" || byB != chunks-1 {
		t.Errorf("%s chunk(s) resumed of %d; the second worker sent %d to the speech server, want %d", m[2], chunks, byB, chunks-1)
	}
	if !strings.Contains(b.log(), "resuming from an earlier attempt's checkpoint") {
		t.Errorf("the second worker does not say it resumed:\n%s", b.log())
	}
	if err := h.getJSON(hark.CheckpointKey(rec.ID), &cp); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("the checkpoint after the transcript was stored: %v", err)
	}
}
