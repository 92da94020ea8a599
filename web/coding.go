package web

import (
	"context"
	"strings"

	"github.com/harkworks/hark"
)

// codingIndex is an index that keeps double coding (hark.DoubleCoding):
// the sessions marked for it and each coder's own review.
type codingIndex interface {
	DoubleCoding(ctx context.Context, id string) (*hark.DoubleCoding, error)
	CoderSession(ctx context.Context, id, coder string) (*hark.Session, error)
	PutCoderReview(ctx context.Context, r *hark.ReviewDoc, prev int) error
}

// blindCoding returns the double coding of session id while its coders'
// reviews are still hidden from each other, or nil.
func (s *Server) blindCoding(ctx context.Context, id string) (*hark.DoubleCoding, error) {
	ci, ok := s.cfg.Index.(codingIndex)
	if !ok {
		return nil, nil
	}
	dc, err := ci.DoubleCoding(ctx, id)
	if hark.ErrorCode(err) == hark.ENOTFOUND {
		return nil, nil
	}
	if err != nil || !dc.Blind() {
		return nil, err
	}
	return dc, nil
}

// ownView is the session as u sees it: for one of the coders of a session
// double-coded blind, their own review of it (the machine's tags with
// their decisions, their tags and notes) on every page, API and export;
// for anyone else, sess as it is.
func (s *Server) ownView(ctx context.Context, sess *hark.Session, u *hark.User) (*hark.Session, error) {
	dc, err := s.blindCoding(ctx, sess.Recording.ID)
	if err != nil || !dc.Codes(u.Name) {
		return sess, err
	}
	return s.cfg.Index.(codingIndex).CoderSession(ctx, sess.Recording.ID, u.Name)
}

// changeCoderReview makes a coder's change to their own review of a
// session double-coded blind; the session's review and tags stay as they
// are.
func (s *Server) changeCoderReview(ctx context.Context, u *hark.User, sess *hark.Session, req ReviewRequest) (ReviewResponse, error) {
	if hark.IsCorrection(req.Action) {
		return ReviewResponse{}, hark.Errorf(hark.EINVALID, "who speaks and what was said are corrected on the session's own review, once the double coding is settled: note it for now")
	}
	ci := s.cfg.Index.(codingIndex)
	own, err := ci.CoderSession(ctx, sess.Recording.ID, u.Name)
	if err != nil {
		return ReviewResponse{}, err
	}
	doc := own.Review
	if doc.Version != req.Version {
		return ReviewResponse{}, hark.Errorf(hark.ECONFLICT, "your review of this session changed in another window (now version %d, this page shows %d): reload the page and redo your change", doc.Version, req.Version)
	}
	if err := s.apply(own, doc, &req, u); err != nil {
		return ReviewResponse{}, err
	}
	doc.Coder, doc.UpdatedBy, doc.UpdatedAt = u.Name, u.Name, s.cfg.Now()
	if doc.State == hark.ReviewNone {
		doc.State = hark.ReviewInProgress
	}
	if err := ci.PutCoderReview(ctx, doc, req.Version); err != nil {
		return ReviewResponse{}, err
	}
	s.audit(ctx, u, "review", sess.Recording.ID, "independent coding: "+auditDetail(&req))
	resp := ReviewResponse{Version: doc.Version, Review: doc}
	if err := s.storeCoderReview(ctx, doc); err != nil {
		s.log.Warn("coder's review not yet in the object store", "recording", doc.RecordingID, "err", err)
		resp.Warning = "saved, but not yet copied next to the recording in the object store"
	}
	resp.Tags = doc.Apply(machineOnly(own.Annotations))
	for _, t := range resp.Tags {
		resp.Progress.Total++
		if t.Review != hark.ReviewPending {
			resp.Progress.Reviewed++
		}
	}
	return resp, nil
}

// machineOnly returns the machine's tags of a, as the tagger made them.
func machineOnly(a *hark.Annotations) []hark.Tag {
	if a == nil {
		return nil
	}
	var out []hark.Tag
	for _, t := range a.Tags {
		if t.Source == hark.SourceCoach {
			continue
		}
		if t.OrigCode != "" {
			t.Code = t.OrigCode
		}
		out = append(out, t)
	}
	return out
}

// storeCoderReview writes a coder's review next to the recording.
func (s *Server) storeCoderReview(ctx context.Context, doc *hark.ReviewDoc) error {
	if s.cfg.Store == nil {
		return nil
	}
	return hark.PutJSON(ctx, s.cfg.Store, hark.CoderReviewKey(doc.RecordingID, doc.Coder), doc)
}

// storeDoubleCoding writes a session's double-coding mark next to the
// recording, as it now stands in the index.
func (s *Server) storeDoubleCoding(ctx context.Context, id string) error {
	if s.cfg.Store == nil {
		return nil
	}
	ci, ok := s.cfg.Index.(codingIndex)
	if !ok {
		return nil
	}
	dc, err := ci.DoubleCoding(ctx, id)
	if err != nil {
		return err
	}
	return hark.PutJSON(ctx, s.cfg.Store, hark.DoubleCodingKey(id), dc)
}

// codingNotice is what the session page says about a double coding in
// hand: to a coder, that they see only their own review; to anyone else,
// that the review waits for the coders.
func codingNotice(dc *hark.DoubleCoding, u *hark.User) string {
	if dc == nil {
		return ""
	}
	if dc.Codes(u.Name) {
		return "Independent coding: you see and change only your own review of this session; the other coders' stay hidden from you, and yours from them, until the double coding is settled."
	}
	return "This session is being double-coded by " + strings.Join(dc.Coders, ", ") + ": its review is made when their independent reviews are settled."
}
