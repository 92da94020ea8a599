package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/transcribe"
)

// workerClip writes a WAV of the worker's own turns in a role-play meeting,
// as a coach would cut an enrolment clip, and returns its path.
func workerClip(t *testing.T, meeting, worker string, seconds float64) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(meetingsDir), "speakers") // absolute: the S3 server changes the working directory
	data, err := os.ReadFile(filepath.Join(dir, meeting+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	pcm := data[44:] // 16 kHz mono 16-bit, a plain 44-byte header (testdata/speakers/README.md)
	refs, err := diarize.ReadRTTMFile(filepath.Join(dir, meeting+".rttm"))
	if err != nil {
		t.Fatal(err)
	}
	var clip []byte
	for _, r := range refs[meeting] {
		if r.Speaker == worker && float64(len(clip))/32000 < seconds {
			clip = append(clip, pcm[2*int(r.Start*16000):min(len(pcm), 2*int(r.End*16000))]...)
		}
	}
	hdr := make([]byte, 44)
	copy(hdr, data[:44])
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+len(clip)))
	binary.LittleEndian.PutUint32(hdr[40:], uint32(len(clip)))
	path := filepath.Join(t.TempDir(), meeting+"-worker.wav")
	if err := os.WriteFile(path, append(hdr, clip...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// hark voice enrol, list and forget against the embedded servers: the voice
// is stored where the transcribe stage looks for it, each step audited.
func TestVoiceCommands(t *testing.T) {
	b := startUp(t, t.TempDir())
	run := func(args ...string) (string, error) {
		t.Helper()
		return runHark(t, b.dataDir, "", args...)
	}
	clip := workerClip(t, "home-visit", "worker", 20)
	if out, err := run("voice", "enrol", "--team", "North", "--worker", "w-104", clip); err != nil ||
		!strings.Contains(out, "learned the voice of worker w-104 in team North") {
		t.Fatalf("enrol: %v\n%s", err, out)
	}
	store, err := ingest.NewStore(ingest.StoreConfig{Endpoint: b.up.Endpoints.S3, AccessKey: b.up.Secrets.S3AccessKey, SecretKey: b.up.Secrets.S3SecretKey, Bucket: "recordings"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(t.Context())
	rd, _, err := store.Get(t.Context(), hark.VoiceKey("North", "w-104"))
	if err != nil {
		t.Fatalf("the voice is not where the transcribe stage looks: %v", err)
	}
	rd.Close()
	if out, err := run("voice", "list"); err != nil || !strings.Contains(out, "North\tw-104\tlearned ") {
		t.Errorf("list: %v\n%s", err, out)
	}
	if out, err := run("voice", "list", "--team", "South"); err != nil || !strings.Contains(out, "no voices learned") {
		t.Errorf("list of another team: %v\n%s", err, out)
	}

	// Bad input says what to do.
	short := workerClip(t, "home-visit", "worker", 3)
	if _, err := run("voice", "enrol", "--team", "North", "--worker", "w-105", short); hark.ErrorCode(err) != hark.EINVALID ||
		!strings.Contains(hark.ErrorMessage(err), "at least 10 s") {
		t.Errorf("a short clip: %v", err)
	}
	if _, err := run("voice", "enrol", "--worker", "w-105", clip); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("no team: %v", err)
	}
	if _, err := run("voice", "forget", "--team", "North", "--worker", "nobody"); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("forget an unknown voice: %v", err)
	}

	if out, err := run("voice", "forget", "--team", "North", "--worker", "w-104"); err != nil || !strings.Contains(out, "forgot the voice") {
		t.Fatalf("forget: %v\n%s", err, out)
	}
	if _, err := store.Stat(t.Context(), hark.VoiceKey("North", "w-104")); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("the voice is still stored after forget: %v", err)
	}
	entries, err := b.up.idx.AuditLog(t.Context(), hark.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" "+e.Detail)
	}
	joined := strings.Join(actions, "; ")
	if !strings.Contains(joined, "voice-enrol North/w-104") || !strings.Contains(joined, "voice-forget North/w-104") {
		t.Errorf("audit log: %s", joined)
	}
}

// hark voice learn: a worker's voice learned from their turns in a session
// a coach corrected (the transcript had the voices the wrong way round),
// and refused before the coach has; the learned voice tells the worker
// apart in another of their meetings, by voice alone.
func TestVoiceLearnedFromCorrectedSession(t *testing.T) {
	b := startUp(t, t.TempDir())
	run := func(args ...string) (string, error) {
		t.Helper()
		return runHark(t, b.dataDir, "", args...)
	}
	batch, err := b.upload(uploadMeta{Team: "North", Worker: "w-1"}, "", swappedMeeting(t))
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	id := b.session("North/visit.wav").Recording.ID
	if _, err := run("voice", "learn", "--team", "North", "--worker", "w-1", id); hark.ErrorCode(err) != hark.EINVALID ||
		!strings.Contains(hark.ErrorMessage(err), "no coach has confirmed who the worker is") {
		t.Fatalf("before the correction: %v", err)
	}
	for _, args := range [][]string{{"user", "add", "sam", "--role", "coach", "--team", "North"},
		{"correct", "role", id, "Parent", "worker", "--as", "sam"}, {"correct", "role", id, "Worker", "parent", "--as", "sam"}} {
		if out, err := run(args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--team", "South", "--worker", "w-1", id}, "team North's, not South's"},
		{[]string{"--team", "North", "--worker", "w-2", id}, `worker "w-1"'s, not w-2's`},
		{[]string{"--team", "North", "--worker", "w-1", "rec_nonesuch"}, "not found"},
	} {
		if _, err := run(append([]string{"voice", "learn"}, bad.args...)...); err == nil || !strings.Contains(hark.ErrorMessage(err), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
	out, err := run("voice", "learn", "--team", "North", "--worker", "w-1", id)
	if err != nil || !strings.Contains(out, "learned the voice of worker w-1 in team North") {
		t.Fatalf("learn: %v\n%s", err, out)
	}
	store, err := ingest.NewStore(ingest.StoreConfig{Endpoint: b.up.Endpoints.S3, AccessKey: b.up.Secrets.S3AccessKey, SecretKey: b.up.Secrets.S3SecretKey, Bucket: "recordings"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(t.Context())
	learned, err := storedVoice(t.Context(), store, hark.VoiceKey("North", "w-1"))
	if err != nil || learned == nil {
		t.Fatalf("the learned voice is not stored: %v", err)
	}

	// Another meeting of the same worker, one microphone: the voice picks
	// out the speaker whose time is the worker's.
	var res *diarize.Diarization
	if err := decodeLocal(t.Context(), filepath.Join(meetingsDir, "partnership.wav"), diarize.Config{}, func(d *diarize.Diarizer) error {
		var err error
		res, err = d.Result()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	who, conf := diarize.MatchVoice(*learned, res.Voices)
	if who == "" {
		t.Fatalf("the learned voice matches no speaker of the other meeting: %v", res.Voices)
	}
	vtt, err := os.ReadFile(filepath.Join(meetingsDir, "partnership.vtt"))
	if err != nil {
		t.Fatal(err)
	}
	cues, err := transcribe.ParseVTT("partnership.vtt", vtt)
	if err != nil {
		t.Fatal(err)
	}
	var asWorker, asParent float64
	for _, turn := range res.Turns {
		if turn.Speaker != who {
			continue
		}
		for _, c := range cues {
			o := max(0, min(turn.End, c.End)-max(turn.Start, c.Start))
			if c.Speaker == "Worker" {
				asWorker += o
			} else {
				asParent += o
			}
		}
	}
	if asWorker < 3*asParent || conf < 0.3 {
		t.Errorf("the voice matched %s (%.2f sure), who speaks %.1f s in the worker's turns and %.1f s in the parent's", who, conf, asWorker, asParent)
	}
}
