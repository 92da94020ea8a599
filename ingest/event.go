package ingest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// EventSourceHark is the eventSource of the S3 events `hark upload`
// publishes. They have MinIO's shape, with form-encoded keys.
const EventSourceHark = "hark:s3"

// ObjectEvent is one object-created record decoded from an S3 event
// notification. Size and ETag come from the event and are hints only: the
// consumer confirms them with a HEAD.
type ObjectEvent struct {
	Source    string // the store that sent it: minio, versitygw, aws or hark
	EventName string
	Bucket    string
	Key       string
	// AltKey is another reading of the key when the source cannot be told
	// for certain (an AWS-shaped event may carry a raw or an encoded key);
	// empty when Key is certain.
	AltKey   string
	Size     int64
	ETag     string
	Time     time.Time
	Metadata map[string]string // user metadata sent with the event, lower-case keys without x-amz-meta-
}

// s3Event is the S3 event notification document, as AWS S3, MinIO and
// versitygw publish it.
type s3Event struct {
	EventName string `json:"EventName"` // MinIO only
	Key       string `json:"Key"`       // MinIO only: bucket/ + decoded key
	Event     string `json:"Event"`     // test events
	Records   []struct {
		EventVersion string `json:"eventVersion"`
		EventSource  string `json:"eventSource"`
		EventTime    string `json:"eventTime"`
		EventName    string `json:"eventName"`
		S3           struct {
			ConfigurationID string `json:"configurationId"`
			Bucket          struct {
				Name string `json:"name"`
				ARN  string `json:"arn"`
			} `json:"bucket"`
			Object struct {
				Key          string            `json:"key"`
				Size         int64             `json:"size"`
				ETag         string            `json:"eTag"`
				UserMetadata map[string]string `json:"userMetadata"`
			} `json:"object"`
		} `json:"s3"`
	} `json:"Records"`
}

// DecodeEvent decodes an S3 event notification into its object-created
// records. It returns no records and no error for a store's test event and
// for records of other kinds (deletions), and an EINVALID error for anything
// that is not an S3 event.
func DecodeEvent(data []byte) ([]ObjectEvent, error) {
	var ev s3Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "not an S3 event notification (bad JSON)")
	}
	if len(ev.Records) == 0 {
		if ev.Event == "s3:TestEvent" {
			return nil, nil
		}
		return nil, hark.Errorf(hark.EINVALID, "not an S3 event notification: no Records")
	}
	var out []ObjectEvent
	for i, r := range ev.Records {
		if !strings.HasPrefix(r.EventName, "s3:ObjectCreated:") && !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		o := ObjectEvent{
			EventName: r.EventName,
			Bucket:    r.S3.Bucket.Name,
			Size:      r.S3.Object.Size,
			ETag:      strings.Trim(r.S3.Object.ETag, `"`),
			Metadata:  userMetadata(r.S3.Object.UserMetadata),
		}
		if o.Bucket == "" || r.S3.Object.Key == "" {
			return nil, hark.Errorf(hark.EINVALID, "S3 event record %d has no bucket or key", i)
		}
		o.Time, _ = time.Parse(time.RFC3339Nano, r.EventTime)
		raw := r.S3.Object.Key
		decoded, decErr := url.QueryUnescape(raw)
		switch {
		case r.EventSource == "minio:s3" || r.EventSource == EventSourceHark:
			// MinIO and hark form-encode keys: space is +, + is %2B.
			o.Source = "minio"
			if r.EventSource == EventSourceHark {
				o.Source = "hark"
			}
			if decErr != nil {
				return nil, hark.WrapError(hark.EINVALID, decErr, "S3 event record %d: key %q is not form-encoded", i, raw)
			}
			o.Key = decoded
		case isVersityGW(r.EventVersion, r.S3.ConfigurationID, r.S3.Bucket.ARN, r.S3.Bucket.Name, raw):
			// versitygw says aws:s3 but sends the key raw.
			o.Source = "versitygw"
			o.Key = raw
		default:
			// AWS S3 URL-encodes keys (space as +). A bridge may have
			// decoded them already, so keep the raw form as a second reading.
			o.Source = "aws"
			if decErr != nil {
				o.Key = raw
			} else {
				o.Key = decoded
				if decoded != raw {
					o.AltKey = raw
				}
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// isVersityGW tells versitygw's events from AWS's: versitygw writes the
// object's raw path into the bucket ARN after a slash.
func isVersityGW(version, configID, arn, bucket, rawKey string) bool {
	if arn == "arn:aws:s3:::/"+bucket+"/"+rawKey {
		return true
	}
	return configID == "webhook-global" && strings.HasPrefix(arn, "arn:aws:s3:::/")
}

// userMetadata normalises event user metadata: lower-case keys without the
// x-amz-meta- prefix.
func userMetadata(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		k = strings.ToLower(k)
		k = strings.TrimPrefix(k, "x-amz-meta-")
		out[k] = v
	}
	return out
}

// NewUploadEvent returns the S3 event notification `hark upload` publishes
// for an object it stored: MinIO's shape, with a form-encoded key and the
// object's user metadata.
func NewUploadEvent(bucket string, info hark.ObjectInfo, now time.Time) []byte {
	meta := make(map[string]string, len(info.Metadata)+1)
	for k, v := range info.Metadata {
		meta["X-Amz-Meta-"+k] = v
	}
	if info.ContentType != "" {
		meta["content-type"] = info.ContentType
	}
	type object struct {
		Key          string            `json:"key"`
		Size         int64             `json:"size"`
		ETag         string            `json:"eTag"`
		ContentType  string            `json:"contentType,omitempty"`
		UserMetadata map[string]string `json:"userMetadata,omitempty"`
	}
	type record struct {
		EventVersion string `json:"eventVersion"`
		EventSource  string `json:"eventSource"`
		EventTime    string `json:"eventTime"`
		EventName    string `json:"eventName"`
		S3           struct {
			SchemaVersion string `json:"s3SchemaVersion"`
			Bucket        struct {
				Name string `json:"name"`
				ARN  string `json:"arn"`
			} `json:"bucket"`
			Object object `json:"object"`
		} `json:"s3"`
	}
	var r record
	r.EventVersion = "2.0"
	r.EventSource = EventSourceHark
	r.EventTime = now.UTC().Format(time.RFC3339Nano)
	r.EventName = "s3:ObjectCreated:Put"
	r.S3.SchemaVersion = "1.0"
	r.S3.Bucket.Name = bucket
	r.S3.Bucket.ARN = "arn:aws:s3:::" + bucket
	r.S3.Object = object{Key: url.QueryEscape(info.Key), Size: info.Size, ETag: info.ETag, ContentType: info.ContentType, UserMetadata: meta}
	doc := struct {
		EventName string   `json:"EventName"`
		Key       string   `json:"Key"`
		Records   []record `json:"Records"`
	}{r.EventName, bucket + "/" + info.Key, []record{r}}
	data, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("marshal upload event: %v", err)) // only plain strings and numbers: cannot fail
	}
	return data
}

// UploadMsgID is the Nats-Msg-Id of an object's upload event, so JetStream
// drops a second publish of the same object version.
func UploadMsgID(bucket, key, etag string) string {
	return "upload:" + hark.RecordingID(bucket, key, etag)
}
