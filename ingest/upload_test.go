package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/s3server"
)

// uploadBundle is what an upload test works with: the S3 server hark
// embeds, a NATS server with hark's stream, and a folder of files to upload.
type uploadBundle struct {
	ctx   context.Context
	store *Store
	q     *Queue
	dir   string
}

func setupUpload(t *testing.T) *uploadBundle {
	t.Helper()
	b := &uploadBundle{ctx: context.Background(), q: testQueue(t, 1), dir: t.TempDir()}
	srv, err := s3server.Start(b.ctx, s3server.Config{Dir: filepath.Join(b.dir, "s3"), Addr: "127.0.0.1:0", AccessKey: "hark-test", SecretKey: "hark-test-secret-key"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	if b.store, err = NewStore(StoreConfig{Endpoint: srv.URL(), AccessKey: "hark-test", SecretKey: "hark-test-secret-key", Bucket: "recordings", Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.EnsureBucket(b.ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

// file writes data to a file called name and returns its path.
func (b *uploadBundle) file(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(b.dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// events takes the upload events published since the last call off the
// queue. It waits a moment for them: a publish is acknowledged when the
// stream has the message, a little before the consumer hands it out, so a
// fetch that does not wait can miss it.
func (b *uploadBundle) events(t *testing.T) []ObjectEvent {
	t.Helper()
	c, err := b.q.js.Consumer(b.ctx, b.q.cfg.Stream, ConsumerTranscribe)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(100, jetstream.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var out []ObjectEvent
	for msg := range msgs.Messages() {
		evs, err := DecodeEvent(msg.Data())
		if err != nil {
			t.Fatalf("an upload event that does not decode: %v", err)
		}
		out = append(out, evs...)
		if err := msg.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// upload uploads with o, which must succeed, and returns what Upload did
// and what it told its progress.
func (b *uploadBundle) upload(t *testing.T, o UploadOptions) (UploadResult, recordedProgress) {
	t.Helper()
	var pr recordedProgress
	o.Progress = &pr
	res, err := Upload(b.ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return res, pr
}

// recordedProgress is what an UploadProgress was told.
type recordedProgress struct {
	size, written int64
	done, ok      bool
}

func (p *recordedProgress) Start(size int64) { p.size = size }
func (p *recordedProgress) Write(b []byte) (int, error) {
	p.written += int64(len(b))
	return len(b), nil
}
func (p *recordedProgress) Done(ok bool) { p.done, p.ok = true, ok }

func TestUpload(t *testing.T) {
	b := setupUpload(t)
	audio := "RIFF audio bytes the upload does not parse"
	wav := b.file(t, "visit.wav", audio)
	vtt := b.file(t, "visit.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\n<v Worker>Hello\n")
	sum := sha256.Sum256([]byte(audio))
	now := time.Date(2026, 11, 26, 11, 21, 16, 0, time.UTC)
	opts := UploadOptions{Store: b.store, Publisher: b.q, Key: "Team A/visit.wav", Path: wav, Sidecar: vtt, Batch: "b1",
		Meta: UploadMeta{Team: "Team A", Worker: "w-17", RecordedOn: "2026-11-20"}, Now: func() time.Time { return now }}

	var first UploadResult
	t.Run("a new recording with its transcript", func(t *testing.T) {
		res, pr := b.upload(t, opts)
		first = res
		if res.AlreadyStored || res.Object.Key != opts.Key || res.Object.ETag == "" {
			t.Errorf("result %+v, want the recording newly stored under %q", res, opts.Key)
		}
		if pr != (recordedProgress{size: int64(len(audio)), written: int64(len(audio)), done: true, ok: true}) {
			t.Errorf("progress told %+v, want the whole file and done", pr)
		}
		stored, err := b.store.Stat(b.ctx, opts.Key)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{MetaTeam: "Team A", MetaWorker: "w-17", MetaRecordedOn: "2026-11-20", MetaBatch: "b1",
			MetaSHA256: hex.EncodeToString(sum[:]), MetaSidecar: "Team A/visit.vtt"}
		if !maps.Equal(stored.Metadata, want) {
			t.Errorf("stored metadata %v, want %v (empty fields left out)", stored.Metadata, want)
		}
		sidecar, err := b.store.Stat(b.ctx, "Team A/visit.vtt")
		if err != nil {
			t.Fatalf("the transcript is not next to the recording: %v", err)
		}
		if sidecar.Metadata[MetaBatch] != "b1" {
			t.Errorf("transcript metadata %v, want its batch", sidecar.Metadata)
		}
		evs := b.events(t)
		if len(evs) != 1 || evs[0].Key != opts.Key || evs[0].ETag != res.Object.ETag || evs[0].Bucket != "recordings" ||
			evs[0].Metadata[MetaTeam] != "Team A" || !evs[0].Time.Equal(now) {
			t.Errorf("events %+v, want one for the recording, stamped %s", evs, now)
		}
	})

	t.Run("the same file again", func(t *testing.T) {
		res, pr := b.upload(t, opts)
		if !res.AlreadyStored || res.Object.ETag != first.Object.ETag {
			t.Errorf("result %+v, want the recording already stored (ETag %s)", res, first.Object.ETag)
		}
		if pr != (recordedProgress{}) {
			t.Errorf("progress told %+v, want nothing: nothing was sent", pr)
		}
		// Its event is published again with the first one's message id,
		// which JetStream drops within its duplicate window.
		if evs := b.events(t); len(evs) > 1 {
			t.Errorf("events %+v, want at most the one sent again", evs)
		}
	})

	for _, tc := range []struct {
		name    string
		change  func(*UploadOptions)
		code    string
		message string
	}{
		{"a different file under the same key", func(o *UploadOptions) { o.Path = b.file(t, "other.wav", "other audio") },
			hark.ECONFLICT, `a different recording is already stored as "Team A/visit.wav"`},
		{"a file that is not there", func(o *UploadOptions) { o.Key, o.Path = "Team A/gone.wav", filepath.Join(b.dir, "gone.wav") },
			hark.EINVALID, filepath.Join(b.dir, "gone.wav") + ": no such file"},
		{"a transcript that is not there", func(o *UploadOptions) { o.Key, o.Sidecar = "Team A/new.wav", filepath.Join(b.dir, "gone.vtt") },
			hark.EINVALID, "transcript " + filepath.Join(b.dir, "gone.vtt") + ": cannot open it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			tc.change(&o)
			_, err := Upload(b.ctx, o)
			if hark.ErrorCode(err) != tc.code || hark.ErrorMessage(err) != tc.message {
				t.Fatalf("upload: %v (%s), want %s: %s", err, hark.ErrorCode(err), tc.code, tc.message)
			}
			info, err := b.store.Stat(b.ctx, o.Key)
			switch {
			case o.Key == opts.Key && info.ETag != first.Object.ETag:
				t.Errorf("the stored recording changed: ETag %s, %v", info.ETag, err)
			case o.Key != opts.Key && hark.ErrorCode(err) != hark.ENOTFOUND:
				t.Errorf("%s was stored: %v", o.Key, err)
			}
			if evs := b.events(t); len(evs) != 0 {
				t.Errorf("events %+v, want none", evs)
			}
		})
	}

	t.Run("without a publisher", func(t *testing.T) {
		o := opts
		o.Publisher, o.Key, o.Sidecar = nil, "Team A/quiet.wav", ""
		res, _ := b.upload(t, o)
		if _, err := b.store.Stat(b.ctx, o.Key); err != nil || res.AlreadyStored {
			t.Fatalf("the recording was not stored: %v, %+v", err, res)
		}
		if res.Object.Metadata[MetaSidecar] != "" {
			t.Errorf("result %+v names a transcript, want none", res)
		}
		if evs := b.events(t); len(evs) != 0 {
			t.Errorf("events %+v, want none: the store announces its uploads", evs)
		}
	})
}

// Closing a store lets go of its idle connections; it stays usable, and a
// second Close is harmless.
func TestStoreClose(t *testing.T) {
	b := setupUpload(t)
	if _, err := b.store.Put(b.ctx, "a.txt", strings.NewReader("a"), 1, "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := b.store.Close(b.ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, err := b.store.Stat(b.ctx, "a.txt"); err != nil {
		t.Fatalf("the store after Close: %v", err)
	}
	b.store.Close(b.ctx)
}

// A key inside hark's own areas (results/, …), or one that climbs with
// "..", is refused before anything is stored or announced.
func TestUploadRefusesInternalKeys(t *testing.T) {
	b := setupUpload(t)
	wav := b.file(t, "visit.wav", "RIFF audio bytes the upload does not parse")
	for key, says := range map[string]string{
		"results/visit.wav":           "inside results/",
		"Results/visit.wav":           "inside results/",
		"codebooks/visit.wav":         "inside codebooks/",
		"voices/North/visit.wav":      "inside voices/",
		"models/visit.wav":            "inside models/",
		"../visit.wav":                `".."`,
		"Team A/../results/visit.wav": `".."`,
		"/Team A/visit.wav":           "absolute",
		`Team A\visit.wav`:            "", // a backslash in a name is the caller's to refuse; here it is one name
		"Team A//visit.wav":           "empty part",
		"Team A/":                     "no file name",
	} {
		_, err := Upload(b.ctx, UploadOptions{Store: b.store, Publisher: b.q, Key: key, Path: wav, Meta: UploadMeta{Team: "Team A"}, Batch: "b1"})
		if says == "" {
			if err != nil {
				t.Errorf("upload as %q: %v", key, err)
			}
			continue
		}
		if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(hark.ErrorMessage(err), says) {
			t.Errorf("upload as %q: %v, want EINVALID saying %q", key, err, says)
		}
		if _, err := b.store.Stat(b.ctx, key); err == nil {
			t.Errorf("%q was stored: %v", key, err)
		}
	}
	evs := b.events(t)
	if len(evs) != 1 || evs[0].Key != `Team A\visit.wav` {
		t.Errorf("events %+v, want only the one for the upload allowed", evs)
	}
}
