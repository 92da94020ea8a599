package hark

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
	Segment    int     `json:"segment"`
	Code       string  `json:"code"`
	Start      int     `json:"start"`
	End        int     `json:"end"`
	Evidence   string  `json:"evidence"`
	Confidence float64 `json:"confidence"`
	Source     Source  `json:"source"`
	Review     Review  `json:"review"`
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
}

// CountByCode returns how many tags there are of each code.
func (a *Annotations) CountByCode() map[string]int {
	counts := make(map[string]int)
	for _, t := range a.Tags {
		counts[t.Code]++
	}
	return counts
}
