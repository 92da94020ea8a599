package s3server

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3response"
)

// notifying wraps a versitygw backend so that every completed upload is
// announced through notify, with retries, before the client gets its answer.
type notifying struct {
	backend.Backend
	notify func(ctx context.Context, obj Created) error
	logf   func(format string, args ...any)
}

func (n *notifying) PutObject(ctx context.Context, in s3response.PutObjectInput) (s3response.PutObjectOutput, error) {
	out, err := n.Backend.PutObject(ctx, in)
	if err == nil {
		var size int64
		if in.ContentLength != nil {
			size = *in.ContentLength
		}
		n.announce(ctx, Created{Bucket: deref(in.Bucket), Key: deref(in.Key), ETag: out.ETag, Size: size, EventName: "s3:ObjectCreated:Put"})
	}
	return out, err
}

func (n *notifying) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput) (s3response.CompleteMultipartUploadResult, string, error) {
	out, version, err := n.Backend.CompleteMultipartUpload(ctx, in)
	if err == nil {
		n.announce(ctx, Created{Bucket: deref(in.Bucket), Key: deref(in.Key), ETag: deref(out.ETag), EventName: "s3:ObjectCreated:CompleteMultipartUpload"})
	}
	return out, version, err
}

func (n *notifying) CopyObject(ctx context.Context, in s3response.CopyObjectInput) (s3response.CopyObjectOutput, error) {
	out, err := n.Backend.CopyObject(ctx, in)
	if err == nil {
		etag := ""
		if out.CopyObjectResult != nil && out.CopyObjectResult.ETag != nil {
			etag = *out.CopyObjectResult.ETag
		}
		n.announce(ctx, Created{Bucket: deref(in.Bucket), Key: deref(in.Key), ETag: etag, EventName: "s3:ObjectCreated:Copy"})
	}
	return out, err
}

// announce calls notify, retrying for a few seconds; the upload itself has
// already succeeded, so a failure is logged and left to the reconciler.
func (n *notifying) announce(ctx context.Context, obj Created) {
	obj.ETag = strings.Trim(obj.ETag, `"`)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	delay := 100 * time.Millisecond
	for {
		err := n.notify(ctx, obj)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			if n.logf != nil {
				n.logf("upload event for %s/%s not published (the reconciler will find the object): %v", obj.Bucket, obj.Key, err)
			}
			return
		case <-time.After(delay):
			delay = min(2*delay, 2*time.Second)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
