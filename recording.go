package hark

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Status is where a recording is in the pipeline.
type Status string

// The states a recording moves through:
// uploaded → transcribing → transcribed → annotating → ready, or failed.
const (
	StatusUploaded     Status = "uploaded"
	StatusTranscribing Status = "transcribing"
	StatusTranscribed  Status = "transcribed"
	StatusAnnotating   Status = "annotating"
	StatusReady        Status = "ready"
	StatusFailed       Status = "failed"
)

// Statuses lists every status in pipeline order.
var Statuses = []Status{StatusUploaded, StatusTranscribing, StatusTranscribed, StatusAnnotating, StatusReady, StatusFailed}

// Stage names a pipeline stage; a failure records the stage it happened in.
type Stage string

// The pipeline's stages.
const (
	StageIngest     Stage = "ingest"
	StageTranscribe Stage = "transcribe"
	StageAnnotate   Stage = "annotate"
)

// Recording is one uploaded meeting and everything known about it apart from
// its transcript and tags. Its ID is derived from the bucket, key and ETag,
// so the same object always maps to the same recording.
type Recording struct {
	Schema int    `json:"schema"`
	ID     string `json:"id"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`

	// Audio properties, filled in by the transcribe stage.
	DurationSeconds float64 `json:"duration_seconds"`
	Channels        int     `json:"channels"`
	SampleRate      int     `json:"sample_rate"`

	// Upload metadata.
	Team   string `json:"team"`
	Worker string `json:"worker,omitempty"` // a pseudonymous worker id, never a name
	// Family is the family's (or case's) reference, pseudonymous, never a
	// name: what `hark export --family` and `hark forget --family` find a
	// family's recordings by.
	Family        string `json:"family,omitempty"`
	MeetingType   string `json:"meeting_type,omitempty"`
	RecordedOn    string `json:"recorded_on,omitempty"`    // YYYY-MM-DD
	WorkerChannel string `json:"worker_channel,omitempty"` // "left", "right" or a 1-based channel number
	WorkerSpeaker string `json:"worker_speaker,omitempty"` // the voice name that is the worker in a sidecar transcript
	Speakers      int    `json:"speakers,omitempty"`       // how many people speak, when the uploader said; 0: estimated
	Engine        string `json:"engine,omitempty"`         // the engine asked for at upload; empty means the deployment's default
	Sidecar       string `json:"sidecar,omitempty"`        // key of a transcript uploaded next to the audio
	Batch         string `json:"batch,omitempty"`
	// Progress is how far the long work on it has got, while it is being
	// transcribed; nil otherwise.
	Progress *Progress `json:"progress,omitempty"`
	// AudioRemoved is when the audio was removed under the team's
	// retention policy (hark sweep); the transcript and tags stay.
	AudioRemoved *time.Time `json:"audio_removed,omitempty"`

	Status   Status `json:"status"`
	Stage    Stage  `json:"stage,omitempty"`  // where it failed, when failed
	Reason   string `json:"reason,omitempty"` // why it failed, for the person who will fix it
	Attempts int    `json:"attempts"`         // how many times transcription started
	// Lease is the fencing token: bumped (compare-and-set) each time a
	// stage takes the recording on. Results and states written under an
	// older lease are refused, so a worker that stalled past its ack wait
	// cannot overwrite the work of the one that took over.
	Lease int `json:"lease,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RecordingID returns the deterministic id of the object at bucket/key with
// the given ETag. Quotes around the ETag are ignored, since stores differ in
// whether they send them.
func RecordingID(bucket, key, etag string) string {
	etag = strings.Trim(etag, `"`)
	sum := sha256.Sum256([]byte(bucket + "\x00" + key + "\x00" + etag))
	return "rec_" + hex.EncodeToString(sum[:10])
}

// ValidRecordingID reports whether id has the shape RecordingID produces, so
// that an id from a URL can be used in an object key safely.
func ValidRecordingID(id string) bool {
	if len(id) != 24 || !strings.HasPrefix(id, "rec_") {
		return false
	}
	for _, c := range id[4:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Done reports whether the recording has reached a final state.
func (r *Recording) Done() bool {
	return r.Status == StatusReady || r.Status == StatusFailed
}

// Fail marks the recording failed in stage with a reason a user can act on.
func (r *Recording) Fail(stage Stage, reason string, now time.Time) {
	r.Status = StatusFailed
	r.Stage = stage
	r.Reason = reason
	r.UpdatedAt = now
}

// Object keys of the results stored next to the audio. The object store is
// the system of record: the SQL index is rebuilt from these.
const ResultsPrefix = "results/"

// RecordingKey is the object key of a recording's metadata document.
func RecordingKey(id string) string { return ResultsPrefix + id + "/recording.json" }

// TranscriptKey is the object key of a recording's transcript.
func TranscriptKey(id string) string { return ResultsPrefix + id + "/transcript.json" }

// AnnotationsKey is the object key of a recording's annotations.
func AnnotationsKey(id string) string { return ResultsPrefix + id + "/annotations.json" }

// AnnotationsVersionKey is the object key where the annotations made with
// one codebook version are kept, so that older versions stay queryable after
// a re-annotation.
func AnnotationsVersionKey(id, codebook, version string) string {
	return ResultsPrefix + id + "/annotations/" + safeKeyPart(codebook) + "@" + safeKeyPart(version) + ".json"
}

// CodebooksPrefix is where codebooks sent with a re-annotation are stored.
const CodebooksPrefix = "codebooks/"

// CodebookKey is the object key of a codebook version sent with a
// re-annotation.
func CodebookKey(id, version string) string {
	return CodebooksPrefix + safeKeyPart(id) + "@" + safeKeyPart(version) + ".yaml"
}

func safeKeyPart(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// VoicesPrefix is where workers' voices are kept, one per team and worker
// (`hark voice enrol`): biometric data, removed with `hark voice forget`.
const VoicesPrefix = "voices/"

// VoiceKey is the object key of a worker's voice in a team.
func VoiceKey(team, worker string) string {
	return VoicesPrefix + safeKeyPart(team) + "/" + safeKeyPart(worker) + ".json"
}

// ReviewKey is the object key of a recording's review by coaches.
func ReviewKey(id string) string { return ResultsPrefix + id + "/review.json" }
