package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// A worker stopped (SIGTERM) in the middle of a long offline transcription
// — PocketSphinx, Debian's, for real — cuts it short after its grace: the
// recognisers are killed with their process group, the message goes back
// without a failed attempt, and another worker finishes the recording,
// resuming from the chunks the first recognised: nothing is lost (every
// chunk recognised once in all) or doubled (the transcript's turns in
// order, none twice).
func TestWorkerStoppedMidOfflineTranscription(t *testing.T) {
	program, err := exec.LookPath("pocketsphinx_continuous")
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("pocketsphinx_continuous is not installed (CI is set; .ci/run installs pocketsphinx)")
		}
		t.Skip("pocketsphinx_continuous is not installed")
	}
	h := newHarness(t, options{AckWait: 40 * time.Second})
	opts := workerOpts{Stages: "transcribe", Concurrency: 1, Env: []string{
		"HARK_SPHINX_PROGRAM=" + program, "HARK_SPHINX_CONCURRENCY=1", "HARK_SPHINX_CHUNK_SECONDS=15", "HARK_SHUTDOWN_GRACE=1s"}}
	a := h.startWorker("a", opts)
	key := "offline/partnership.wav" // 1:28: six chunks or so, a few seconds each to recognise
	h.put(key, loadMeeting(t, "partnership").wav, "audio/wav", nil)
	rec := h.waitStatus(key, hark.StatusTranscribing, 1, time.Minute)
	var cp hark.Checkpoint
	h.eventually(2*time.Minute, "a checkpoint with a chunk recognised", func() (bool, string) {
		err := h.getJSON(hark.CheckpointKey(rec.ID), &cp)
		return err == nil && len(cp.Chunks) >= 1, a.log()
	})
	// The recogniser at work on the next chunk, a child of the worker
	// (between two chunks there is none for a moment).
	var groups []int
	h.eventually(time.Minute, "a recogniser at work under worker a", func() (bool, string) {
		groups = recognizerGroups(t, a.pid())
		return len(groups) > 0, a.log()
	})
	took := a.stop(30 * time.Second)
	if took > 15*time.Second {
		t.Errorf("the worker took %s to stop with a 1 s grace", took)
	}
	for _, pgid := range groups {
		if err := syscall.Kill(-pgid, 0); err == nil {
			t.Errorf("the recogniser's process group %d is still alive after the worker stopped", pgid)
		}
	}
	if !strings.Contains(a.log(), "goes back for another worker") {
		t.Errorf("the stopped worker did not hand the work back:\n%s", a.log())
	}

	b := h.startWorker("b", opts)
	done := h.waitStatus(key, hark.StatusTranscribed, 2, 3*time.Minute)
	if done.Reason != "" {
		t.Errorf("the recording carries a failure: %q", done.Reason)
	}
	m := regexp.MustCompile(`msg="recognised speech in chunks".* chunks=(\d+) resumed=(\d+)`).FindStringSubmatch(b.log())
	if m == nil {
		t.Fatalf("the second worker did not say what it recognised:\n%s", b.log())
	}
	if resumed, _ := strconv.Atoi(m[2]); resumed < 1 {
		t.Errorf("the second worker resumed %s chunk(s) of %s, want those the first recognised", m[2], m[1])
	}
	var tr hark.Transcript
	if err := h.getJSON(hark.TranscriptKey(rec.ID), &tr); err != nil || len(tr.Segments) == 0 {
		t.Fatalf("the transcript: %v, %d turns", err, len(tr.Segments))
	}
	seen := map[string]bool{}
	for i, s := range tr.Segments {
		k := strconv.FormatFloat(s.Start, 'f', 2, 64) + s.Text
		if seen[k] || i > 0 && s.Start < tr.Segments[i-1].Start {
			t.Errorf("turn %d (%.2f s) is doubled or out of order", i, s.Start)
		}
		seen[k] = true
	}
}

// recognizerGroups returns the process groups of the pocketsphinx
// processes whose parent is pid.
func recognizerGroups(t *testing.T, pid int) []int {
	t.Helper()
	var out []int
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "pocketsphinx") {
			continue
		}
		f := strings.Fields(s[i+1:]) // state, ppid, pgrp, …
		if len(f) < 3 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		if ppid == pid {
			out = append(out, pgrp)
		}
	}
	return out
}
