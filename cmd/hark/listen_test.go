package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

// `hark diarize` and `hark voice learn` read what the transcribe stage
// reads: an MP3 of a meeting diarizes as its WAV does, near enough (the
// codec changes the samples a little, not who speaks when).
func TestDiarizeCompressedFile(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("ffmpeg is not installed (CI is set; .ci/run installs it)")
		}
		t.Skip("ffmpeg is not installed")
	}
	wav := filepath.Join(meetingsDir, "partnership.wav")
	mp3 := filepath.Join(t.TempDir(), "partnership.mp3")
	if msg, err := exec.Command(ffmpeg, "-nostdin", "-loglevel", "error", "-i", wav, "-ac", "1", "-c:a", "libmp3lame", "-b:a", "96k", mp3).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, msg)
	}
	cfg := diarize.Config{Speakers: 2}
	want, err := diarizeFile(t.Context(), wav, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := diarizeFile(t.Context(), mp3, cfg)
	if err != nil {
		t.Fatalf("diarize an MP3: %v", err)
	}
	if got.Speakers != want.Speakers || len(got.Turns) == 0 || math.Abs(got.SpeechSeconds-want.SpeechSeconds) > 0.1*want.SpeechSeconds {
		t.Errorf("the MP3: %d speakers, %d turns, %.1f s of speech; the WAV: %d, %d, %.1f s",
			got.Speakers, len(got.Turns), got.SpeechSeconds, want.Speakers, len(want.Turns), want.SpeechSeconds)
	}
	if der := diarize.Score(want.Turns, got.Turns, nil, 0.25).DER(); der > 0.15 {
		t.Errorf("the MP3's speakers differ from the WAV's: DER %.1f%% against the WAV's own diarization", 100*der)
	}
}

// `hark diarize --work-dir` keeps the features of the audio in a private
// directory of its own inside the root it is given (as the workers do),
// leaves nothing there, and finds what it finds without one; a file where
// the directory should be is refused, and a root others can read is made
// private.
func TestDiarizeWorkDir(t *testing.T) {
	wav := filepath.Join(meetingsDir, "partnership.wav")
	want, _, err := runCommand(t, newDiarizeCmd, wav)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "work")
	got, _, err := runCommand(t, newDiarizeCmd, wav, "--work-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("with --work-dir:\n%s\nwithout:\n%s", got, want)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("work dir: %v, %v; want a 0700 directory", fi, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left in the work dir: %v", left)
	}
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	if _, _, err := runCommand(t, newDiarizeCmd, wav, "--work-dir", file); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("--work-dir naming a file: %v, want EINVALID", err)
	}
	open := filepath.Join(t.TempDir(), "shared")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o755)
	if _, _, err := runCommand(t, newDiarizeCmd, wav, "--work-dir", open); err != nil {
		t.Fatalf("--work-dir others can read: %v", err)
	}
	if fi, err := os.Stat(open); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("a work dir others could read: %v, %v; want it made 0700", fi, err)
	}
	if left, _ := os.ReadDir(open); len(left) != 0 {
		t.Errorf("left in the work dir: %v", left)
	}
}
