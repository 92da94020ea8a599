package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/ingest"
)

// TestUploadCompressedAudio runs hark up and uploads a directory holding an
// MP3 and an M4A voice memo, each with its sidecar .vtt next to it, made
// from a testdata meeting with ffmpeg: both become ready, decoded through
// ffmpeg, and the store keeps the files as uploaded. A telephone system's
// 8 kHz µ-law WAV next to them is read natively and its page says it is
// telephone audio. A truncated MP3 fails with a reason that says so.
func TestUploadCompressedAudio(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("ffmpeg is not installed (CI is set; .ci/run installs it)")
		}
		t.Skip("ffmpeg is not installed")
	}
	dir := t.TempDir()
	for _, f := range []struct{ name, codec string }{{"visit.mp3", "libmp3lame"}, {"memo.m4a", "aac"}, {"call.wav", "pcm_mulaw"}} {
		out := filepath.Join(dir, f.name)
		if msg, err := exec.Command(ffmpeg, "-nostdin", "-loglevel", "error", "-i", filepath.Join(meetingsDir, "mixed.wav"), "-ar", map[bool]string{true: "8000", false: "16000"}[f.name == "call.wav"], "-c:a", f.codec, out).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v: %s", err, msg)
		}
		copyFile(t, filepath.Join(meetingsDir, "mixed.vtt"), filepath.Join(dir, f.name[:len(f.name)-4]+".vtt"))
	}
	b := startUp(t, t.TempDir())
	batch, err := b.upload(uploadMeta{Team: "Team A"}, "", dir)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	r := b.waitBatch(batch, 3)
	if r.Statuses[hark.StatusReady] != 3 {
		t.Fatalf("want 3 ready, got %+v", r)
	}
	store, err := ingest.NewStore(ingest.StoreConfig{Endpoint: b.up.Endpoints.S3, AccessKey: b.up.Secrets.S3AccessKey, SecretKey: b.up.Secrets.S3SecretKey, Bucket: "recordings"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	for _, f := range []struct {
		key, format string
		telephone   bool
	}{{"Team A/visit.mp3", "mp3", false}, {"Team A/memo.m4a", "m4a/mp4", false}, {"Team A/call.wav", "ulaw", true}} {
		s := b.session(f.key)
		if s.Transcript == nil || s.Transcript.Engine != "sidecar" || s.Transcript.Audio.Format != f.format || s.Transcript.Audio.DurationSeconds < 30 {
			t.Errorf("%s: transcript %+v", f.key, s.Transcript)
			continue
		}
		if b.http == nil {
			b.http = b.client("admin-"+auth.NewID(""), hark.RoleAdmin)
		}
		resp, err := b.http.Get(b.up.Endpoints.HTTP + "/recordings/" + s.Recording.ID)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := bytes.Contains(page, []byte(" · <span class=\"band\"")); got != f.telephone || (s.Transcript.Audio.Band == "telephone") != f.telephone {
			t.Errorf("%s: band %q, the page says telephone audio: %v; want %v", f.key, s.Transcript.Audio.Band, got, f.telephone)
		}
		// The store keeps, and the page plays, the real type.
		resp, err = b.http.Get(b.up.Endpoints.HTTP + "/recordings/" + s.Recording.ID + "/audio")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, want := resp.Header.Get("Content-Type"), hark.AudioContentType(f.key); resp.StatusCode != http.StatusOK || got != want {
			t.Errorf("%s: the audio is served as %d %q, want %q", f.key, resp.StatusCode, got, want)
		}
		// The redacted audio is a PCM WAV whatever was uploaded, as long
		// as the recording.
		resp, err = b.http.Get(b.up.Endpoints.HTTP + "/recordings/" + s.Recording.ID + "/export/wav-redacted")
		if err != nil {
			t.Fatal(err)
		}
		red, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(red) < 44 || string(red[0:4]) != "RIFF" || binary.LittleEndian.Uint16(red[20:]) != 1 {
			t.Errorf("%s: redacted audio: %d, %d bytes: % x", f.key, resp.StatusCode, len(red), red[:min(len(red), 44)])
		} else if rate, align := binary.LittleEndian.Uint32(red[24:]), binary.LittleEndian.Uint16(red[32:]); math.Abs(float64(len(red)-44)/float64(rate)/float64(align)-s.Transcript.Audio.DurationSeconds) > 0.2 {
			t.Errorf("%s: redacted audio of %.1f s, the recording %.1f s", f.key, float64(len(red)-44)/float64(rate)/float64(align), s.Transcript.Audio.DurationSeconds)
		}
		rc, info, err := store.Get(context.Background(), f.key)
		if err != nil {
			t.Fatal(err)
		}
		if want := hark.AudioContentType(f.key); info.ContentType != want {
			t.Errorf("%s: stored as %q, want %q", f.key, info.ContentType, want)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		want, _ := os.ReadFile(filepath.Join(dir, filepath.Base(f.key)))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the store holds %d bytes, not the %d uploaded", f.key, len(got), len(want))
		}
	}

	cutDir := t.TempDir()
	whole, err := os.ReadFile(filepath.Join(dir, "visit.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cutDir, "cut.mp3"), whole[:len(whole)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(meetingsDir, "mixed.vtt"), filepath.Join(cutDir, "cut.vtt"))
	batch, err = b.upload(uploadMeta{Team: "Team A"}, "", filepath.Join(cutDir, "cut.mp3"))
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	r = b.waitBatch(batch, 1)
	if r.Statuses[hark.StatusFailed] != 1 || len(r.Failures) != 1 || !strings.Contains(r.Failures[0].Reason, "cut.mp3 is truncated: its header promises 1:02 of audio") {
		t.Errorf("truncated MP3: %+v", r)
	}
}
