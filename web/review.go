package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
)

// ReviewRequest is one change a coach makes to a session's review. Version
// is the review version the coach's page shows: a change made on an older
// version is refused (ECONFLICT), never silently merged.
type ReviewRequest struct {
	Version int `json:"version"`
	// Action is one of: accept, reject, reset (back to pending), recode,
	// add (a tag on a selection), remove (a coach's tag), moment (choose a
	// tag or note for the reflection sheet), note, delete-note, state,
	// and the corrections of who speaks and what was said: speaker-role
	// (Speaker's role is Role), speaker-name (Speaker is called Text;
	// another speaker's name makes them one), turn-speaker (turn Segment,
	// or its words from byte Start on, go to the speaker Speaker, an
	// existing one or a new one with Role), turn-merge (turn Segment and
	// the next become one) and turn-text (turn Segment says Text); and
	// suggestion: the answer to the suggested moment Key (one of the
	// session's annotations' moments) is State, "accepted" (onto the
	// reflection sheet), "dismissed", or "" to take the answer back
	// (State is the review's state for the action state, a
	// hark.SuggestionState for suggestion).
	Action  string           `json:"action"`
	Speaker string           `json:"speaker,omitempty"`
	Role    hark.Role        `json:"role,omitempty"`
	Key     string           `json:"key,omitempty"`
	Code    string           `json:"code,omitempty"`
	Segment int              `json:"segment"`
	Start   int              `json:"start"`
	End     int              `json:"end"`
	Text    string           `json:"text,omitempty"`
	NoteID  string           `json:"note_id,omitempty"`
	Moment  bool             `json:"moment"`
	State   hark.ReviewState `json:"state,omitempty"`
}

// ReviewResponse is the session's review after a change.
type ReviewResponse struct {
	Version  int             `json:"version"`
	Tags     []hark.Tag      `json:"tags"`
	Review   *hark.ReviewDoc `json:"review"`
	Progress progress        `json:"progress"`
	// Retagging says a correction of who speaks sent the session to be
	// tagged again: the tags follow in a moment.
	Retagging bool `json:"retagging,omitempty"`
	// Warning is set when the change is saved in the index but could not yet
	// be written next to the recording in the object store.
	Warning string `json:"warning,omitempty"`
}

func (s *Server) handleReview(w http.ResponseWriter, r *http.Request, u *hark.User) {
	var req ReviewRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		// The session first: a change to one the user cannot see is "not
		// found", whatever its body.
		if _, err := s.visibleSession(r, u); err != nil {
			s.apiError(w, r, err)
			return
		}
		s.apiError(w, r, hark.Errorf(hark.EINVALID, "the change is not valid JSON (or is larger than 64 KiB)"))
		return
	}
	resp, err := s.Change(r.Context(), u, r.PathValue("id"), req)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// Change makes one change to the review of recording id as u, as the
// review page and the JSON API do (hark correct calls it too): checked
// against the session and its version, saved in the index and next to the
// recording, audited, and, for a correction of who speaks or what was
// said, the corrected transcript shown at once and the session sent to be
// tagged again.
func (s *Server) Change(ctx context.Context, u *hark.User, id string, req ReviewRequest) (ReviewResponse, error) {
	sess, err := s.sessionFor(ctx, id, u)
	if err != nil {
		return ReviewResponse{}, err
	}
	if !u.CanReview(sess.Recording.Team) {
		return ReviewResponse{}, hark.Errorf(hark.EINVALID, "your role (%s) cannot change reviews", u.Role)
	}
	dc, err := s.blindCoding(ctx, sess.Recording.ID)
	if err != nil {
		return ReviewResponse{}, err
	}
	if dc.Codes(u.Name) {
		return s.changeCoderReview(ctx, u, sess, req)
	}
	if dc != nil {
		return ReviewResponse{}, hark.Errorf(hark.EINVALID, "this session is being double-coded by %s: its review is made when their independent reviews are settled", strings.Join(dc.Coders, ", "))
	}
	doc := sess.Review
	if doc.Version != req.Version {
		return ReviewResponse{}, hark.Errorf(hark.ECONFLICT, "someone else changed this session's review (now version %d, your page shows %d): reload the page and redo your change", doc.Version, req.Version)
	}
	base := sess.Transcript // the machine's, when the store has it
	if hark.IsCorrection(req.Action) {
		if base, err = s.machineTranscript(ctx, sess); err != nil {
			return ReviewResponse{}, err
		}
		if err := s.correct(base, doc, &req, u); err != nil {
			return ReviewResponse{}, err
		}
	} else if err := s.apply(sess, doc, &req, u); err != nil {
		return ReviewResponse{}, err
	}
	doc.UpdatedBy, doc.UpdatedAt = u.Name, s.cfg.Now()
	if doc.State == hark.ReviewNone {
		doc.State = hark.ReviewInProgress
	}
	if err := s.cfg.Index.PutReview(ctx, doc, req.Version); err != nil {
		if hark.ErrorCode(err) == hark.ECONFLICT {
			err = hark.Errorf(hark.ECONFLICT, "someone else changed this session's review a moment ago: reload the page and redo your change")
		}
		return ReviewResponse{}, err
	}
	s.audit(ctx, u, "review", sess.Recording.ID, auditDetail(&req))
	resp := ReviewResponse{Version: doc.Version, Review: doc}
	if err := s.storeReview(ctx, doc); err != nil {
		s.log.Warn("review not yet in the object store", "recording", doc.RecordingID, "err", err)
		resp.Warning = "saved, but not yet copied next to the recording in the object store; an admin can run `hark reindex` later"
	}
	if hark.IsCorrection(req.Action) {
		resp.Retagging, resp.Warning = s.afterCorrection(ctx, base, doc, resp.Warning)
	}
	if updated, err := s.cfg.Index.Session(ctx, sess.Recording.ID); err == nil && updated.Annotations != nil {
		resp.Tags = updated.Annotations.Tags
		for _, t := range resp.Tags {
			resp.Progress.Total++
			if t.Review != hark.ReviewPending {
				resp.Progress.Reviewed++
			}
		}
	}
	return resp, nil
}

// apply makes the requested change to doc, checking it against the session.
func (s *Server) apply(sess *hark.Session, doc *hark.ReviewDoc, req *ReviewRequest, u *hark.User) error {
	now := s.cfg.Now()
	machine := map[string]hark.Tag{}
	if sess.Annotations != nil {
		for _, t := range sess.Annotations.Tags {
			if t.Source != hark.SourceCoach {
				machine[t.Key] = t
			}
		}
	}
	added := -1
	for i, t := range doc.Added {
		if t.Key == req.Key {
			added = i
		}
	}
	decide := func(set func(d *hark.Decision)) error {
		if added >= 0 {
			t := &doc.Added[added]
			d := hark.Decision{Review: t.Review, Code: t.Code, Moment: t.Moment}
			set(&d)
			if d.Code != "" {
				t.Code = d.Code
			}
			t.Review, t.Moment, t.ReviewedBy, t.ReviewedAt = d.Review, d.Moment, u.Name, &now
			return nil
		}
		if _, ok := machine[req.Key]; !ok {
			return hark.Errorf(hark.ENOTFOUND, "there is no tag %q in this session (it may have been re-tagged): reload the page", req.Key)
		}
		d := doc.Decision(req.Key)
		if d == nil {
			doc.Decisions = append(doc.Decisions, hark.Decision{Key: req.Key, Review: hark.ReviewPending})
			d = &doc.Decisions[len(doc.Decisions)-1]
		}
		set(d)
		d.By, d.At = u.Name, now
		if d.Review == hark.ReviewPending && d.Code == "" && !d.Moment {
			doc.Decisions = removeDecision(doc.Decisions, req.Key)
		}
		return nil
	}
	switch req.Action {
	case "accept":
		return decide(func(d *hark.Decision) { d.Review = hark.ReviewAccepted })
	case "reject":
		return decide(func(d *hark.Decision) { d.Review, d.Moment = hark.ReviewRejected, false })
	case "reset":
		if added >= 0 {
			return hark.Errorf(hark.EINVALID, "a tag a coach added is accepted or removed, not reset")
		}
		return decide(func(d *hark.Decision) { d.Review, d.Code, d.Moment = hark.ReviewPending, "", false })
	case "recode":
		if err := s.checkCode(req.Code); err != nil {
			return err
		}
		return decide(func(d *hark.Decision) {
			d.Code, d.Review = req.Code, hark.ReviewAccepted
			if t, ok := machine[req.Key]; ok && (t.OrigCode == req.Code || t.OrigCode == "" && t.Code == req.Code) {
				d.Code = "" // back to the machine's own code
			}
		})
	case "moment":
		return decide(func(d *hark.Decision) {
			d.Moment = req.Moment
			if req.Moment && d.Review == hark.ReviewPending {
				d.Review = hark.ReviewAccepted
			}
		})
	case "add":
		return s.addTag(sess, doc, req, u)
	case "remove":
		if added < 0 {
			return hark.Errorf(hark.EINVALID, "only tags a coach added can be removed; reject a machine tag instead")
		}
		doc.Added = append(doc.Added[:added], doc.Added[added+1:]...)
		return nil
	case "note":
		return s.note(sess, doc, req, u)
	case "delete-note":
		for i, n := range doc.Notes {
			if n.ID == req.NoteID {
				doc.Notes = append(doc.Notes[:i], doc.Notes[i+1:]...)
				return nil
			}
		}
		return hark.Errorf(hark.ENOTFOUND, "there is no note %q: reload the page", req.NoteID)
	case "suggestion":
		return s.answerSuggestion(sess, doc, req, u)
	case "state":
		switch req.State {
		case hark.ReviewInProgress, hark.ReviewComplete:
			doc.State = req.State
			return nil
		}
		return hark.Errorf(hark.EINVALID, "review state %q: use in_progress or complete", req.State)
	}
	return hark.Errorf(hark.EINVALID, "unknown review action %q", req.Action)
}

// correct adds a coach's correction of who speaks or of what was said to
// doc, checked against the transcript as the corrections so far leave it.
func (s *Server) correct(base *hark.Transcript, doc *hark.ReviewDoc, req *ReviewRequest, u *hark.User) error {
	c := hark.Correction{Kind: req.Action, By: u.Name, At: s.cfg.Now()}
	switch req.Action {
	case hark.CorrectRole:
		c.Speaker, c.Role = req.Speaker, req.Role
	case hark.CorrectName:
		c.Speaker, c.Name = req.Speaker, req.Text
	case hark.CorrectMove:
		c.Turn, c.Word, c.Name, c.Role = req.Segment, req.Start, req.Speaker, req.Role
	case hark.CorrectMerge:
		c.Turn = req.Segment
	case hark.CorrectText:
		c.Turn, c.Text = req.Segment, req.Text
	}
	return doc.AddCorrection(base, c)
}

// auditDetail says what a review change was about, never its words: the
// audit log is read by admins, and a turn's text or a note is the
// family's.
func auditDetail(req *ReviewRequest) string {
	switch req.Action {
	case hark.CorrectMove, hark.CorrectMerge, hark.CorrectText:
		return req.Action + " turn " + itoa(req.Segment)
	case "suggestion":
		answer := string(req.State)
		if answer == "" {
			answer = "answer taken back"
		}
		return "suggestion " + req.Key + " " + answer
	}
	return strings.TrimSpace(req.Action + " " + req.Key + req.NoteID + req.Speaker)
}

// machineTranscript is the session's transcript as the machine made it:
// the copy in the object store (the index holds it as corrected), or the
// index's when there is no store.
func (s *Server) machineTranscript(ctx context.Context, sess *hark.Session) (*hark.Transcript, error) {
	if s.cfg.Store == nil {
		return sess.Transcript, nil
	}
	rd, _, err := s.cfg.Store.Get(ctx, hark.TranscriptKey(sess.Recording.ID))
	if hark.ErrorCode(err) == hark.ENOTFOUND {
		return sess.Transcript, nil
	}
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var t hark.Transcript
	if err := json.NewDecoder(rd).Decode(&t); err != nil {
		return nil, hark.WrapError(hark.EINTERNAL, err, "read the transcript of %s", sess.Recording.ID)
	}
	return &t, nil
}

// afterCorrection shows the corrected transcript at once and sends the
// session to be tagged again (worker codes go with the worker's turns),
// and says whether it did and what went wrong.
func (s *Server) afterCorrection(ctx context.Context, base *hark.Transcript, doc *hark.ReviewDoc, warning string) (bool, string) {
	corrected := *doc.Correct(base)
	corrected.Lease = 0
	if err := s.cfg.Index.PutTranscript(ctx, &corrected); err != nil {
		s.log.Warn("corrected transcript not yet in the index", "recording", doc.RecordingID, "err", err)
		return false, "saved, but the page may show the old speakers until the session is tagged again"
	}
	if s.cfg.Retag == nil {
		return false, strings.TrimSpace(warning + " The tags follow the correction when the session is next tagged (`hark reannotate`).")
	}
	if err := s.cfg.Retag(ctx, doc.RecordingID); err != nil {
		s.log.Warn("could not send the session to be tagged again", "recording", doc.RecordingID, "err", err)
		return false, strings.TrimSpace(warning + " Saved, but the session could not be sent to be tagged again: an admin can run `hark reannotate`.")
	}
	return true, warning
}

func removeDecision(ds []hark.Decision, key string) []hark.Decision {
	out := ds[:0]
	for _, d := range ds {
		if d.Key != key {
			out = append(out, d)
		}
	}
	return out
}

func (s *Server) checkCode(code string) error {
	if _, ok := s.codes[code]; !ok {
		return hark.Errorf(hark.EINVALID, "unknown code %q: choose one of the codebook's codes", code)
	}
	return nil
}

// addTag adds a coach's tag on a selection of one turn's text.
func (s *Server) addTag(sess *hark.Session, doc *hark.ReviewDoc, req *ReviewRequest, u *hark.User) error {
	if err := s.checkCode(req.Code); err != nil {
		return err
	}
	seg, err := segment(sess, req.Segment)
	if err != nil {
		return err
	}
	text := seg.Text
	if req.Start < 0 || req.End > len(text) || req.Start >= req.End {
		return hark.Errorf(hark.EINVALID, "select some words of the turn first (the selection %d–%d is empty or outside the turn)", req.Start, req.End)
	}
	if !utf8.RuneStart(text[req.Start]) || (req.End < len(text) && !utf8.RuneStart(text[req.End])) {
		return hark.Errorf(hark.EINVALID, "the selection %d–%d cuts a character in half", req.Start, req.End)
	}
	evidence := text[req.Start:req.End]
	if strings.TrimSpace(evidence) == "" {
		return hark.Errorf(hark.EINVALID, "the selection is only spaces: select some words")
	}
	now := s.cfg.Now()
	n := 1
	for _, t := range doc.Added {
		if k, err := strconv.Atoi(strings.TrimPrefix(t.Key, "c:")); err == nil && k >= n {
			n = k + 1
		}
	}
	doc.Added = append(doc.Added, hark.Tag{Key: "c:" + itoa(n), Segment: seg.Index, Code: req.Code, Start: req.Start, End: req.End,
		Evidence: evidence, Confidence: 1, Source: hark.SourceCoach, Review: hark.ReviewAccepted, ReviewedBy: u.Name, ReviewedAt: &now,
		Moment: req.Moment})
	return nil
}

// note adds or edits a note on a turn (segment ≥ 0) or on the session (-1).
func (s *Server) note(sess *hark.Session, doc *hark.ReviewDoc, req *ReviewRequest, u *hark.User) error {
	text := strings.TrimSpace(req.Text)
	if text == "" {
		return hark.Errorf(hark.EINVALID, "the note is empty")
	}
	if len(text) > hark.MaxNoteBytes {
		return hark.Errorf(hark.EINVALID, "the note is too long (%d bytes; at most %d): shorten it or split it", len(text), hark.MaxNoteBytes)
	}
	if !utf8.ValidString(text) {
		return hark.Errorf(hark.EINVALID, "the note is not valid text")
	}
	if req.Segment >= 0 {
		if _, err := segment(sess, req.Segment); err != nil {
			return err
		}
	} else {
		req.Segment = -1
	}
	now := s.cfg.Now()
	if req.NoteID != "" {
		for i := range doc.Notes {
			if doc.Notes[i].ID == req.NoteID {
				doc.Notes[i].Text, doc.Notes[i].Moment, doc.Notes[i].By, doc.Notes[i].At = text, req.Moment, u.Name, now
				return nil
			}
		}
		return hark.Errorf(hark.ENOTFOUND, "there is no note %q: reload the page", req.NoteID)
	}
	doc.Notes = append(doc.Notes, hark.Note{ID: auth.NewID("n"), Segment: req.Segment, Text: text, Moment: req.Moment, By: u.Name, At: now})
	return nil
}

func segment(sess *hark.Session, i int) (hark.Segment, error) {
	if sess.Transcript != nil {
		for _, sg := range sess.Transcript.Segments {
			if sg.Index == i {
				return sg, nil
			}
		}
	}
	return hark.Segment{}, hark.Errorf(hark.EINVALID, "there is no turn %d in this session", i)
}

// storeReview writes the review next to the recording in the object store,
// so that `hark reindex` rebuilds reviews too.
func (s *Server) storeReview(ctx context.Context, doc *hark.ReviewDoc) error {
	if s.cfg.Store == nil {
		return nil
	}
	return hark.PutJSON(ctx, s.cfg.Store, hark.ReviewKey(doc.RecordingID), doc)
}
