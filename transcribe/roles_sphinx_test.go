package transcribe

import (
	"context"
	"encoding/csv"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

// The whole path for a one-microphone recording, offline: PocketSphinx
// hears the words, hark tells the speakers apart and guesses from their
// words and talk which one is the worker. On the ten role-play meetings
// the worker must be found in at least nine (the design's figure). It
// takes a minute or two; skipped without PocketSphinx unless
// HARK_TEST_SPHINX is set (as CI does).
func TestWorkerFoundOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute or two of speech recognition")
	}
	s, err := NewSphinx(SphinxConfig{TempDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if hark.ErrorCode(err) == hark.EUNAVAILABLE && os.Getenv("HARK_TEST_SPHINX") == "" {
		t.Skip("pocketsphinx is not installed (CI sets HARK_TEST_SPHINX=1 to make this a failure):", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(Config{Audio: s, Logger: slog.New(slog.DiscardHandler)})
	dir := filepath.Join("..", "testdata", "speakers")
	f, err := os.Open(filepath.Join(dir, "roles.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	workers := map[string]string{} // meeting → the worker's reference label
	for _, r := range rows[1:] {
		if r[2] == string(hark.RoleWorker) {
			workers[r[0]] = r[1]
		}
	}
	found := 0
	for meeting, label := range workers {
		audio, err := os.Open(filepath.Join(dir, meeting+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := svc.Transcribe(context.Background(), hark.EngineInput{
			Recording: &hark.Recording{ID: "rec_" + meeting, Key: "team/" + meeting + ".wav"}, Audio: audio})
		audio.Close()
		if err != nil {
			t.Fatal(err)
		}
		refs, err := diarize.ReadRTTMFile(filepath.Join(dir, meeting+".rttm"))
		if err != nil {
			t.Fatal(err)
		}
		// The transcript's speaker who overlaps the reference worker most
		// is the true worker; the one hark calls the worker must be it.
		talk := map[string]float64{}
		for _, s := range tr.Segments {
			for _, r := range refs[meeting] {
				if r.Speaker == label {
					talk[s.Speaker] += max(0, min(r.End, s.End)-max(r.Start, s.Start))
				}
			}
		}
		truth, most := "", 0.0
		for sp, v := range talk {
			if v > most {
				truth, most = sp, v
			}
		}
		var guessed hark.SpeakerRole
		for _, r := range tr.Speakers.Roles {
			if r.Role == hark.RoleWorker {
				guessed = r
			}
		}
		if guessed.Speaker == truth && truth != "" {
			found++
		} else {
			t.Logf("%s: hark took %q for the worker (confidence %.2f); the worker is %q", meeting, guessed.Speaker, guessed.Confidence, truth)
		}
	}
	t.Logf("the worker found in %d of %d meetings", found, len(workers))
	if len(workers) < 10 || found < 9 {
		t.Errorf("the worker found in %d of %d role-play meetings, want at least 9 of 10", found, len(workers))
	}
}
