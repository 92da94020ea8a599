package ingest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/harkworks/hark"
)

// StoreConfig says how to reach the object store.
type StoreConfig struct {
	// Endpoint is the store's URL, e.g. http://127.0.0.1:9000 or
	// https://s3.eu-west-2.amazonaws.com.
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
	Bucket    string
	// CAFile is a PEM file of the CA certificates an https:// endpoint's
	// certificate must chain to (a private CA); empty: the system's CAs.
	// It has no effect on an http:// endpoint, which is logged.
	CAFile string
	// PartSize is the multipart part size for uploads of unknown length;
	// minio-go's own default buffers about 537 MiB per upload.
	PartSize uint64
	// Logger is told when the store turns out to have no conditional
	// writes. Default slog.Default().
	Logger *slog.Logger
}

// Store is the object store holding recordings and their results.
type Store struct {
	client    *minio.Client
	transport *http.Transport
	cfg       StoreConfig
	// unconditional is set once the store has answered a conditional
	// write with NotImplemented: Create is then an ordinary Put.
	unconditional atomic.Bool
}

var _ hark.ObjectStore = (*Store)(nil)

// NewStore returns a Store for cfg. It does not contact the store.
func NewStore(cfg StoreConfig) (*Store, error) {
	if cfg.PartSize == 0 {
		cfg.PartSize = 16 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Bucket == "" {
		return nil, hark.Errorf(hark.EINVALID, "no bucket configured for the object store")
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, hark.Errorf(hark.EINVALID, "object store endpoint %q is not an http(s) URL", cfg.Endpoint)
	}
	transport, err := minio.DefaultTransport(u.Scheme == "https")
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "object store client for %s", cfg.Endpoint)
	}
	if cfg.CAFile != "" {
		if u.Scheme != "https" {
			cfg.Logger.Warn("object store CA file given for an http:// endpoint: the connection is not encrypted", "endpoint", u.Redacted(), "ca", cfg.CAFile)
		} else {
			pool, err := loadCAs(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("object store: %w", err)
			}
			if transport.TLSClientConfig == nil {
				transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			}
			transport.TLSClientConfig.RootCAs = pool
		}
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    u.Scheme == "https",
		Region:    cfg.Region,
		Transport: transport,
	})
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "object store client for %s", cfg.Endpoint)
	}
	return &Store{client: client, transport: transport, cfg: cfg}, nil
}

var _ hark.Closer = (*Store)(nil)

// Close lets go of the connections the store keeps open between requests.
// The store can still be used after it; it is safe to call more than once.
func (s *Store) Close(context.Context) error {
	s.transport.CloseIdleConnections()
	return nil
}

// Bucket returns the bucket the store reads and writes.
func (s *Store) Bucket() string { return s.cfg.Bucket }

// EnsureBucket creates the bucket if it does not exist.
func (s *Store) EnsureBucket(ctx context.Context) (created bool, err error) {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return false, s.wrap(err, "check bucket %s", s.cfg.Bucket)
	}
	if ok {
		return false, nil
	}
	if err := s.client.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.Region}); err != nil {
		if resp := minio.ToErrorResponse(err); resp.Code == "BucketAlreadyOwnedByYou" {
			return false, nil
		}
		return false, s.wrap(err, "create bucket %s", s.cfg.Bucket)
	}
	return true, nil
}

// Stat returns what the store knows about key.
func (s *Store) Stat(ctx context.Context, key string) (hark.ObjectInfo, error) {
	info, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return hark.ObjectInfo{}, s.wrap(err, "stat %s", key)
	}
	return objectInfo(info), nil
}

// Get opens key for reading as a stream.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, hark.ObjectInfo, error) {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, hark.ObjectInfo{}, s.wrap(err, "get %s", key)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, hark.ObjectInfo{}, s.wrap(err, "get %s", key)
	}
	oi := objectInfo(info)
	return &object{Object: obj, key: key, size: oi.Size}, oi, nil
}

// object is a download that tells a dropped connection from the end of
// the object: a read that ends before the object's size is EUNAVAILABLE
// (retried), where a reader of the bytes alone would take it for a
// truncated file and fail the recording for good. It seeks as the
// object does, for range requests.
type object struct {
	*minio.Object
	key  string
	size int64
	pos  int64
}

func (o *object) Read(p []byte) (int, error) {
	n, err := o.Object.Read(p)
	o.pos += int64(n)
	if (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && o.pos < o.size {
		return n, hark.Errorf(hark.EUNAVAILABLE, "download of %s cut after %d of %d bytes: the connection to the object store dropped", o.key, o.pos, o.size)
	}
	return n, err
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	pos, err := o.Object.Seek(offset, whence)
	if err == nil {
		o.pos = pos
	}
	return pos, err
}

// Put stores r under key. A size of -1 means unknown.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string, metadata map[string]string) (hark.ObjectInfo, error) {
	info, err := s.client.PutObject(ctx, s.cfg.Bucket, key, r, size, minio.PutObjectOptions{
		ContentType:  contentType,
		UserMetadata: metadata,
		PartSize:     s.cfg.PartSize,
	})
	if err != nil {
		return hark.ObjectInfo{}, s.wrap(err, "put %s", key)
	}
	return hark.ObjectInfo{Key: key, ETag: strings.Trim(info.ETag, `"`), Size: info.Size, ContentType: contentType, Metadata: lowerKeys(metadata)}, nil
}

// CheckConditional writes a probe object twice with If-None-Match: * and
// reports whether the store refused the second write, as a store with
// conditional writes must (one that ignores the condition is otherwise not
// noticed). The probe is removed.
func (s *Store) CheckConditional(ctx context.Context) (bool, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	key := fmt.Sprintf("%s.conditional-probe-%x", hark.ResultsPrefix, b)
	defer func() { _ = s.Remove(context.WithoutCancel(ctx), key) }()
	if _, err := s.Create(ctx, key, []byte("probe"), "text/plain"); err != nil {
		return false, err
	}
	_, err := s.Create(ctx, key, []byte("probe again"), "text/plain")
	switch {
	case hark.ErrorCode(err) == hark.ECONFLICT:
		return true, nil
	case err == nil:
		return false, nil
	}
	return false, err
}

// Conditional reports whether Create and Replace are conditional writes:
// false once the store has answered NotImplemented to one.
func (s *Store) Conditional() bool { return !s.unconditional.Load() }

// Create stores data at key only if no object is there yet (If-None-Match:
// *), and returns ECONFLICT when one is. A store that does not implement
// conditional writes answers NotImplemented once; after that Create is an
// ordinary Put (the last writer wins, as before such writes existed).
func (s *Store) Create(ctx context.Context, key string, data []byte, contentType string) (hark.ObjectInfo, error) {
	return s.putIf(ctx, key, data, contentType, func(o *minio.PutObjectOptions) { o.SetMatchETagExcept("*") })
}

// Replace stores data at key only if the object there still has the ETag
// etag (If-Match), and returns ECONFLICT when it has changed or is gone. On
// a store without conditional writes it is an ordinary Put.
func (s *Store) Replace(ctx context.Context, key string, data []byte, contentType, etag string) (hark.ObjectInfo, error) {
	return s.putIf(ctx, key, data, contentType, func(o *minio.PutObjectOptions) { o.SetMatchETag(etag) })
}

// putIf is a conditional PutObject; cond sets its precondition.
func (s *Store) putIf(ctx context.Context, key string, data []byte, contentType string, cond func(*minio.PutObjectOptions)) (hark.ObjectInfo, error) {
	if !s.unconditional.Load() {
		opts := minio.PutObjectOptions{ContentType: contentType, PartSize: s.cfg.PartSize}
		cond(&opts)
		info, err := s.client.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)), opts)
		if err == nil {
			return hark.ObjectInfo{Key: key, ETag: strings.Trim(info.ETag, `"`), Size: info.Size, ContentType: contentType}, nil
		}
		resp := minio.ToErrorResponse(err)
		switch {
		case resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed" || resp.Code == "ConditionalRequestConflict":
			return hark.ObjectInfo{}, hark.WrapError(hark.ECONFLICT, err, "write %s: it was changed meanwhile", key)
		case resp.StatusCode == http.StatusNotFound || resp.Code == "NoSuchKey":
			return hark.ObjectInfo{}, hark.WrapError(hark.ECONFLICT, err, "write %s: it was removed meanwhile", key)
		case resp.StatusCode == http.StatusNotImplemented || resp.Code == "NotImplemented":
			if s.unconditional.CompareAndSwap(false, true) {
				s.cfg.Logger.Warn("the object store does not implement conditional writes: results are written plainly from now on, and a worker that stalls at the wrong moment can replace a newer attempt's copy in the store (never in the index)",
					"endpoint", s.cfg.Endpoint, "answer", resp.Code)
			}
		default:
			return hark.ObjectInfo{}, s.wrap(err, "write %s", key)
		}
	}
	return s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), contentType, nil)
}

// List calls fn for every object under prefix, in key order.
func (s *Store) List(ctx context.Context, prefix string, fn func(hark.ObjectInfo) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for info := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if info.Err != nil {
			return s.wrap(info.Err, "list %s", prefix)
		}
		if err := fn(objectInfo(info)); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Remove deletes key and, where the bucket keeps versions, every version
// of it and its delete markers, so that nothing of it can be brought back.
// Removing a missing key is not an error.
func (s *Store) Remove(ctx context.Context, key string) error {
	var versions []string
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if o.Err != nil {
			versions = nil // a store without versioning may refuse to list them: the plain delete below is all there is
			break
		}
		if o.Key == key && o.VersionID != "" && o.VersionID != "null" {
			versions = append(versions, o.VersionID)
		}
	}
	for _, v := range versions {
		if err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{VersionID: v}); err != nil {
			return s.wrap(err, "remove version %s of %s", v, key)
		}
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.wrap(err, "remove %s", key)
	}
	return nil
}

// RemoveAll deletes every object whose key starts with prefix (with their
// versions), and returns how many there were.
func (s *Store) RemoveAll(ctx context.Context, prefix string) (int, error) {
	return hark.RemoveAll(ctx, s, prefix)
}

// wrap turns a minio-go error into a domain error: ENOTFOUND for a missing
// object, EUNAVAILABLE when the store cannot be reached or is overloaded.
func (s *Store) wrap(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || resp.Code == "NoSuchBucket" || resp.StatusCode == 404:
		return hark.WrapError(hark.ENOTFOUND, err, "%s: not found in bucket %s", what, s.cfg.Bucket)
	case resp.Code == "AccessDenied" || resp.Code == "InvalidAccessKeyId" || resp.Code == "SignatureDoesNotMatch":
		return hark.WrapError(hark.EINVALID, err, "%s: the object store refused the credentials; check HARK_S3_ACCESS_KEY and HARK_S3_SECRET_KEY", what)
	case resp.StatusCode >= 500 || resp.Code == "SlowDown" || isNetError(err):
		return hark.WrapError(hark.EUNAVAILABLE, err, "%s: object store at %s unavailable", what, s.cfg.Endpoint)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return hark.WrapError(hark.EUNAVAILABLE, err, "%s: interrupted", what)
	}
	return hark.WrapError(hark.EINTERNAL, err, "%s", what)
}

func isNetError(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF)
}

func objectInfo(info minio.ObjectInfo) hark.ObjectInfo {
	meta := make(map[string]string, len(info.UserMetadata))
	for k, v := range info.UserMetadata {
		meta[strings.TrimPrefix(strings.ToLower(k), "x-amz-meta-")] = v
	}
	return hark.ObjectInfo{
		Key:          info.Key,
		ETag:         strings.Trim(info.ETag, `"`),
		Size:         info.Size,
		ContentType:  info.ContentType,
		LastModified: info.LastModified,
		Metadata:     meta,
	}
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// Ready reports whether the store answers and the bucket exists.
func (s *Store) Ready(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return s.wrap(err, "check bucket %s", s.cfg.Bucket)
	}
	if !ok {
		return hark.Errorf(hark.EUNAVAILABLE, "bucket %s does not exist (run `hark setup`)", s.cfg.Bucket)
	}
	return nil
}
