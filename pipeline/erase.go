package pipeline

import (
	"bytes"
	"context"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
)

// forgetter is an index that erases recordings (index.DB).
type forgetter interface {
	Forget(ctx context.Context, ids []string, at time.Time) (int, error)
}

// streamEraser is a queue that erases messages (ingest.Queue).
type streamEraser interface {
	Erase(ctx context.Context, match func(data []byte) bool) (int, error)
}

// ErasedCounts says what Forget removed.
type ErasedCounts struct {
	Recordings int // in the index
	Objects    int // in the object store: audio, transcripts uploaded with it, results
	Messages   int // in the queue: upload events and transcripts-ready messages
}

// Forget erases recordings everywhere hark keeps them. The index goes
// first: from then on it refuses their results, so a worker busy with one
// drops its work and removes what it wrote. Then the object store: the
// audio, a transcript uploaded next to it, every result (transcripts,
// every annotations version, the review with its notes and corrections),
// each with all its versions. Then the queue: their upload events and
// transcripts-ready messages, overwritten on disk. Work files need no
// erasing: a worker removes its decoded audio when it stops with a
// recording, and sweeps what a killed worker left when it starts.
func (p *Pipeline) Forget(ctx context.Context, recs []*hark.Recording) (ErasedCounts, error) {
	var out ErasedCounts
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	f, ok := p.cfg.Index.(forgetter)
	if !ok {
		return out, hark.Errorf(hark.EINTERNAL, "this index cannot erase recordings")
	}
	n, err := f.Forget(ctx, ids, p.cfg.Now())
	if err != nil {
		return out, err
	}
	out.Recordings = n
	for _, r := range recs {
		keys := []string{r.Key}
		if r.Sidecar != "" {
			keys = append(keys, r.Sidecar)
		}
		base := strings.TrimSuffix(r.Key, path.Ext(r.Key))
		for _, ext := range p.cfg.SidecarExtensions {
			if k := base + ext; k != r.Key && k != r.Sidecar {
				if _, err := p.cfg.Store.Stat(ctx, k); err == nil {
					keys = append(keys, k)
				}
			}
		}
		for _, k := range keys {
			if err := p.cfg.Store.Remove(ctx, k); err != nil {
				return out, err
			}
			out.Objects++
		}
		n, err := hark.RemoveAll(ctx, p.cfg.Store, hark.ResultsPrefix+r.ID+"/")
		if err != nil {
			return out, err
		}
		out.Objects += n
	}
	if q, ok := p.cfg.Publisher.(streamEraser); ok {
		n, err := q.Erase(ctx, func(data []byte) bool { return aboutAny(data, recs, p.cfg.SidecarExtensions) })
		if err != nil {
			return out, err
		}
		out.Messages = n
	}
	return out, nil
}

// aboutAny says whether a queue message is about one of the recordings:
// an upload event for its audio or transcript, or a message naming its id.
func aboutAny(data []byte, recs []*hark.Recording, sidecars []string) bool {
	for _, r := range recs {
		if bytes.Contains(data, []byte(r.ID)) {
			return true
		}
	}
	events, err := ingest.DecodeEvent(data)
	if err != nil {
		return false
	}
	for _, ev := range events {
		for _, r := range recs {
			base := strings.TrimSuffix(r.Key, path.Ext(r.Key))
			for _, k := range []string{ev.Key, ev.AltKey} {
				if k != "" && (k == r.Key || k == r.Sidecar || slices.Contains(sidecars, path.Ext(k)) && strings.TrimSuffix(k, path.Ext(k)) == base) {
					return true
				}
			}
		}
	}
	return false
}
