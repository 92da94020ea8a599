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
