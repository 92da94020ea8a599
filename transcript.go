package hark

// Role is the part a speaker plays in a meeting.
type Role string

// The roles a speaker can have.
const (
	RoleWorker  Role = "worker"
	RoleParent  Role = "parent"
	RoleChild   Role = "child"
	RoleOther   Role = "other"
	RoleUnknown Role = "unknown"
)

// ParseRole returns the role named s, or RoleUnknown and false.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case RoleWorker, RoleParent, RoleChild, RoleOther, RoleUnknown:
		return r, true
	}
	return RoleUnknown, false
}

// Segment is one speaker turn, or part of one, with its times in seconds
// from the start of the recording.
type Segment struct {
	Index      int     `json:"index"`
	Start      float64 `json:"start"`
	End        float64 `json:"end"`
	Speaker    string  `json:"speaker"`
	Role       Role    `json:"role"`
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence"` // 0..1; 1 for a human transcript
}

// Transcript is what an engine made of a recording.
type Transcript struct {
	Schema      int       `json:"schema"`
	RecordingID string    `json:"recording_id"`
	Engine      string    `json:"engine"`
	Model       string    `json:"model,omitempty"`
	Language    string    `json:"language,omitempty"`
	Audio       AudioInfo `json:"audio"`
	Segments    []Segment `json:"segments"`
	// Speakers says how the speakers were told apart, and their roles;
	// nil in transcripts made before hark said so.
	Speakers *SpeakerInfo `json:"speakers,omitempty"`
	// Lease is the recording's lease under which this transcript was
	// made: the index refuses it (ECONFLICT) once another attempt has taken
	// the recording over. 0 skips the check (hark reindex).
	Lease int `json:"-"`
}

// Where a transcript's speakers come from (SpeakerInfo.Source).
const (
	SpeakersChannels    = "channels"    // one microphone a speaker (stereo, the worker's channel named)
	SpeakersTranscript  = "transcript"  // the voices of a transcript uploaded next to the audio
	SpeakersDiarization = "diarization" // told apart in the audio by hark
	SpeakersEngine      = "engine"      // told apart by the speech engine itself (a diarizing model or server)
	SpeakersNone        = "none"        // not told apart: every segment's speaker is unknown
)

// Where a speaker's role comes from (SpeakerRole.Source).
const (
	RoleFromMetadata = "metadata" // the upload named the worker's voice or channel
	RoleFromLabel    = "label"    // the transcript calls the speaker "Worker", "Mum", …
	RoleFromVoice    = "voice"    // the team's learned voice of the recording's worker
	RoleFromWords    = "words"    // what the speaker says
	RoleFromCoach    = "coach"    // a coach set it on the review page
)

// SpeakerInfo says how a transcript's speakers were told apart and how
// sure hark is of them and of their roles.
type SpeakerInfo struct {
	// Source is SpeakersChannels, SpeakersTranscript, SpeakersDiarization,
	// SpeakersEngine or SpeakersNone.
	Source string `json:"source"`
	// Count is the number of speakers; Estimated says hark estimated it
	// (no one said how many people speak), with Confidence 0–1.
	Count      int     `json:"count"`
	Estimated  bool    `json:"estimated,omitempty"`
	Confidence float64 `json:"confidence"`
	// Problem says why the speakers could not be told apart, when they
	// could not: the transcript is kept with speakers unknown.
	Problem string `json:"problem,omitempty"`
	// Roles are each speaker's role and how sure hark is of it.
	Roles []SpeakerRole `json:"roles,omitempty"`
}

// SpeakerRole is one speaker's role in a meeting.
type SpeakerRole struct {
	Speaker string `json:"speaker"`
	Role    Role   `json:"role"`
	// Confidence is 0–1: 1 for a role someone stated, less for one hark
	// inferred.
	Confidence float64 `json:"confidence"`
	// Source is RoleFromMetadata, RoleFromLabel, RoleFromVoice,
	// RoleFromWords or RoleFromCoach.
	Source string `json:"source"`
}

// AudioInfo describes a recording's audio as read from the file itself.
type AudioInfo struct {
	Format          string  `json:"format"` // e.g. "pcm16", "pcm24", "float32"
	Channels        int     `json:"channels"`
	SampleRate      int     `json:"sample_rate"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Band is "telephone" for telephone-band audio (8 kHz, or almost no
	// energy above 3.5 kHz), which speech engines recognise less well; ""
	// for full-band audio or when it was not measured.
	Band string `json:"band,omitempty"`
}

// Duration returns the end of the last segment, in seconds.
func (t *Transcript) Duration() float64 {
	var end float64
	for _, s := range t.Segments {
		if s.End > end {
			end = s.End
		}
	}
	return end
}
