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
		if !strings.HasSuffix(info.Key, "/recording.json") {
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
		n++
		return nil
	})
	return n, err
}
