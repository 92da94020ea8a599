package hark

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The corrections a coach can make to who speaks and to what was said.
const (
	// CorrectRole gives Speaker the role Role, in every turn.
	CorrectRole = "speaker-role"
	// CorrectName renames Speaker to Name, in every turn. Naming a
	// speaker after another one makes them one speaker (the diarizer had
	// split one person in two).
	CorrectName = "speaker-name"
	// CorrectMove gives turn Turn to the speaker Name: the whole turn, or,
	// when Word is past its first word, its words from byte Word on, which
	// become a turn of their own.
	CorrectMove = "turn-speaker"
	// CorrectMerge joins turn Turn and the turn after it into one turn of
	// Turn's speaker.
	CorrectMerge = "turn-merge"
	// CorrectText replaces turn Turn's words with Text.
	CorrectText = "turn-text"
)

// IsCorrection says whether kind is one of the corrections.
func IsCorrection(kind string) bool {
	switch kind {
	case CorrectRole, CorrectName, CorrectMove, CorrectMerge, CorrectText:
		return true
	}
	return false
}

// MaxSpeakerName is the longest speaker name a coach can give.
const MaxSpeakerName = 60

// MaxTurnText is the longest text a coach can give a turn.
const MaxTurnText = 20000

// Correction is one change a coach made to who speaks in a session, or to
// what a turn says. Turns are numbered from 0 in their order, as the
// corrections made before leave the transcript.
type Correction struct {
	Kind string `json:"kind"`
	// Speaker is the speaker whose role or name changes.
	Speaker string `json:"speaker,omitempty"`
	// Role is the speaker's new role (CorrectRole), or the role of a new
	// speaker a turn is given to (CorrectMove; an existing speaker keeps
	// theirs).
	Role Role `json:"role,omitempty"`
	// Name is the speaker's new name (CorrectName), or the speaker a turn
	// is given to (CorrectMove).
	Name string `json:"name,omitempty"`
	// Turn is the turn changed (CorrectMove, CorrectMerge, CorrectText),
	// and TurnStart its start then, in seconds: a correction whose turn is
	// not there any more (the recording was transcribed again) is passed
	// over.
	Turn      int     `json:"turn,omitempty"`
	TurnStart float64 `json:"turn_start,omitempty"`
	// Word is where the words given to another speaker start, in bytes of
	// the turn's text (CorrectMove); 0 gives the whole turn.
	Word int `json:"word,omitempty"`
	// Text is the turn's new text (CorrectText).
	Text string    `json:"text,omitempty"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

func (c Correction) ofTurn() bool {
	return c.Kind == CorrectMove || c.Kind == CorrectMerge || c.Kind == CorrectText
}

// Check reports why c cannot be made to t, or nil: the speaker or turn
// must be in t, a role must be one of the roles, a name must be short and
// not empty, words given to another speaker must start at a character
// inside the turn, and a turn's text must not be empty.
func (c Correction) Check(t *Transcript) error {
	switch c.Kind {
	case CorrectRole, CorrectName:
		found := false
		for _, s := range t.Segments {
			found = found || s.Speaker == c.Speaker
		}
		if !found {
			return Errorf(EINVALID, "no one called %q speaks in this session (it may have been corrected meanwhile): reload the page", c.Speaker)
		}
		if c.Kind == CorrectRole {
			return checkRole(c.Role)
		}
		return checkName(c.Name)
	case CorrectMove, CorrectMerge, CorrectText:
	default:
		return Errorf(EINVALID, "%q is not a correction: use %s, %s, %s, %s or %s", c.Kind, CorrectRole, CorrectName, CorrectMove, CorrectMerge, CorrectText)
	}
	i := c.turn(t)
	if i < 0 {
		return Errorf(EINVALID, "turn %d is not in this session as your page shows it (it may have been corrected meanwhile): reload the page", c.Turn)
	}
	seg := t.Segments[i]
	switch c.Kind {
	case CorrectMove:
		if err := checkName(c.Name); err != nil {
			return err
		}
		if c.Role != "" {
			if err := checkRole(c.Role); err != nil {
				return err
			}
		}
		if c.Word < 0 || c.Word >= len(seg.Text) {
			return Errorf(EINVALID, "the words to give to %s start at byte %d, outside turn %d", strings.TrimSpace(c.Name), c.Word, c.Turn)
		}
		if !utf8.RuneStart(seg.Text[c.Word]) {
			return Errorf(EINVALID, "the words to give to %s start in the middle of a character", strings.TrimSpace(c.Name))
		}
		if strings.TrimSpace(seg.Text[c.Word:]) == "" {
			return Errorf(EINVALID, "there are no words after that point of turn %d to give to %s", c.Turn, strings.TrimSpace(c.Name))
		}
		if c.whole(seg) && seg.Speaker == strings.TrimSpace(c.Name) {
			return Errorf(EINVALID, "turn %d is already %s's", c.Turn, seg.Speaker)
		}
	case CorrectMerge:
		if i+1 >= len(t.Segments) {
			return Errorf(EINVALID, "turn %d is the last: there is no turn after it to merge it with", c.Turn)
		}
	case CorrectText:
		text := strings.TrimSpace(c.Text)
		switch {
		case text == "":
			return Errorf(EINVALID, "a turn's text cannot be empty: merge the turn with its neighbour instead")
		case len(text) > MaxTurnText:
			return Errorf(EINVALID, "the turn's text is too long (%d bytes; at most %d): split the turn first", len(text), MaxTurnText)
		case !utf8.ValidString(text):
			return Errorf(EINVALID, "the turn's text is not valid text")
		case text == seg.Text:
			return Errorf(EINVALID, "turn %d already says that", c.Turn)
		}
	}
	return nil
}

func checkRole(r Role) error {
	if _, ok := ParseRole(string(r)); !ok {
		return Errorf(EINVALID, "%q is not a role: use worker, parent, child, other or unknown", r)
	}
	return nil
}

func checkName(name string) error {
	if n := strings.TrimSpace(name); n == "" || len(n) > MaxSpeakerName {
		return Errorf(EINVALID, "a speaker's name must be 1 to %d characters", MaxSpeakerName)
	}
	return nil
}

// turn is the position in t of the correction's turn, or -1 when it is not
// there or starts elsewhere.
func (c Correction) turn(t *Transcript) int {
	for i, s := range t.Segments {
		if s.Index == c.Turn {
			if math.Abs(s.Start-c.TurnStart) > 0.0005 {
				return -1
			}
			return i
		}
	}
	return -1
}

// whole says whether c gives all of seg's words: Word is at or before
// its first word.
func (c Correction) whole(seg Segment) bool {
	return strings.TrimSpace(seg.Text[:c.Word]) == ""
}

// A spanMap says where a span of a turn's text (start and end in bytes) is
// after a correction, or false when the correction took it away.
type spanMap func(turn, start, end int) (int, int, int, bool)

func same(turn, start, end int) (int, int, int, bool) { return turn, start, end, true }

// apply makes c, already checked, to t, whose Segments and info the
// caller owns, and says where the words of t's turns went.
func (c Correction) apply(t *Transcript, info *SpeakerInfo) spanMap {
	switch c.Kind {
	case CorrectRole:
		for i := range t.Segments {
			if t.Segments[i].Speaker == c.Speaker {
				t.Segments[i].Role = c.Role
			}
		}
		info.Roles = setRole(info.Roles, SpeakerRole{Speaker: c.Speaker, Role: c.Role, Confidence: 1, Source: RoleFromCoach})
	case CorrectName:
		name := strings.TrimSpace(c.Name)
		role, joined := roleOf(t, name)
		for i := range t.Segments {
			if t.Segments[i].Speaker == c.Speaker {
				t.Segments[i].Speaker = name
				if joined {
					t.Segments[i].Role = role
				}
			}
		}
		var roles []SpeakerRole
		for _, r := range info.Roles {
			if r.Speaker == c.Speaker {
				if joined {
					continue // the speaker joined another, whose role stands
				}
				r.Speaker = name
			}
			roles = append(roles, r)
		}
		info.Roles = roles
	case CorrectMove:
		return c.move(t, info)
	case CorrectMerge:
		return c.merge(t)
	case CorrectText:
		i := c.turn(t)
		old, text := t.Segments[i].Text, strings.TrimSpace(c.Text)
		t.Segments[i].Text, t.Segments[i].Confidence = text, 1
		return func(turn, start, end int) (int, int, int, bool) {
			if turn != c.Turn || start == end {
				return turn, start, end, true
			}
			return follow(old, text, turn, start, end)
		}
	}
	return same
}

// roleOf is the role of the speaker called name, and whether anyone is.
func roleOf(t *Transcript, name string) (Role, bool) {
	for _, s := range t.Segments {
		if s.Speaker == name {
			return s.Role, true
		}
	}
	return RoleUnknown, false
}

// move gives turn c.Turn, or its words from c.Word on, to c.Name. The
// words given become a turn of their own, which starts as far into the
// turn's time as they are into its text (segments hold no word times).
func (c Correction) move(t *Transcript, info *SpeakerInfo) spanMap {
	name := strings.TrimSpace(c.Name)
	role, known := roleOf(t, name)
	if !known {
		role = RoleUnknown
		if c.Role != "" {
			role = c.Role
		}
		info.Roles = setRole(info.Roles, SpeakerRole{Speaker: name, Role: role, Confidence: 1, Source: RoleFromCoach})
	}
	i := c.turn(t)
	seg := &t.Segments[i]
	if c.whole(*seg) {
		seg.Speaker, seg.Role = name, role
		return same
	}
	from := c.Word
	for from < len(seg.Text) && seg.Text[from] == ' ' {
		from++
	}
	before := strings.TrimRight(seg.Text[:c.Word], " ")
	cut := seg.Start + (seg.End-seg.Start)*float64(c.Word)/float64(len(seg.Text))
	cut = math.Round(cut*1000) / 1000
	part := Segment{Start: cut, End: seg.End, Speaker: name, Role: role, Text: seg.Text[from:], Confidence: seg.Confidence}
	seg.Text, seg.End = before, cut
	t.Segments = slices.Insert(t.Segments, i+1, part)
	number(t)
	x := c.Turn
	return func(turn, start, end int) (int, int, int, bool) {
		switch {
		case turn < x:
			return turn, start, end, true
		case turn > x:
			return turn + 1, start, end, true
		case end <= len(before):
			return turn, start, end, true
		case start >= from:
			return turn + 1, start - from, end - from, true
		}
		return 0, 0, 0, false // across the cut
	}
}

// merge joins turn c.Turn and the one after it.
func (c Correction) merge(t *Transcript) spanMap {
	i := c.turn(t)
	a, b := &t.Segments[i], t.Segments[i+1]
	off := len(a.Text) + 1
	da, db := a.End-a.Start, b.End-b.Start
	if da+db > 0 {
		a.Confidence = (a.Confidence*da + b.Confidence*db) / (da + db)
	} else {
		a.Confidence = min(a.Confidence, b.Confidence)
	}
	a.Text = a.Text + " " + b.Text
	a.End = max(a.End, b.End)
	t.Segments = slices.Delete(t.Segments, i+1, i+2)
	number(t)
	x := c.Turn
	return func(turn, start, end int) (int, int, int, bool) {
		switch {
		case turn <= x:
			return turn, start, end, true
		case turn == x+1:
			return x, start + off, end + off, true
		}
		return turn - 1, start, end, true
	}
}

// number numbers t's turns from 0 in their order.
func number(t *Transcript) {
	for i := range t.Segments {
		t.Segments[i].Index = i
	}
}

// follow finds the words old[start:end] in text, as near their old place
// as they are found.
func follow(old, text string, turn, start, end int) (int, int, int, bool) {
	if start < 0 || end > len(old) || start > end {
		return 0, 0, 0, false
	}
	words := old[start:end]
	best := -1
	for from := 0; from <= len(text); {
		j := strings.Index(text[from:], words)
		if j < 0 {
			break
		}
		at := from + j
		if best < 0 || abs(at-start) < abs(best-start) {
			best = at
		}
		from = at + 1
	}
	if best < 0 {
		return 0, 0, 0, false
	}
	return turn, best, best + len(words), true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Correct returns t with the review's corrections made, in order, to a
// copy (t is not changed), or t itself when there are none. A correction
// that no longer fits (its speaker or turn is gone after a new
// transcription) is passed over. The roles the coaches set are recorded in
// the copy's SpeakerInfo, with RoleFromCoach.
func (d *ReviewDoc) Correct(t *Transcript) *Transcript {
	if d == nil || len(d.Corrections) == 0 || t == nil {
		return t
	}
	c, info := clone(t)
	for _, k := range d.Corrections {
		if k.Check(c) == nil {
			k.apply(c, &info)
		}
	}
	speaks := map[string]bool{}
	for _, s := range c.Segments {
		if s.Speaker != "" {
			speaks[s.Speaker] = true
		}
	}
	roles := info.Roles[:0]
	for _, r := range info.Roles {
		if speaks[r.Speaker] {
			roles = append(roles, r)
		}
	}
	info.Roles, info.Count = roles, len(speaks)
	c.Speakers = &info
	return c
}

// clone is a copy of t whose segments and speaker roles can be changed.
func clone(t *Transcript) (*Transcript, SpeakerInfo) {
	c := *t
	c.Segments = append([]Segment(nil), t.Segments...)
	info := SpeakerInfo{Source: SpeakersNone}
	if t.Speakers != nil {
		info = *t.Speakers
	}
	info.Roles = append([]SpeakerRole(nil), info.Roles...)
	return &c, info
}

// AddCorrection checks c against the machine's transcript as the
// corrections so far leave it, and adds it to the review. The review's
// decisions, coaches' tags and notes on the turns c changes follow their
// words: to the turn they went to, or gone with them (a tag across the
// place a turn was cut, or on words edited away).
func (d *ReviewDoc) AddCorrection(machine *Transcript, c Correction) error {
	if machine == nil {
		return Errorf(EINVALID, "this session has no transcript yet")
	}
	c.Name = strings.TrimSpace(c.Name)
	now, info := clone(d.Correct(machine))
	if c.ofTurn() {
		for _, s := range now.Segments {
			if s.Index == c.Turn {
				c.TurnStart = s.Start
			}
		}
	}
	if err := c.Check(now); err != nil {
		return err
	}
	moved := c.apply(now, &info)
	d.Corrections = append(d.Corrections, c)
	decisions := d.Decisions[:0]
	for _, dec := range d.Decisions {
		seg, start, end, code, ok := parseTagKey(dec.Key)
		if ok {
			if seg, start, end, ok = moved(seg, start, end); !ok {
				continue
			}
			dec.Key = TagKey(seg, start, end, code)
		}
		decisions = append(decisions, dec)
	}
	d.Decisions = decisions
	added := d.Added[:0]
	for _, t := range d.Added {
		var ok bool
		if t.Segment, t.Start, t.End, ok = moved(t.Segment, t.Start, t.End); ok {
			added = append(added, t)
		}
	}
	d.Added = added
	for i, n := range d.Notes {
		if n.Segment >= 0 {
			d.Notes[i].Segment, _, _, _ = moved(n.Segment, 0, 0)
		}
	}
	return nil
}

// parseTagKey reads a TagKey.
func parseTagKey(key string) (seg, start, end int, code string, ok bool) {
	f := strings.SplitN(key, ":", 5)
	if len(f) != 5 || f[0] != "m" {
		return 0, 0, 0, "", false
	}
	var err [3]error
	seg, err[0] = strconv.Atoi(f[1])
	start, err[1] = strconv.Atoi(f[2])
	end, err[2] = strconv.Atoi(f[3])
	return seg, start, end, f[4], err[0] == nil && err[1] == nil && err[2] == nil
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
