package main

import (
	"context"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
)

func TestMinioSettings(t *testing.T) {
	out := minioSettings("nats://hark:s3cret@hark-nats.hark:4222", "recordings")
	for _, want := range []string{
		"MINIO_NOTIFY_NATS_ADDRESS_HARK=hark-nats.hark:4222\n",
		"MINIO_NOTIFY_NATS_SUBJECT_HARK=hark.recordings.uploaded\n",
		"MINIO_NOTIFY_NATS_JETSTREAM_HARK=on\n",
		"mc admin config set ALIAS notify_nats:HARK address=hark-nats.hark:4222 subject=hark.recordings.uploaded jetstream=on token=<the NATS token>",
		"mc event add ALIAS/recordings arn:minio:sqs::HARK:nats --event put\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the MinIO settings lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("the MinIO settings repeat a credential from the NATS URL:\n%s", out)
	}
}

// hark setup against the embedded servers: it makes what is missing, says
// what it did, checks the store's conditional writes, and a second run
// changes nothing.
func TestSetupIdempotent(t *testing.T) {
	b := startUp(t, t.TempDir())
	run := func() string {
		t.Helper()
		b.out.Reset()
		cmd := newSetupCmd(b.g)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		cmd.SetArgs([]string{"--bucket", "team-b", "--minio"})
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("hark setup: %v\n%s", err, b.out)
		}
		return b.out.String()
	}
	first := run()
	for _, want := range []string{"bucket team-b: created\n", "object store: conditional writes work", "MINIO_NOTIFY_NATS_SUBJECT_HARK=hark.recordings.uploaded"} {
		if !strings.Contains(first, want) {
			t.Errorf("first setup lacks %q:\n%s", want, first)
		}
	}
	second := run()
	if !strings.Contains(second, "bucket team-b: exists\n") || strings.Contains(second, "created") {
		t.Errorf("second setup is not a no-op:\n%s", second)
	}
	// The probe leaves nothing behind.
	store, err := ingest.NewStore(ingest.StoreConfig{Endpoint: b.up.Endpoints.S3, AccessKey: b.up.Secrets.S3AccessKey, SecretKey: b.up.Secrets.S3SecretKey, Bucket: "team-b"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	var left []string
	if err := store.List(context.Background(), "", func(info hark.ObjectInfo) error { left = append(left, info.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("setup left objects in the bucket: %v", left)
	}
}
