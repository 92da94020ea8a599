package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// Metadata keys hark reads from an uploaded object's user metadata
// (docs/formats.md, "Upload metadata"). Upload writes them; the transcribe
// stage reads them into the recording.
const (
	MetaTeam          = "hark-team"
	MetaWorker        = "hark-worker"
	MetaFamily        = "hark-family"
	MetaMeetingType   = "hark-meeting-type"
	MetaRecordedOn    = "hark-recorded-on"
	MetaWorkerChannel = "hark-worker-channel"
	MetaWorkerSpeaker = "hark-worker-speaker"
	MetaEngine        = "hark-engine"
	MetaSidecar       = "hark-sidecar"
	MetaBatch         = "hark-batch"
	MetaSpeakers      = "hark-speakers" // how many people speak, when the uploader knows
	// MetaSHA256 is the SHA-256 of the recording's file, by which Upload
	// recognises a recording uploaded again.
	MetaSHA256 = "hark-sha256"
)

// UploadMeta is what the uploader says about one recording. It is stored
// with the recording as user metadata under the Meta keys; an empty field
// is left out.
type UploadMeta struct {
	Team          string // the team the recording belongs to
	Worker        string // pseudonymous id of the worker, never a name
	Family        string // the family's (case's) reference, pseudonymous, never a name
	MeetingType   string // e.g. home-visit
	RecordedOn    string // the date of the meeting, YYYY-MM-DD
	WorkerChannel string // the worker's microphone: left, right or a 1-based channel number
	WorkerSpeaker string // the speaker name that is the worker in a sidecar transcript
	Engine        string // the transcript engine asked for; empty: the deployment's
	Speakers      string // how many people speak (1–10), when known; empty: estimated
}

// metadata returns the user metadata of a recording uploaded in batch with
// the given SHA-256.
func (m UploadMeta) metadata(batch, sum string) map[string]string {
	meta := map[string]string{MetaTeam: m.Team, MetaBatch: batch, MetaSHA256: sum}
	for k, v := range map[string]string{
		MetaWorker: m.Worker, MetaFamily: m.Family, MetaMeetingType: m.MeetingType, MetaRecordedOn: m.RecordedOn,
		MetaWorkerChannel: m.WorkerChannel, MetaWorkerSpeaker: m.WorkerSpeaker, MetaEngine: m.Engine,
		MetaSpeakers: m.Speakers,
	} {
		if v != "" {
			meta[k] = v
		}
	}
	return meta
}

// UploadOptions is one recording to upload: where it goes, what is stored
// with it, and who is told.
type UploadOptions struct {
	// Store is the object store the recording goes into. Required.
	Store hark.ObjectStore
	// Publisher is told of the upload on hark.SubjectUploaded, which
	// starts the pipeline. Nil: no event is published, for a store that
	// announces its uploads itself (`hark store`, or MinIO with
	// notifications set up by `hark setup`).
	Publisher hark.Publisher
	// Key is the recording's object key, e.g. "Team A/visit.wav". Required.
	Key string
	// Path is the recording's file. Required.
	Path string
	// Sidecar, when set, is the file of a transcript of the recording. It
	// is stored next to the recording, under Key with the transcript's
	// extension, and named in the recording's metadata.
	Sidecar string
	// Meta is what the uploader says about the recording.
	Meta UploadMeta
	// Batch is the id of the batch the recording is uploaded in; it is
	// stored with the recording and its transcript.
	Batch string
	// Progress, when set, is told how the recording's file goes to the
	// store, for a progress bar.
	Progress UploadProgress
	// Now returns the time the upload event carries. Default time.Now.
	Now func() time.Time
}

// UploadProgress is told how a recording's file goes to the store.
type UploadProgress interface {
	// Start is told the file's size before its first byte goes.
	Start(size int64)
	// Write is given the file's bytes as they go.
	Write(p []byte) (int, error)
	// Done is told whether the file was stored.
	Done(ok bool)
}

// UploadResult says what Upload did.
type UploadResult struct {
	// Object is the recording as stored, with its metadata.
	Object hark.ObjectInfo
	// AlreadyStored is true when the same recording (by its SHA-256) was
	// stored under Key before: nothing was written, and its upload event
	// was published again, so that it goes through the pipeline again.
	AlreadyStored bool
}

// Upload stores a recording, with its transcript when it has one, and
// publishes the upload event that starts the pipeline. A recording already
// stored under its key is never overwritten: the same file uploaded again
// is sent through again, and a different one is refused.
//
// It returns EINVALID when a file cannot be read or Key is not a place for
// a recording (hark.CheckKeyPrefix: inside results/ or another of hark's
// own areas, or with a ".." part), ECONFLICT, having stored
// nothing, when a different recording is stored under Key, and the store's
// and the queue's errors (EUNAVAILABLE when either is down). With a
// publishing error the result still says what was stored.
func Upload(ctx context.Context, o UploadOptions) (UploadResult, error) {
	if err := checkRecordingKey(o.Key); err != nil {
		return UploadResult{}, err
	}
	sum, size, err := fileSHA256(o.Path)
	if err != nil {
		return UploadResult{}, err
	}
	existing, err := o.Store.Stat(ctx, o.Key)
	switch {
	case err == nil && existing.Metadata[MetaSHA256] != sum:
		return UploadResult{}, hark.Errorf(hark.ECONFLICT, "a different recording is already stored as %q", o.Key)
	case err == nil:
		return UploadResult{Object: existing, AlreadyStored: true}, o.announce(ctx, existing)
	case hark.ErrorCode(err) != hark.ENOTFOUND:
		return UploadResult{}, err
	}
	meta := o.Meta.metadata(o.Batch, sum)
	if o.Sidecar != "" {
		key, err := o.putSidecar(ctx)
		if err != nil {
			return UploadResult{}, err
		}
		meta[MetaSidecar] = key
	}
	info, err := o.putRecording(ctx, size, meta)
	if err != nil {
		return UploadResult{}, err
	}
	info.Metadata = meta
	return UploadResult{Object: info}, o.announce(ctx, info)
}

// checkRecordingKey refuses a key no recording may have: under a prefix
// hark.CheckKeyPrefix refuses, or with no name after it.
func checkRecordingKey(key string) error {
	i := strings.LastIndex(key, "/")
	if name := key[i+1:]; name == "" || name == "." || name == ".." {
		return hark.Errorf(hark.EINVALID, "recording key %q has no file name", key)
	}
	if i < 0 {
		return nil
	}
	if prefix := key[:i]; prefix == "" || strings.HasSuffix(prefix, "/") {
		return hark.CheckKeyPrefix(prefix + "/") // absolute, or an empty part: said so
	}
	return hark.CheckKeyPrefix(key[:i])
}

// putSidecar stores the transcript next to the recording and returns its key.
func (o UploadOptions) putSidecar(ctx context.Context) (string, error) {
	key := strings.TrimSuffix(o.Key, path.Ext(o.Key)) + filepath.Ext(o.Sidecar)
	f, err := os.Open(o.Sidecar)
	if err != nil {
		return "", hark.Errorf(hark.EINVALID, "transcript %s: cannot open it", o.Sidecar)
	}
	defer f.Close()
	st, _ := f.Stat()
	if _, err := o.Store.Put(ctx, key, f, st.Size(), "text/plain; charset=utf-8", map[string]string{MetaBatch: o.Batch}); err != nil {
		return "", err
	}
	return key, nil
}

// putRecording stores the recording's file, of size bytes, with meta.
func (o UploadOptions) putRecording(ctx context.Context, size int64, meta map[string]string) (hark.ObjectInfo, error) {
	f, err := os.Open(o.Path)
	if err != nil {
		return hark.ObjectInfo{}, hark.Errorf(hark.EINVALID, "%s: cannot open it", o.Path)
	}
	defer f.Close()
	var r io.Reader = f
	if o.Progress != nil {
		o.Progress.Start(size)
		r = io.TeeReader(f, o.Progress)
	}
	info, err := o.Store.Put(ctx, o.Key, r, size, hark.AudioContentType(o.Key), meta)
	if o.Progress != nil {
		o.Progress.Done(err == nil)
	}
	return info, err
}

// announce publishes the upload event of the recording stored as info.
func (o UploadOptions) announce(ctx context.Context, info hark.ObjectInfo) error {
	if o.Publisher == nil {
		return nil
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	bucket := o.Store.Bucket()
	return o.Publisher.Publish(ctx, hark.SubjectUploaded, UploadMsgID(bucket, o.Key, info.ETag), NewUploadEvent(bucket, info, now()))
}

// fileSHA256 returns the SHA-256 of the file at name, in hex, and its size.
func fileSHA256(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", 0, hark.Errorf(hark.EINVALID, "%s: no such file", name)
		}
		return "", 0, hark.Errorf(hark.EINVALID, "%s: cannot read it", name)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, hark.Errorf(hark.EINVALID, "%s: cannot read it", name)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
