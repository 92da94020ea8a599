package pipeline

import (
	"context"
	"strings"

	"github.com/harkworks/hark"
)

// Reindex rebuilds the index from the object store: every recording with
// its transcript and tags as stored next to it. It returns how many
// recordings it indexed.
func (p *Pipeline) Reindex(ctx context.Context) (int, error) {
	n := 0
	err := p.cfg.Store.List(ctx, hark.ResultsPrefix, func(info hark.ObjectInfo) error {
		// results/<id>/recording.json, not a document further down that
		// happens to be called so (a coder's review, by a coder named
		// "recording").
		if id, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, hark.ResultsPrefix), "/recording.json"); !ok || strings.Contains(id, "/") {
			return nil
		}
		var rec hark.Recording
		if err := p.state.getJSON(ctx, info.Key, &rec); err != nil {
			return err
		}
		if err := p.cfg.Index.PutRecording(ctx, &rec); err != nil && hark.ErrorCode(err) != hark.ECONFLICT {
			return err
		}
		var t hark.Transcript
		switch err := p.state.getJSON(ctx, hark.TranscriptKey(rec.ID), &t); {
		case err == nil:
			// As the coaches corrected it, as the annotate stage indexes it.
			corrected, err := p.corrected(ctx, &rec, &t)
			if err != nil {
				return err
			}
			if err := p.cfg.Index.PutTranscript(ctx, corrected); err != nil {
				return err
			}
		case hark.ErrorCode(err) != hark.ENOTFOUND:
			return err
		}
		var a hark.Annotations
		switch err := p.state.getJSON(ctx, hark.AnnotationsKey(rec.ID), &a); {
		case err == nil:
			a.Lease = 0 // the stored copy is the record: no fencing
			if err := p.cfg.Index.PutAnnotations(ctx, &a); err != nil {
				return err
			}
		case hark.ErrorCode(err) != hark.ENOTFOUND:
			return err
		}
		var r hark.ReviewDoc
		switch err := p.state.getJSON(ctx, hark.ReviewKey(rec.ID), &r); {
		case err == nil:
			cur, err := p.cfg.Index.Review(ctx, rec.ID)
			if err != nil {
				return err
			}
			// Into an index without it, the review keeps its version, so
			// that pages open before the index was lost still match.
			prev := cur.Version
			if prev == 0 && r.Version > 0 {
				prev = r.Version - 1
			}
			if err := p.cfg.Index.PutReview(ctx, &r, prev); err != nil {
				return err
			}
		case hark.ErrorCode(err) != hark.ENOTFOUND:
			return err
		}
		if err := p.reindexCoding(ctx, rec.ID); err != nil {
			// The session itself is indexed; what could not be put back
			// of its double coding is said, and the rest goes on.
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Warn("double coding not restored: fix or remove the documents named and reindex again", "recording", rec.ID, "err", err)
		}
		n++
		return nil
	})
	return n, err
}

// codingIndex is an index that keeps double coding.
type codingIndex interface {
	RestoreDoubleCoding(ctx context.Context, dc *hark.DoubleCoding, reviews []*hark.ReviewDoc) ([]string, error)
}

// reindexCoding puts back a session's double-coding mark, if it has one,
// and its coders' independent reviews.
func (p *Pipeline) reindexCoding(ctx context.Context, id string) error {
	ci, ok := p.cfg.Index.(codingIndex)
	if !ok {
		return nil
	}
	var dc hark.DoubleCoding
	switch err := p.state.getJSON(ctx, hark.DoubleCodingKey(id), &dc); {
	case hark.ErrorCode(err) == hark.ENOTFOUND:
		return nil
	case err != nil:
		return err
	}
	var reviews []*hark.ReviewDoc
	err := p.cfg.Store.List(ctx, hark.CoderReviewsPrefix(id), func(info hark.ObjectInfo) error {
		var r hark.ReviewDoc
		if err := p.state.getJSON(ctx, info.Key, &r); err != nil {
			return err
		}
		reviews = append(reviews, &r)
		return nil
	})
	if err != nil {
		return err
	}
	skipped, err := ci.RestoreDoubleCoding(ctx, &dc, reviews)
	if len(skipped) > 0 {
		p.log.Warn("stored reviews by people who are not coders of the session left out", "recording", id, "coders", skipped)
	}
	return err
}
