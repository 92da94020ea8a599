package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// hark upload --speakers: the number of people reaches the recording (for
// the diarizer), and a number that cannot be right is refused before
// anything is stored.
func TestUploadSpeakers(t *testing.T) {
	b := startUp(t, t.TempDir())
	dir := t.TempDir()
	wav := filepath.Join(dir, "visit.wav")
	copyFile(t, filepath.Join(meetingsDir, "mixed.wav"), wav)
	copyFile(t, filepath.Join(meetingsDir, "mixed.vtt"), filepath.Join(dir, "visit.vtt"))
	batch, err := b.upload(uploadMeta{Team: "North", Speakers: "2"}, "", wav)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	if rec := b.session("North/visit.wav").Recording; rec.Speakers != 2 {
		t.Errorf("the recording says %d speakers, want 2", rec.Speakers)
	}
	for _, bad := range []string{"0", "11", "two"} {
		_, err := runHark(t, b.dataDir, "", "upload", "--team", "North", "--speakers", bad, wav)
		if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(hark.ErrorMessage(err), "from 1 to 10") {
			t.Errorf("--speakers %s: %v", bad, err)
		}
	}
}
