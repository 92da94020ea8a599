package ingest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

func TestDecodeEventFixtures(t *testing.T) {
	tests := []struct {
		file   string
		source string
		bucket string
		key    string
		size   int64
		etag   string
	}{
		{"minio-put.json", "minio", "recordings", "team a/2026-11/Q4 plan+review café 会议 (v2).wav", 4096, "a7098fe9015681eb263469a5b1d5a300"},
		{"minio-multipart.json", "minio", "recordings", "outage/two big.wav", 41943040, "49c1d8532e6ad234a13fa9b01d76721a-3"},
		{"versitygw-put.json", "versitygw", "hark-rec", "recordings/2026-11/team a/meeting 1+2 ünïcødé 音声 (final)&x=1.wav", 33, "3747194809b5617041178b2397ae18a3"},
		{"versitygw-multipart.json", "versitygw", "hark-rec", "recordings/2026-11/long session.flac", 0, "7b203d94eade9899972838efd6e55335-5"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "events", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			evs, err := DecodeEvent(data)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			if len(evs) != 1 {
				t.Fatalf("got %d records, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Source != tt.source || ev.Bucket != tt.bucket || ev.Key != tt.key || ev.Size != tt.size || ev.ETag != tt.etag {
				t.Errorf("got source=%q bucket=%q key=%q size=%d etag=%q\nwant source=%q bucket=%q key=%q size=%d etag=%q",
					ev.Source, ev.Bucket, ev.Key, ev.Size, ev.ETag, tt.source, tt.bucket, tt.key, tt.size, tt.etag)
			}
			if ev.AltKey != "" {
				t.Errorf("AltKey = %q, want none for a known source", ev.AltKey)
			}
		})
	}
}

func TestDecodeEventTestEventAndJunk(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "events", "versitygw-test-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := DecodeEvent(data)
	if err != nil || len(evs) != 0 {
		t.Fatalf("test event: got %v, %v; want no records and no error", evs, err)
	}
	for _, junk := range []string{``, `{`, `[]`, `{"Records":[]}`, `{"foo":1}`, `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":""}}}]}`} {
		if _, err := DecodeEvent([]byte(junk)); hark.ErrorCode(err) != hark.EINVALID {
			t.Errorf("DecodeEvent(%q) error = %v, want EINVALID", junk, err)
		}
	}
	del := `{"Records":[{"eventSource":"minio:s3","eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"a.wav"}}}]}`
	if evs, err := DecodeEvent([]byte(del)); err != nil || len(evs) != 0 {
		t.Errorf("delete event: got %v, %v; want ignored", evs, err)
	}
}

func TestDecodeEventAWS(t *testing.T) {
	aws := `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"configurationId":"x","bucket":{"name":"rec","arn":"arn:aws:s3:::rec"},"object":{"key":"team+b/a%2Bb+c.wav","size":10,"eTag":"abc"}}}]}`
	evs, err := DecodeEvent([]byte(aws))
	if err != nil || len(evs) != 1 {
		t.Fatalf("got %v, %v", evs, err)
	}
	if evs[0].Key != "team b/a+b c.wav" || evs[0].AltKey != "team+b/a%2Bb+c.wav" || evs[0].Source != "aws" {
		t.Errorf("got key %q alt %q source %q", evs[0].Key, evs[0].AltKey, evs[0].Source)
	}
}

func TestUploadEventRoundTrip(t *testing.T) {
	keys := []string{"team a/meeting 1.wav", "t/a+b%c&d=e ü 音.wav", "nested/deep/prefix/x.wav"}
	for _, key := range keys {
		info := hark.ObjectInfo{Key: key, ETag: "0123", Size: 42, ContentType: "audio/wav", Metadata: map[string]string{"hark-team": "A", "hark-batch": "b1"}}
		evs, err := DecodeEvent(NewUploadEvent("recordings", info, time.Now()))
		if err != nil || len(evs) != 1 {
			t.Fatalf("%q: %v, %v", key, evs, err)
		}
		ev := evs[0]
		if ev.Key != key || ev.Bucket != "recordings" || ev.ETag != "0123" || ev.Size != 42 || ev.Source != "hark" {
			t.Errorf("round trip of %q gave %+v", key, ev)
		}
		if ev.Metadata["hark-team"] != "A" || ev.Metadata["hark-batch"] != "b1" {
			t.Errorf("metadata lost: %v", ev.Metadata)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := DecodeEvent(data)
		if err != nil && hark.ErrorCode(err) != hark.EINVALID {
			t.Fatalf("error of kind %q: %v", hark.ErrorCode(err), err)
		}
		for _, ev := range evs {
			if ev.Bucket == "" || ev.Key == "" {
				t.Fatalf("record without bucket or key: %+v", ev)
			}
		}
	})
}
