package hark

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"time"
)

// EngineInput is what a transcript engine gets for one recording.
type EngineInput struct {
	Recording *Recording
	// Audio is the recording's WAV stream, read once.
	Audio io.Reader
	// Sidecar is a transcript uploaded next to the recording, or nil.
	Sidecar *Sidecar
	// WorkerVoice, when the recording's team has learned its worker's
	// voice, is that voice as stored (VoiceKey), for the engine to tell
	// the worker among the speakers by; nil otherwise.
	WorkerVoice []byte
	// Progress, when set, is told how far the engine has got, after each
	// piece of audio it recognises. It may be called from several
	// goroutines at once.
	Progress func(Progress)
	// Resume, when set, is the checkpoint an earlier attempt left: the
	// engine takes the chunks it recognised rather than recognising them
	// again, when its key is the engine's for this input.
	Resume *Checkpoint
	// Checkpoint, when set, is given the work done so far as chunks are
	// recognised, for a later attempt to resume from. It may be called
	// from several goroutines at once; it must not keep the value past the
	// call without copying it.
	Checkpoint func(Checkpoint)
}

// Sidecar is a transcript file uploaded next to a recording.
type Sidecar struct {
	Name string // the file or object name; its extension says the format
	Data []byte
}

// Engine turns a recording into a transcript. Errors are *Error values: EINVALID
// when the input can never be transcribed (corrupt audio, a malformed
// sidecar), EUNAVAILABLE when a service it needs is down.
type Engine interface {
	Name() string
	Transcribe(ctx context.Context, in EngineInput) (*Transcript, error)
}

// Tagger finds practice markers in a transcript using a codebook.
type Tagger interface {
	Name() string
	Tag(ctx context.Context, t *Transcript) (*Annotations, error)
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	ETag         string
	Size         int64
	ContentType  string
	LastModified time.Time
	// Metadata is the object's user metadata with lower-case keys and
	// without the x-amz-meta- prefix.
	Metadata map[string]string
}

// ObjectStore is the object store, the system of record. Errors are *Error
// values: ENOTFOUND for a missing object, EUNAVAILABLE when the store cannot
// be reached.
type ObjectStore interface {
	Bucket() string
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string, metadata map[string]string) (ObjectInfo, error)
	// Conditional reports whether Create and Replace are really
	// conditional: false once the store has answered that it does not
	// implement conditional writes.
	Conditional() bool
	// Create stores data at key only if no object is there yet, and
	// returns ECONFLICT when one is (S3's conditional write, If-None-Match:
	// *), so that of two writers racing, the first one's object stands. A
	// store without conditional writes makes it an ordinary Put.
	Create(ctx context.Context, key string, data []byte, contentType string) (ObjectInfo, error)
	// Replace stores data at key only if the object there still has the
	// ETag etag, and returns ECONFLICT when it has changed or is gone
	// (If-Match): a compare-and-set. A store without conditional writes
	// makes it an ordinary Put.
	Replace(ctx context.Context, key string, data []byte, contentType, etag string) (ObjectInfo, error)
	// List calls fn for every object whose key starts with prefix.
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
	// Remove deletes key and, where the bucket keeps versions, every
	// version of it. Removing a missing key is not an error.
	Remove(ctx context.Context, key string) error
}

// PutJSON stores v at key as indented JSON, as the documents kept next to
// a recording are (its review, its double-coding mark), so that `hark
// reindex` can rebuild the index from them.
func PutJSON(ctx context.Context, store ObjectStore, key string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return WrapError(EINTERNAL, err, "encode %s", key)
	}
	_, err = store.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "application/json", nil)
	return err
}

// Delivery is one message delivered to a stage, at least once.
type Delivery interface {
	Data() []byte
	// Attempt is 1 on the first delivery and counts up on redeliveries.
	// A run again of the same delivery after a hold is the same attempt.
	Attempt() int
	// Final reports whether this is the last delivery the queue will make.
	Final() bool
	// InProgress tells the queue the work is still going, so it is not
	// redelivered elsewhere while a long job runs.
	InProgress() error
	// Claimed returns the lease a handler took recording id on with on
	// this delivery (0: none), and SetClaimed remembers it. A handler the
	// queue runs again on the same delivery (it held the message while a
	// dependency was down) thereby knows the recording in progress is its
	// own, not another message's.
	Claimed(id string) int
	SetClaimed(id string, lease int)
}

// Publisher publishes a work message. MsgID lets the queue drop duplicates.
type Publisher interface {
	Publish(ctx context.Context, subject, msgID string, data []byte) error
}

// Subjects of the messages hark's stages exchange.
const (
	SubjectUploaded    = "hark.recordings.uploaded"
	SubjectTranscribed = "hark.transcripts.ready"
)

// RecordingFilter selects recordings from the index.
type RecordingFilter struct {
	Team   string
	Batch  string
	Status Status
	// Teams, when not nil, restricts the list to these teams (the teams a
	// user may see); an empty, non-nil list matches nothing.
	Teams       []string
	Worker      string
	Family      string // a family's reference (Recording.Family)
	MeetingType string
	From, To    string // recorded_on range, YYYY-MM-DD, inclusive
	Code        string // only recordings with a tag of this code (rejected tags do not count)
	Limit       int
}

// CountFilter selects the recordings a status or tag count covers.
type CountFilter struct {
	// Batch, when set, counts one batch only.
	Batch string
	// Teams, when not nil, restricts the counts to these teams (the teams
	// a user may see); an empty, non-nil list counts nothing.
	Teams []string
}

// RecordingSummary is a recording with its tag counts, for lists.
type RecordingSummary struct {
	Recording
	TagCounts map[string]int `json:"tag_counts"`
	// Tags and Reviewed count all tags and those a coach has judged or
	// added: review progress.
	Tags     int `json:"tags"`
	Reviewed int `json:"reviewed"`
}

// Session is one recording with its transcript and tags, for the review page.
type Session struct {
	Recording  *Recording  `json:"recording"`
	Transcript *Transcript `json:"transcript,omitempty"`
	// Annotations hold the tags as reviewed: the machine's, with coaches'
	// decisions applied, and the coaches' own.
	Annotations *Annotations `json:"annotations,omitempty"`
	// Review is the coaches' review document (notes, decisions, version).
	Review *ReviewDoc `json:"review,omitempty"`
}

// Index is the SQL index over the object store: recordings, segments and
// tags for pages and reports. It can be rebuilt from the object store.
// Lookups return ENOTFOUND for an unknown recording.
type Index interface {
	// PutRecording inserts or updates a recording. It returns ECONFLICT,
	// and changes nothing, when the stored recording has a later lease: a
	// newer attempt owns it (fencing).
	PutRecording(ctx context.Context, r *Recording) error
	// ClaimRecording saves r only if the stored lease is still prev (0: no
	// recording yet), and returns ECONFLICT otherwise, so that one worker
	// at a time owns a recording.
	ClaimRecording(ctx context.Context, r *Recording, prev int) error
	Recording(ctx context.Context, id string) (*Recording, error)
	Recordings(ctx context.Context, f RecordingFilter) ([]RecordingSummary, error)
	// PutTranscript replaces the recording's segments. With t.Lease set it
	// returns ECONFLICT, and changes nothing, unless that is still the
	// recording's lease (fencing).
	PutTranscript(ctx context.Context, t *Transcript) error
	// PutAnnotations replaces the recording's tags, fenced by a.Lease as
	// PutTranscript is.
	PutAnnotations(ctx context.Context, a *Annotations) error
	Session(ctx context.Context, id string) (*Session, error)
	// StatusCounts counts the recordings f selects per status.
	StatusCounts(ctx context.Context, f CountFilter) (map[Status]int, error)
	// TagCounts counts tags per code over the ready recordings f selects,
	// rejected tags left out.
	TagCounts(ctx context.Context, f CountFilter) (map[string]int, error)
	// Review returns a recording's review document (version 0 when nobody
	// has reviewed it).
	Review(ctx context.Context, id string) (*ReviewDoc, error)
	// PutReview saves a review as version prev+1 if the stored version is
	// still prev, and returns ECONFLICT otherwise (a change on a stale view).
	PutReview(ctx context.Context, r *ReviewDoc, prev int) error
	Close() error
}

// Closer is a long-lived part of hark that runs until it is stopped: a
// server, a queue connection, the whole embedded `hark up`. Every one of
// them keeps the same contract, so that whoever starts a part can stop it
// without knowing what it is:
//
//   - Close stops the part and waits until it has stopped, for no longer
//     than ctx allows: when ctx ends first, Close gives up waiting (cutting
//     short what it can, such as open connections) and returns ctx.Err(),
//     wrapped with the part's name.
//   - Close is safe to call more than once: a later call returns what the
//     first returned, without waiting again (a call made while the first is
//     still running waits for it).
//   - Close is safe on a part that was never started, and returns nil.
//
// A part with a start step of its own (a web server built by New) has
// Start(ctx) error too: ctx bounds the start, not the run. A second Start
// is a no-op and returns nil; Start after Close returns an error. A part
// whose constructor starts it (StartNATSServer, s3server.Start, Connect)
// has only Close.
//
// Resources that only release something and never wait, such as the index
// (Index.Close) or a transcription work dir, are io.Closers instead.
type Closer interface {
	Close(ctx context.Context) error
}
