package main

import (
	"strings"
	"testing"
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
