package hark

import (
	"fmt"
	"time"
)

// TagKey identifies a machine tag across re-annotations with the same
// result: its segment, span and the code the machine gave it.
func TagKey(segment, start, end int, code string) string {
	return fmt.Sprintf("m:%d:%d:%d:%s", segment, start, end, code)
}

// ReviewState says how far a coach has got with a session.
type ReviewState string

// The review states of a session.
const (
	ReviewNone       ReviewState = ""
	ReviewInProgress ReviewState = "in_progress"
	ReviewComplete   ReviewState = "complete"
)

// ReviewDoc is everything coaches decided about one session: judgements
// of machine tags, tags they added, notes, and the moments chosen for the
// reflection sheet. It is stored next to the recording
// (results/<id>/review.json) and in the index, and it never changes the
// machine's own annotations, so both can always be compared.
type ReviewDoc struct {
	Schema      int    `json:"schema"`
	RecordingID string `json:"recording_id"`
	// Version counts changes; a change made on a stale view (an older
	// version) is refused.
	Version   int         `json:"version"`
	State     ReviewState `json:"state"`
	Decisions []Decision  `json:"decisions"`
	Added     []Tag       `json:"added"`
	Notes     []Note      `json:"notes"`
	// Corrections are the coaches' changes to who speaks, in the order
	// they were made; the machine's transcript is kept as it was, and
	// Correct applies them to it.
	Corrections []Correction `json:"corrections,omitempty"`
	// Suggestions are the coaches' answers to the suggested moments:
	// accepted (onto the reflection sheet) or dismissed.
	Suggestions []SuggestionDecision `json:"suggestions,omitempty"`
	// Coder is the coder whose independent review of a double-coded
	// session this is (see DoubleCoding); "" for the session's own review.
	Coder     string    `json:"coder,omitempty"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Decision is a coach's judgement of one machine tag.
type Decision struct {
	Key    string    `json:"key"`
	Review Review    `json:"review"`         // accepted or rejected (pending removes the decision)
	Code   string    `json:"code,omitempty"` // the code the coach changed it to, if any
	Moment bool      `json:"moment"`         // chosen for the reflection sheet
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Note is a coach's note on a turn (Segment ≥ 0) or on the whole session
// (Segment -1).
type Note struct {
	ID      string    `json:"id"`
	Segment int       `json:"segment"`
	Text    string    `json:"text"`
	Moment  bool      `json:"moment"` // chosen for the reflection sheet
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// MaxNoteBytes is the longest note a coach can write.
const MaxNoteBytes = 4000

// Decision returns the decision for the tag with key, or nil.
func (d *ReviewDoc) Decision(key string) *Decision {
	for i := range d.Decisions {
		if d.Decisions[i].Key == key {
			return &d.Decisions[i]
		}
	}
	return nil
}

// Apply returns the machine's tags with the coaches' decisions applied (the
// review, a changed code with the machine's code kept in OrigCode) followed
// by the tags coaches added.
func (d *ReviewDoc) Apply(machine []Tag) []Tag {
	out := make([]Tag, 0, len(machine)+len(d.Added))
	for _, t := range machine {
		t.Key = TagKey(t.Segment, t.Start, t.End, t.Code)
		t.Review = ReviewPending
		if dec := d.Decision(t.Key); dec != nil {
			at := dec.At
			t.Review, t.ReviewedBy, t.ReviewedAt, t.Moment = dec.Review, dec.By, &at, dec.Moment
			if dec.Code != "" && dec.Code != t.Code {
				t.OrigCode, t.Code = t.Code, dec.Code
			}
		}
		out = append(out, t)
	}
	return append(out, d.Added...)
}
