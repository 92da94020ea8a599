package hark

import (
	"net/url"
	"slices"
	"time"
)

// DoubleCoding marks a session for independent coding by several coders,
// as research teams double-code a share of their sessions to report how
// far coders agree. Each coder reviews it blind — their own decisions on
// the machine's tags, their own tags and notes, none of the others' —
// until every one of them has marked their review complete; then the
// disagreements are settled and the settled review becomes the session's
// review, the independent ones kept for the agreement figures.
type DoubleCoding struct {
	RecordingID string `json:"recording_id"`
	// Coders are the accounts asked to code the session, at least two.
	Coders []string `json:"coders"`
	// How says how the session was chosen: "by hand", or the share of a
	// batch drawn at random and the seed it was drawn with, so that the
	// draw can be repeated.
	How      string    `json:"how"`
	MarkedBy string    `json:"marked_by"`
	MarkedAt time.Time `json:"marked_at"`
	// SettledBy and SettledAt are set once the coders' disagreements were
	// settled and the result became the session's review.
	SettledBy string     `json:"settled_by,omitempty"`
	SettledAt *time.Time `json:"settled_at,omitempty"`
}

// MinCoders is the fewest coders a double-coded session has.
const MinCoders = 2

// Codes reports whether name is one of the session's coders.
func (d *DoubleCoding) Codes(name string) bool {
	return d != nil && slices.Contains(d.Coders, name)
}

// Blind reports whether the coders' reviews are still hidden from each
// other: until it is settled, a coder sees only their own.
func (d *DoubleCoding) Blind() bool { return d != nil && d.SettledAt == nil }

// CheckDoubleCoding says what is wrong with a marking, as EINVALID.
func CheckDoubleCoding(d *DoubleCoding) error {
	seen := map[string]bool{}
	for _, c := range d.Coders {
		if c == "" || seen[c] {
			return Errorf(EINVALID, "double coding of %s: the coders must be named once each", d.RecordingID)
		}
		seen[c] = true
	}
	if len(d.Coders) < MinCoders {
		return Errorf(EINVALID, "double coding of %s needs at least %d coders, not %d: name them with --coders", d.RecordingID, MinCoders, len(d.Coders))
	}
	return nil
}

// DoubleCodingKey is the object key of a session's double-coding mark.
func DoubleCodingKey(id string) string { return ResultsPrefix + id + "/double-coding.json" }

// CoderReviewsPrefix is the prefix of the object keys of the coders'
// independent reviews of a double-coded session.
func CoderReviewsPrefix(id string) string { return ResultsPrefix + id + "/reviews/" }

// CoderReviewKey is the object key of one coder's independent review of a
// double-coded session.
func CoderReviewKey(id, coder string) string {
	return CoderReviewsPrefix(id) + url.PathEscape(coder) + ".json"
}
