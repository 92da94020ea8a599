package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// hark status, hark retry and hark reconcile against the embedded servers.
func TestRetryAndReconcile(t *testing.T) {
	b := startUp(t, t.TempDir())
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.wav")
	if err := os.WriteFile(corrupt, []byte("RIFF\x10\x00\x00\x00WAVEfmt garbage that is not audio"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.wav")
	copyFile(t, filepath.Join(meetingsDir, "mixed.wav"), good)
	copyFile(t, filepath.Join(meetingsDir, "mixed.vtt"), filepath.Join(dir, "good.vtt"))
	batch, err := b.upload(uploadMeta{Team: "Team R"}, "", corrupt, good)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	r := b.waitBatch(batch, 2)
	if r.Statuses[hark.StatusReady] != 1 || r.Statuses[hark.StatusFailed] != 1 {
		t.Fatalf("want 1 ready and 1 failed, got %+v", r)
	}
	run := func(args ...string) (string, error) {
		t.Helper()
		return runHark(t, b.dataDir, "", args...)
	}
	failed := b.session("Team R/corrupt.wav").Recording
	ready := b.session("Team R/good.wav").Recording

	// hark status says the same, with the failure's reason.
	out, err := run("status", "--batch", batch, "--json")
	var st StatusReport
	if err != nil || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if st.Total != 2 || st.Statuses[hark.StatusReady] != 1 || st.Statuses[hark.StatusFailed] != 1 ||
		len(st.Failures) != 1 || st.Failures[0].ID != failed.ID || !strings.Contains(st.Failures[0].Reason, "corrupt.wav") {
		t.Errorf("status --json: %+v", st)
	}
	if out, err := run("status", "--batch", batch); err != nil || !strings.Contains(out, "corrupt.wav") {
		t.Errorf("status: %v\n%s", err, out)
	}

	// A ready recording is not retried; the failed one of the batch is.
	if out, err := run("retry", ready.ID); err == nil || !strings.Contains(err.Error(), "not failed") {
		t.Errorf("retry of a ready recording: %v\n%s", err, out)
	}
	out, err = run("retry", "--batch", batch)
	if err != nil || !strings.Contains(out, "retrying "+failed.ID) || strings.Contains(out, ready.ID) {
		t.Fatalf("retry --batch: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec := b.session("Team R/corrupt.wav").Recording
		if rec.Attempts == 2 && rec.Status == hark.StatusFailed {
			break // transcribed again, and still not audio
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retried recording: %s after %d attempts, want failed again after 2", rec.Status, rec.Attempts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, err := run("retry", "--batch", batch, failed.ID); err == nil {
		t.Errorf("retry with both a batch and a recording: no error\n%s", out)
	}

	// Every object has its results: reconcile finds nothing to do.
	out, err = run("reconcile")
	if err != nil || !strings.Contains(out, ", 0 enqueued, 0 stuck in progress sent again") {
		t.Fatalf("reconcile: %v\n%s", err, out)
	}
}
