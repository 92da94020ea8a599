package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/transcribe"
)

// hark transcribe on a meeting with its transcript next to it: the cues
// come out as WebVTT and as JSON; bad input is refused with the file named.
func TestTranscribeCommand(t *testing.T) {
	wav := filepath.Join(meetingsDir, "mixed.wav")
	vtt, err := os.ReadFile(filepath.Join(meetingsDir, "mixed.vtt"))
	if err != nil {
		t.Fatal(err)
	}
	cues, err := transcribe.ParseVTT("mixed.vtt", vtt)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runCommand(t, newTranscribeCmd, wav, "--format", "json")
	if err != nil {
		t.Fatalf("transcribe --format json: %v", err)
	}
	var tr hark.Transcript
	if err := json.Unmarshal([]byte(out), &tr); err != nil {
		t.Fatalf("not a transcript: %v\n%s", err, out)
	}
	if len(tr.Segments) != len(cues) || tr.Audio.SampleRate == 0 {
		t.Errorf("%d segments (want %d, one per cue), audio %+v", len(tr.Segments), len(cues), tr.Audio)
	}
	out, _, err = runCommand(t, newTranscribeCmd, wav, "--format", "vtt")
	if err != nil || !strings.HasPrefix(out, "WEBVTT") || !strings.Contains(out, tr.Segments[0].Text) {
		t.Errorf("transcribe --format vtt: %v\n%s", err, out)
	}

	corrupt := filepath.Join(t.TempDir(), "broken.wav")
	if err := os.WriteFile(corrupt, []byte("RIFF\x10\x00\x00\x00WAVEfmt not audio"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCommand(t, newTranscribeCmd, corrupt, "--engine", "sidecar"); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("a corrupt WAV: %v, want an error naming the file", err)
	}
	if _, _, err := runCommand(t, newTranscribeCmd, wav, "--engine", "nope"); err == nil {
		t.Error("an unknown engine was accepted")
	}
}

// lockedBuffer is a buffer a command writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// hark store: an upload through the S3 API publishes its event to
// JetStream; hark's own results do not.
func TestStoreCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns, err := ingest.StartNATSServer(ingest.NATSServerConfig{StoreDir: t.TempDir(), Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close(context.Background())
	q, err := ingest.Connect(ctx, ingest.QueueConfig{URL: ns.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close(context.Background())
	if _, err := q.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("HARK_S3_ACCESS_KEY", "hark-store-test")
	t.Setenv("HARK_S3_SECRET_KEY", "hark-store-test-secret")

	if _, _, err := runCommand(t, newStoreCmd, "--root", t.TempDir()); err == nil || !strings.Contains(err.Error(), "--nats") {
		t.Errorf("store without --nats: %v", err)
	}
	out := &lockedBuffer{}
	g := &globals{dataDir: t.TempDir(), logLevel: "error", stdout: out, stderr: out}
	cmd := newStoreCmd(g)
	cmd.SetArgs([]string{"--root", t.TempDir(), "--nats", ns.URL(), "--listen", addr})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "S3 store on") {
		if time.Now().After(deadline) {
			t.Fatalf("hark store did not start:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, err := ingest.NewStore(ingest.StoreConfig{Endpoint: "http://" + addr, AccessKey: "hark-store-test", SecretKey: "hark-store-test-secret", Bucket: "recordings", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	if _, err := st.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"north/visit one.wav", hark.RecordingKey("rec_0123456789abcdef0123")} {
		data := []byte("RIFF not really audio")
		if _, err := st.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "audio/wav", nil); err != nil {
			t.Fatal(err)
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		n, err := q.Pending(ctx, ingest.ConsumerTranscribe)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if n > 1 || time.Now().After(deadline) {
			t.Fatalf("%d upload events queued, want 1 (the recording, not hark's own result)", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("hark store stopped with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("hark store did not stop")
	}
}

// What a person reads when a command fails: cobra's own words about the
// command line with a pointer to --help; a command's own error through
// hark.ErrorMessage, never a bare Go error.
func TestCLIMessage(t *testing.T) {
	run := func(root *cobra.Command, args ...string) string {
		t.Helper()
		root.SetArgs(args)
		err := root.ExecuteContext(context.Background())
		if err == nil {
			t.Fatalf("hark %v succeeded", args)
		}
		return cliMessage(root, err)
	}
	quiet := func() *cobra.Command { return newRootCmd(io.Discard, io.Discard) }
	if got := run(quiet(), "status", "--no-such-flag"); got != "unknown flag: --no-such-flag (see hark --help)" {
		t.Errorf("unknown flag: %q", got)
	}
	if got := run(quiet(), "no-such-command"); !strings.HasPrefix(got, `unknown command "no-such-command" for "hark"`) ||
		!strings.HasSuffix(got, "(see hark --help)") {
		t.Errorf("unknown command: %q", got)
	}
	root := quiet()
	bare := &cobra.Command{Use: "bare", RunE: func(*cobra.Command, []string) error { return io.EOF }}
	root.AddCommand(bare)
	markRuns(root, bare)
	if got := run(root, "bare"); got != "internal error: the data ended early (an empty or cut-off file, or a closed connection)" {
		t.Errorf("a command's bare EOF: %q", got)
	}
	missing := filepath.Join(t.TempDir(), "missing.wav")
	if got := run(quiet(), "transcribe", missing); !strings.Contains(got, "missing.wav") || strings.Contains(got, "see hark --help") {
		t.Errorf("a command's own error: %q", got)
	}
}
