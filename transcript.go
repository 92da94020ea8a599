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
	// Lease is the recording's lease under which this transcript was
	// made: the index refuses it (ECONFLICT) once another attempt has taken
	// the recording over. 0 skips the check (hark reindex).
	Lease int `json:"-"`
}

// AudioInfo describes a recording's audio as read from the file itself.
type AudioInfo struct {
	Format          string  `json:"format"` // e.g. "pcm16", "pcm24", "float32"
	Channels        int     `json:"channels"`
	SampleRate      int     `json:"sample_rate"`
	DurationSeconds float64 `json:"duration_seconds"`
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
