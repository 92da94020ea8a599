package faults

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// speechServer stands in for the hosted speech-to-text API (a paid outside
// API): POST /v1/audio/transcriptions with a bearer key and a multipart
// form holding the model and a file of at most 25 MB, answered in
// verbose_json with segments, as the real API answers. While stalled it
// holds every request until the client goes away, as a slow server does.
type speechServer struct {
	*httptest.Server
	key     string
	mu      sync.Mutex
	stalled bool
	// stallAfter, when positive, answers that many requests and stalls
	// the ones after, until answer is called.
	stallAfter int
	requests   int
	got        chan struct{} // closed at the first request
	once       sync.Once
}

func newSpeechServer(t *testing.T) *speechServer {
	s := &speechServer{key: "sk-test-" + fmt.Sprint(time.Now().UnixNano()), stalled: true, got: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *speechServer) apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
}

func (s *speechServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
		s.apiError(w, http.StatusNotFound, "invalid_request_error", "Invalid URL ("+r.Method+" "+r.URL.Path+")")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.key {
		s.apiError(w, http.StatusUnauthorized, "invalid_request_error", "Incorrect API key provided.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 26<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		s.apiError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "Maximum content size limit (26214400) exceeded.")
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil || r.FormValue("model") == "" {
		s.apiError(w, http.StatusBadRequest, "invalid_request_error", "you must provide a model parameter and a file")
		return
	}
	n, _ := io.Copy(io.Discard, f)
	f.Close()
	if n > 25<<20 {
		s.apiError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "Maximum content size limit (26214400) exceeded.")
		return
	}
	s.mu.Lock()
	s.requests++
	stalled := s.stalled || s.stallAfter > 0 && s.requests > s.stallAfter
	s.mu.Unlock()
	s.once.Do(func() { close(s.got) })
	if stalled {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"task": "transcribe", "language": "english", "duration": 4.0, "text": "What would you like to talk about today?",
		"segments": []map[string]any{{"id": 0, "seek": 0, "start": 0.0, "end": 4.0, "text": " What would you like to talk about today?",
			"tokens": []int{}, "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.1, "no_speech_prob": 0.01}},
	})
}

func (s *speechServer) answer() {
	s.mu.Lock()
	s.stalled, s.stallAfter = false, 0
	s.mu.Unlock()
}

// audioFiles lists the decoded audio under dir.
func audioFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".wav") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// A worker killed with SIGKILL in the middle of transcribing leaves the
// meeting's decoded audio behind, but only in its private work dir (0700,
// under its data dir, never the system's temporary directory); the next
// worker started on that data dir removes it, finishes the recording, and
// keeps nothing once it is done.
func TestWorkerKilledLeavesNoAudio(t *testing.T) {
	h := newHarness(t, options{AckWait: 2 * time.Second})
	speech := newSpeechServer(t)
	tmp := t.TempDir() // the workers' system temporary directory
	opts := workerOpts{Stages: "transcribe,annotate", Concurrency: 1, Env: []string{
		"HARK_OPENAI_BASE_URL=" + speech.URL + "/v1", "HARK_OPENAI_API_KEY=" + speech.key, "TMPDIR=" + tmp}}
	a := h.startWorker("a", opts)
	key := "killed/no-sidecar.wav"
	h.put(key, loadMeeting(t, "partnership").wav, "audio/wav", nil)
	select {
	case <-speech.got:
	case <-time.After(time.Minute):
		t.Fatalf("the worker sent no audio to the speech server\n%s", a.log())
	}
	work := filepath.Join(a.dataDir(), "work")
	if fi, err := os.Stat(work); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("work dir %s: %v %v, want a directory of mode 0700", work, fi, err)
	}
	if files := audioFiles(t, work); len(files) == 0 {
		t.Fatalf("no decoded audio in %s while the worker transcribes", work)
	}
	a.kill()
	left := audioFiles(t, work)
	if len(left) == 0 {
		t.Fatal("the killed worker left no audio: the test proves nothing")
	}
	if files := audioFiles(t, tmp); len(files) != 0 {
		t.Fatalf("decoded audio in the system temporary directory: %v", files)
	}

	speech.answer()
	a2 := h.startWorker("a", opts) // the same data dir
	for _, f := range left {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("the restarted worker did not remove %s, which the killed one left: %v", f, err)
		}
	}
	rec := h.waitStatus(key, hark.StatusReady, 2, time.Minute)
	if files := audioFiles(t, work); len(files) != 0 {
		t.Errorf("audio kept after %s was done: %v", rec.ID, files)
	}
	if !strings.Contains(a2.log(), "removed work files a stopped process left") {
		t.Errorf("the restarted worker did not say it swept the work dir:\n%s", a2.log())
	}
	a2.stop(30 * time.Second)
	if entries, err := os.ReadDir(work); err != nil || len(entries) != 0 {
		t.Errorf("a stopped worker left %v in its work dir (%v)", entries, err)
	}
}
