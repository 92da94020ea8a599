package hark

import "time"

// Source says who made a tag.
type Source string

// The sources of a tag.
const (
	SourceRules Source = "rules"
	SourceLLM   Source = "llm"
	SourceCoach Source = "coach"
)

// Review is a coach's judgement of a tag.
type Review string

// The review states of a tag.
const (
	ReviewPending  Review = "pending"
	ReviewAccepted Review = "accepted"
	ReviewRejected Review = "rejected"
)

// Tag is one practice marker found in one segment, with the evidence for it.
// Start and End are byte offsets into the segment's text, Evidence the words
// between them.
type Tag struct {
	// Key identifies the tag for reviews (see TagKey); coach tags have
	// keys of their own.
	Key        string  `json:"key,omitempty"`
	Segment    int     `json:"segment"`
	Code       string  `json:"code"`
	Start      int     `json:"start"`
	End        int     `json:"end"`
	Evidence   string  `json:"evidence"`
	Confidence float64 `json:"confidence"`
	Source     Source  `json:"source"`
	Review     Review  `json:"review"`
	// OrigCode is the machine's code when a coach changed it.
	OrigCode   string     `json:"orig_code,omitempty"`
	ReviewedBy string     `json:"reviewed_by,omitempty"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
	// Moment marks the tag as chosen for the reflection sheet.
	Moment bool `json:"moment,omitempty"`
}

// Annotations are the tags a tagger found in one transcript with one
// codebook version.
type Annotations struct {
	Schema          int    `json:"schema"`
	RecordingID     string `json:"recording_id"`
	Codebook        string `json:"codebook"`
	CodebookVersion string `json:"codebook_version"`
	Tagger          string `json:"tagger"`
	Tags            []Tag  `json:"tags"`
	// Usage is what a language-model tagger spent on these annotations;
	// nil for the rule tagger.
	Usage *TaggerUsage `json:"usage,omitempty"`
	// Metrics are the session's figures as tagged: counts and rates per
	// code, the reflection-to-question ratio, talk time per role.
	Metrics *SessionMetrics `json:"metrics,omitempty"`
	// Moments are the moments suggested for a coach to start from, ranked
	// (see Moment); Family the session's figures from the parent's side.
	// Both are made with the tags, as tagged: a coach's decisions on tags
	// do not change them.
	Moments []Moment    `json:"moments,omitempty"`
	Family  *FamilyLens `json:"family,omitempty"`
	// Lease is the recording's lease under which these annotations were
	// made: the index and the object store refuse them (ECONFLICT) once
	// another attempt has taken the recording over. 0 skips the index's
	// check (hark reindex).
	Lease int `json:"lease,omitempty"`
}

// TaggerUsage is the requests and tokens a language-model tagger used.
type TaggerUsage struct {
	Model            string `json:"model"`
	Requests         int    `json:"requests"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	TotalTokens      int    `json:"total_tokens"`
	// Dropped counts the model's tags that failed validation.
	Dropped int `json:"dropped"`
}

// CountByCode returns how many tags there are of each code.
func (a *Annotations) CountByCode() map[string]int {
	counts := make(map[string]int)
	for _, t := range a.Tags {
		counts[t.Code]++
	}
	return counts
}
