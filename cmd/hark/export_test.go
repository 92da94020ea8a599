package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/qda/qdatest"
)

// hark export --family: everything held about one family in one zip —
// each recording's audio (byte for byte), the uploaded transcript, what
// hark stored, the session as reviewed with the coach's note, the audit
// entries — with a manifest whose hashes hold, and nothing of another
// family's; then hark forget --family erases that family's recordings and
// no other's.
func TestExportFamily(t *testing.T) {
	data := t.TempDir()
	b := startUp(t, data)
	dir := t.TempDir()
	file := func(name string) string {
		wav := filepath.Join(dir, name+".wav")
		copyFile(t, filepath.Join(meetingsDir, "partnership.wav"), wav)
		copyFile(t, filepath.Join(meetingsDir, "partnership.vtt"), filepath.Join(dir, name+".vtt"))
		return wav
	}
	batch, err := b.upload(uploadMeta{Team: "North", Family: "F-2026-0142"}, "", file("first"), file("second"))
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 2)
	batch, err = b.upload(uploadMeta{Team: "North", Family: "F-2026-0999"}, "", file("other"))
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	first, other := b.session("North/first.wav"), b.session("North/other.wav")
	if first.Recording.Family != "F-2026-0142" {
		t.Fatalf("the recording's family: %q", first.Recording.Family)
	}
	coach := b.client("coach", hark.RoleCoach, "North")
	if st, _ := postReview(t, coach, b.up.Endpoints.HTTP, first.Recording.ID, map[string]any{"version": 0, "action": "note", "segment": -1, "text": "Talk to Jo about the mornings."}); st != http.StatusOK {
		t.Fatalf("note: %d", st)
	}

	out := filepath.Join(t.TempDir(), "family.zip")
	run := func(args ...string) (string, error) { return runHark(t, data, "", args...) }
	if msg, err := run("export", "--family", "F-2026-0142", "--out", out, "--reason", "subject access request 2026-114"); err != nil ||
		!strings.Contains(msg, "family F-2026-0142: 2 recording(s)") {
		t.Fatalf("export: %v\n%s", err, msg)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	var m FamilyManifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Recordings) != 2 || m.Family != "F-2026-0142" || m.Reason != "subject access request 2026-114" {
		t.Errorf("manifest %+v", m)
	}
	for _, f := range m.Files {
		sum := sha256.Sum256(files[f.Path])
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(files[f.Path])) != f.Bytes {
			t.Errorf("%s: the manifest's hash or size does not hold", f.Path)
		}
	}
	audio, _ := os.ReadFile(filepath.Join(meetingsDir, "partnership.wav"))
	d := "recordings/" + first.Recording.ID + "/"
	if !bytes.Equal(files[d+"audio.wav"], audio) {
		t.Errorf("the audio in the export is not the recording's (%d bytes)", len(files[d+"audio.wav"]))
	}
	for _, name := range []string{"uploaded-transcript.vtt", "stored/transcript.json", "stored/review.json", "session.json", "audit.json"} {
		if len(files[d+name]) == 0 {
			t.Errorf("the export has no %s", name)
		}
	}
	if !bytes.Contains(files[d+"session.json"], []byte("Talk to Jo about the mornings.")) || !bytes.Contains(files[d+"audit.json"], []byte(`"review"`)) {
		t.Error("the session or the audit entries are not all there")
	}
	for name, content := range files {
		if strings.Contains(name, other.Recording.ID) || bytes.Contains(content, []byte(other.Recording.ID)) {
			t.Errorf("%s holds the other family's recording", name)
		}
	}
	for _, bad := range []struct {
		args []string
		code string
	}{
		{[]string{"export", "--family", "Jo Smith", "--out", out, "--reason", "x"}, hark.EINVALID},
		{[]string{"export", "--family", "F-0000", "--out", out, "--reason", "x"}, hark.ENOTFOUND},
		{[]string{"export", "--family", "F-2026-0142", "--out", out}, hark.EINVALID},
	} {
		if _, err := run(bad.args...); hark.ErrorCode(err) != bad.code {
			t.Errorf("%v: %v, want %s", bad.args, err, bad.code)
		}
	}

	if msg, err := run("forget", "--family", "F-2026-0142", "--reason", "subject erasure request 2026-115", "--yes"); err != nil || !strings.Contains(msg, "erased 2 recording(s)") {
		t.Fatalf("forget --family: %v\n%s", err, msg)
	}
	if s := b.session("North/other.wav"); s.Recording.ID != other.Recording.ID {
		t.Error("the other family's recording is gone")
	}
}

// hark export --format qdpx and --format eaf: a batch's recordings as one
// REFI-QDA project that validates against the schema, with the audio in
// Sources/ and the coach's note; one recording as ELAN with its audio next
// to it; each export in the audit log with its format.
func TestExportResearch(t *testing.T) {
	data := t.TempDir()
	b := startUp(t, data)
	dir := t.TempDir()
	wav := filepath.Join(dir, "meeting.wav")
	copyFile(t, filepath.Join(meetingsDir, "partnership.wav"), wav)
	copyFile(t, filepath.Join(meetingsDir, "partnership.vtt"), filepath.Join(dir, "meeting.vtt"))
	batch, err := b.upload(uploadMeta{Team: "North"}, "", wav)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	sess := b.session("North/meeting.wav")
	coach := b.client("coach", hark.RoleCoach, "North")
	if st, _ := postReview(t, coach, b.up.Endpoints.HTTP, sess.Recording.ID, map[string]any{"version": 0, "action": "note", "segment": -1, "text": "Good agenda setting."}); st != http.StatusOK {
		t.Fatalf("note: %d", st)
	}
	run := func(args ...string) (string, error) { return runHark(t, data, "", args...) }

	out := filepath.Join(t.TempDir(), "north.qdpx")
	msg, err := run("export", "--format", "qdpx", "--batch", batch, "--out", out)
	if err != nil || !strings.Contains(msg, "1 recording(s)") || !strings.Contains(msg, "1 audio file(s)") {
		t.Fatalf("export qdpx: %v\n%s", err, msg)
	}
	qdpx, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	qdatest.ValidateProject(t, sharedQDA, qdpx)
	qde := string(qdatest.ProjectQDE(t, qdpx))
	for _, want := range []string{"Good agenda setting.", `name="North"`, "<Coding ", `name="Strengths"`} {
		if want == `name="North"` {
			want = "North"
		}
		if !strings.Contains(qde, want) {
			t.Errorf("project.qde lacks %q", want)
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(qdpx), int64(len(qdpx)))
	if err != nil {
		t.Fatal(err)
	}
	wavData, _ := os.ReadFile(wav)
	var audioOK bool
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".wav") {
			rc, _ := f.Open()
			got, _ := io.ReadAll(rc)
			rc.Close()
			audioOK = bytes.Equal(got, wavData)
		}
	}
	if !audioOK {
		t.Error("the audio in Sources/ is not the recording's")
	}
	// The same recording named, audio referenced.
	if msg, err := run("export", "--format", "qdpx", sess.Recording.ID, "--audio", "reference", "--include", "all", "-o", out); err != nil || !strings.Contains(msg, "0 audio file(s)") {
		t.Fatalf("export qdpx: %v\n%s", err, msg)
	}
	qdpx, _ = os.ReadFile(out)
	qdatest.ValidateProject(t, sharedQDA, qdpx)

	eafOut := filepath.Join(t.TempDir(), "meeting.eaf")
	if msg, err := run("export", "--format", "eaf", sess.Recording.ID, "--audio", "include", "--out", eafOut); err != nil || !strings.Contains(msg, "the audio to") {
		t.Fatalf("export eaf: %v\n%s", err, msg)
	}
	doc, err := os.ReadFile(eafOut)
	if err != nil {
		t.Fatal(err)
	}
	got := qdatest.ValidateEAF(t, doc)
	if got.MediaURL != "./meeting.wav" || len(got.Tiers) < 3 {
		t.Errorf("media %q, tiers %v", got.MediaURL, got)
	}
	if a, _ := os.ReadFile(strings.TrimSuffix(eafOut, ".eaf") + ".wav"); !bytes.Equal(a, wavData) {
		t.Error("the audio next to the .eaf is not the recording's")
	}
	msg, err = run("audit")
	if err != nil || !strings.Contains(msg, "qdpx: 1 recording(s)") || !strings.Contains(msg, "eaf: 1 recording") {
		t.Errorf("audit: %v\n%s", err, msg)
	}
	for _, bad := range [][]string{
		{"export", "--format", "eaf", "--out", eafOut},
		{"export", "--format", "qdpx", "--out", out},
		{"export", "--format", "pdf", "--out", out},
		{"export", "--format", "qdpx", "--batch", "b-none", "--out", out},
	} {
		if msg, err := run(bad...); err == nil {
			t.Errorf("%v: %s", bad, msg)
		}
	}
}
