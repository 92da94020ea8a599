package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
)

// ReconcileResult says what a reconcile pass found.
type ReconcileResult struct {
	Objects  int // recordings in the bucket
	Enqueued int // of which had no results and were sent to the transcribe stage
	Stale    int // recordings stuck in progress longer than StaleAfter, sent again
}

// Reconcile lists the bucket and enqueues every recording that has no
// results yet, so that a store that sends no events (AWS S3, Ceph,
// SeaweedFS), or a lost event, only delays work. A recording already queued
// is not queued twice: the upload message id lets JetStream drop the
// duplicate, and the stage itself is idempotent.
func (p *Pipeline) Reconcile(ctx context.Context) (ReconcileResult, error) {
	var res ReconcileResult
	known := map[string]bool{}
	err := p.cfg.Store.List(ctx, hark.ResultsPrefix, func(info hark.ObjectInfo) error {
		if id, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, hark.ResultsPrefix), "/recording.json"); ok {
			known[id] = true
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	bucket := p.cfg.Store.Bucket()
	err = p.cfg.Store.List(ctx, "", func(info hark.ObjectInfo) error {
		if p.IsCompanion(info.Key) || strings.HasSuffix(info.Key, "/") {
			return nil
		}
		res.Objects++
		id := hark.RecordingID(bucket, info.Key, info.ETag)
		if known[id] {
			return nil
		}
		if err := p.cfg.Publisher.Publish(ctx, hark.SubjectUploaded, ingest.UploadMsgID(bucket, info.Key, info.ETag),
			ingest.NewUploadEvent(bucket, info, p.cfg.Now())); err != nil {
			return err
		}
		res.Enqueued++
		return nil
	})
	if err != nil {
		return res, err
	}
	if p.cfg.Index != nil {
		if res.Stale, err = p.requeueStale(ctx); err != nil {
			return res, err
		}
	}
	if res.Enqueued+res.Stale > 0 {
		p.log.Info("reconciled", "objects", res.Objects, "enqueued", res.Enqueued, "stale", res.Stale)
	}
	return res, nil
}

// requeueStale sends again the recordings that have been in progress for
// longer than StaleAfter: their messages were lost (a NATS store lost, a
// message terminated by a bug), so nothing else would finish them.
func (p *Pipeline) requeueStale(ctx context.Context) (int, error) {
	n := 0
	cutoff := p.cfg.Now().Add(-p.cfg.StaleAfter)
	for _, st := range []hark.Status{hark.StatusUploaded, hark.StatusTranscribing, hark.StatusTranscribed, hark.StatusAnnotating} {
		list, err := p.cfg.Index.Recordings(ctx, hark.RecordingFilter{Status: st, Limit: 100_000})
		if err != nil {
			return n, err
		}
		for _, r := range list {
			if r.UpdatedAt.After(cutoff) {
				continue
			}
			rec := r.Recording
			var err error
			if st == hark.StatusUploaded || st == hark.StatusTranscribing {
				info := hark.ObjectInfo{Key: rec.Key, ETag: rec.ETag, Size: rec.Size}
				err = p.cfg.Publisher.Publish(ctx, hark.SubjectUploaded, fmt.Sprintf("stale:%s:%d:%d", rec.ID, rec.Attempts, rec.UpdatedAt.Unix()),
					ingest.NewUploadEvent(rec.Bucket, info, p.cfg.Now()))
			} else {
				data, _ := json.Marshal(TranscribedMessage{Schema: hark.SchemaVersion, RecordingID: rec.ID})
				err = p.cfg.Publisher.Publish(ctx, hark.SubjectTranscribed, fmt.Sprintf("stale:%s:%d:%d", rec.ID, rec.Attempts, rec.UpdatedAt.Unix()), data)
			}
			if err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// RunReconciler reconciles every interval until ctx is done.
func (p *Pipeline) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := p.Reconcile(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("reconcile", "err", err)
			}
		}
	}
}

// Retry sends a failed recording back to the transcribe stage. A transcript
// already stored is reused, so a recording that failed in annotation is not
// transcribed again.
func (p *Pipeline) Retry(ctx context.Context, id string) error {
	rec, err := p.state.load(ctx, id)
	if err != nil {
		return err
	}
	if rec.Status != hark.StatusFailed {
		return hark.Errorf(hark.ECONFLICT, "recording %s (%s) is %s, not failed: nothing to retry", id, rec.Key, rec.Status)
	}
	rec.Status, rec.Stage, rec.Reason = hark.StatusUploaded, "", ""
	rec.UpdatedAt = p.cfg.Now()
	if err := p.state.save(ctx, rec); err != nil {
		return err
	}
	info := hark.ObjectInfo{Key: rec.Key, ETag: rec.ETag, Size: rec.Size}
	return p.cfg.Publisher.Publish(ctx, hark.SubjectUploaded, fmt.Sprintf("retry:%s:%d", id, rec.Attempts), ingest.NewUploadEvent(rec.Bucket, info, p.cfg.Now()))
}

// Exhausted records a failure for the recording behind a message that used
// up all its deliveries without finishing, which happens when every worker
// that took it stopped or crashed on the way.
func (p *Pipeline) Exhausted(ctx context.Context, consumer string, data []byte, deliveries int) error {
	var ids []string
	stage := hark.StageTranscribe
	switch consumer {
	case ingest.ConsumerAnnotate:
		stage = hark.StageAnnotate
		var m TranscribedMessage
		if err := json.Unmarshal(data, &m); err != nil || !hark.ValidRecordingID(m.RecordingID) {
			return nil
		}
		ids = append(ids, m.RecordingID)
	default:
		events, err := ingest.DecodeEvent(data)
		if err != nil {
			return nil
		}
		for _, ev := range events {
			if p.IsCompanion(ev.Key) {
				continue
			}
			etag := ev.ETag
			if info, err := p.cfg.Store.Stat(ctx, ev.Key); err == nil {
				etag = info.ETag
			}
			ids = append(ids, hark.RecordingID(ev.Bucket, ev.Key, etag))
		}
	}
	for _, id := range ids {
		rec, err := p.state.load(ctx, id)
		if hark.ErrorCode(err) == hark.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		if rec.Done() {
			continue
		}
		if err := p.fail(ctx, rec, stage, hark.EUNAVAILABLE, fmt.Sprintf(
			"gave up after %d deliveries: every attempt stopped before finishing (a worker crashed, was stopped, or ran past its ack wait, or the object store or the index stayed down for longer than --hold-for); run `hark retry %s`", deliveries, id)); err != nil {
			return err
		}
	}
	return nil
}
