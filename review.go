package hark

import (
	"fmt"
	"strings"
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
	UpdatedBy   string       `json:"updated_by,omitempty"`
	UpdatedAt   time.Time    `json:"updated_at"`
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

// The corrections a coach can make to a session's speakers.
const (
	// CorrectRole gives Speaker the role Role, in every turn.
	CorrectRole = "speaker-role"
	// CorrectName renames Speaker to Name, in every turn. Naming a
	// speaker after another one makes them one speaker (the diarizer had
	// split one person in two).
	CorrectName = "speaker-name"
)

// MaxSpeakerName is the longest speaker name a coach can give.
const MaxSpeakerName = 60

// Correction is one change a coach made to who speaks in a session.
type Correction struct {
	Kind    string    `json:"kind"` // CorrectRole or CorrectName
	Speaker string    `json:"speaker"`
	Role    Role      `json:"role,omitempty"`
	Name    string    `json:"name,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// Check reports why c cannot be made to t, or nil: the speaker must speak
// in t, a role must be one of the roles, a name must be short and not
// empty.
func (c Correction) Check(t *Transcript) error {
	found := false
	for _, s := range t.Segments {
		found = found || s.Speaker == c.Speaker
	}
	if !found {
		return Errorf(EINVALID, "no one called %q speaks in this session (it may have been corrected meanwhile): reload the page", c.Speaker)
	}
	switch c.Kind {
	case CorrectRole:
		if _, ok := ParseRole(string(c.Role)); !ok {
			return Errorf(EINVALID, "%q is not a role: use worker, parent, child, other or unknown", c.Role)
		}
	case CorrectName:
		if n := strings.TrimSpace(c.Name); n == "" || len(n) > MaxSpeakerName {
			return Errorf(EINVALID, "a speaker's name must be 1 to %d characters", MaxSpeakerName)
		}
	default:
		return Errorf(EINVALID, "%q is not a correction: use %s or %s", c.Kind, CorrectRole, CorrectName)
	}
	return nil
}

// Correct returns t with the review's corrections made, in order, to a
// copy (t is not changed), or t itself when there are none. A correction
// that no longer fits (its speaker is gone after a new transcription) is
// passed over. The roles the coaches set are recorded in the copy's
// SpeakerInfo, with RoleFromCoach.
func (d *ReviewDoc) Correct(t *Transcript) *Transcript {
	if d == nil || len(d.Corrections) == 0 || t == nil {
		return t
	}
	c := *t
	c.Segments = append([]Segment(nil), t.Segments...)
	info := SpeakerInfo{Source: SpeakersNone}
	if t.Speakers != nil {
		info = *t.Speakers
	}
	info.Roles = append([]SpeakerRole(nil), info.Roles...)
	for _, k := range d.Corrections {
		if k.Check(&c) != nil {
			continue
		}
		switch k.Kind {
		case CorrectRole:
			for i := range c.Segments {
				if c.Segments[i].Speaker == k.Speaker {
					c.Segments[i].Role = k.Role
				}
			}
			info.Roles = setRole(info.Roles, SpeakerRole{Speaker: k.Speaker, Role: k.Role, Confidence: 1, Source: RoleFromCoach})
		case CorrectName:
			name := strings.TrimSpace(k.Name)
			var role *Role
			for i := range c.Segments {
				if c.Segments[i].Speaker == name {
					r := c.Segments[i].Role
					role = &r // joining a speaker: take their role
				}
			}
			for i := range c.Segments {
				if c.Segments[i].Speaker == k.Speaker {
					c.Segments[i].Speaker = name
					if role != nil {
						c.Segments[i].Role = *role
					}
				}
			}
			var roles []SpeakerRole
			for _, r := range info.Roles {
				if r.Speaker == k.Speaker {
					if role != nil {
						continue // the speaker joined another, whose role stands
					}
					r.Speaker = name
				}
				roles = append(roles, r)
			}
			info.Roles = roles
		}
	}
	count := map[string]bool{}
	for _, s := range c.Segments {
		if s.Speaker != "" {
			count[s.Speaker] = true
		}
	}
	info.Count = len(count)
	c.Speakers = &info
	return &c
}

// setRole puts r in roles, in place of the speaker's role if they had one.
func setRole(roles []SpeakerRole, r SpeakerRole) []SpeakerRole {
	for i := range roles {
		if roles[i].Speaker == r.Speaker {
			roles[i] = r
			return roles
		}
	}
	return append(roles, r)
}
