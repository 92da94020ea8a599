// Package pipeline holds the work of hark's two stages — transcribe and
// annotate — as handlers of queue deliveries, and the rebuilding of the
// index from the object store. It meets the object store, the queue, the
// engine, the tagger and the index only through the domain's interfaces, so
// the same code runs embedded (`hark up`) and in a team deployment.
//
// Every step is idempotent: a redelivered message finds the results already
// written and does not write them again, and results are written to the
// object store before the index and before the message is acknowledged.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/redact"
)

// Config holds what the stages work with.
type Config struct {
	Store     hark.ObjectStore
	Index     hark.Index
	Publisher hark.Publisher
	Engine    hark.Engine // used by the transcribe stage
	Tagger    hark.Tagger // used by the annotate stage
	Logger    *slog.Logger
	// Now returns the current time; tests may stub it.
	Now func() time.Time
	// SidecarExtensions are the transcript extensions looked for next to a
	// recording, e.g. .vtt.
	SidecarExtensions []string
	// Observer, when set, is told when a recording reaches a state.
	Observer Observer
	// StaleAfter is how long a recording may stay in progress without a
	// change before the reconciler sends it through again and a worker may
	// take it over from one that vanished. Default 1 hour; it must be longer
	// than the longest transcription.
	StaleAfter time.Duration
	// LoadTagger builds a tagger from a codebook's YAML, for re-annotation
	// with a codebook stored in the object store. Nil: such messages fail.
	LoadTagger func(name string, yaml []byte) (hark.Tagger, error)
}

// Observer is told when a recording is transcribed, ready or failed; a
// failure comes with the kind of its reason (a hark error code).
type Observer interface {
	Recorded(stage hark.Stage, status hark.Status, reasonKind string)
}

// Pipeline runs the stages.
type Pipeline struct {
	cfg     Config
	log     *slog.Logger
	state   *stateStore
	mu      sync.Mutex
	taggers map[string]hark.Tagger // by codebook key
}

// New returns a Pipeline.
func New(cfg Config) *Pipeline {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StaleAfter == 0 {
		cfg.StaleAfter = time.Hour
	}
	return &Pipeline{
		cfg:     cfg,
		log:     cfg.Logger,
		state:   &stateStore{store: cfg.Store, index: cfg.Index, log: cfg.Logger, now: cfg.Now},
		taggers: map[string]hark.Tagger{},
	}
}

// TranscribedMessage is the body of a hark.transcripts.ready message.
type TranscribedMessage struct {
	Schema      int    `json:"schema"`
	RecordingID string `json:"recording_id"`
	// Force re-annotates a recording that is already ready (a new codebook).
	Force bool `json:"force,omitempty"`
	// Codebook, when set, is the object key of the codebook to tag with
	// (sent by `hark reannotate --codebook`); otherwise the worker's own.
	Codebook string `json:"codebook,omitempty"`
}

// IsCompanion reports whether key is not a recording but something hark
// stores or reads next to one: results, and sidecar transcripts.
func (p *Pipeline) IsCompanion(key string) bool {
	return IsCompanion(key, p.cfg.SidecarExtensions)
}

// IsCompanion reports whether key is a result hark wrote or a transcript
// with one of the given extensions, rather than a recording.
func IsCompanion(key string, sidecarExtensions []string) bool {
	if strings.HasPrefix(key, hark.ResultsPrefix) || strings.HasPrefix(key, hark.CodebooksPrefix) || strings.HasPrefix(key, hark.VoicesPrefix) {
		return true
	}
	ext := strings.ToLower(path.Ext(key))
	for _, e := range sidecarExtensions {
		if ext == e {
			return true
		}
	}
	return false
}

// Transcribe handles one S3 event from hark.recordings.uploaded.
func (p *Pipeline) Transcribe(ctx context.Context, d hark.Delivery) error {
	events, err := ingest.DecodeEvent(d.Data())
	if err != nil {
		p.log.Warn("dropping a message that is not an S3 event", "stage", hark.StageIngest, "err", err)
		return nil
	}
	for _, ev := range events {
		if err := p.transcribeObject(ctx, d, ev); err != nil {
			return err
		}
	}
	return nil
}

// dropErased: when err says recording id was erased while this attempt
// had it (hark forget), it removes whatever the attempt wrote for it and
// returns nil, so that the message is acked and nothing of it is left;
// otherwise it returns err.
func (p *Pipeline) dropErased(ctx context.Context, id string, err error) error {
	if !hark.IsErased(err) {
		return err
	}
	n, rerr := hark.RemoveAll(ctx, p.cfg.Store, hark.ResultsPrefix+id+"/")
	if rerr != nil {
		return hark.WrapError(hark.EUNAVAILABLE, rerr, "recording %s was erased: remove what this attempt wrote", id)
	}
	p.log.Info("the recording was erased while it was being worked on; its results are dropped", "recording", id, "removed", n)
	return nil
}

func (p *Pipeline) transcribeObject(ctx context.Context, d hark.Delivery, ev ingest.ObjectEvent) (err error) {
	log := p.log.With("stage", hark.StageTranscribe, "bucket", ev.Bucket, "source", ev.Source)
	if ev.Bucket != p.cfg.Store.Bucket() {
		log.Warn("ignoring an event for another bucket", "want", p.cfg.Store.Bucket())
		return nil
	}
	if IsCompanion(ev.Key, nil) {
		return nil // hark's own results and codebooks
	}
	if p.IsCompanion(ev.Key) {
		return p.sidecarArrived(ctx, ev)
	}
	info, err := p.cfg.Store.Stat(ctx, ev.Key)
	if hark.ErrorCode(err) == hark.ENOTFOUND && ev.AltKey != "" {
		info, err = p.cfg.Store.Stat(ctx, ev.AltKey)
	}
	if err != nil {
		rec := p.recordingFromEvent(ev)
		if hark.ErrorCode(err) == hark.ENOTFOUND {
			if old, lerr := p.state.load(ctx, rec.ID); lerr == nil && old.Done() {
				return nil
			}
			return p.fail(ctx, rec, hark.StageIngest, hark.ENOTFOUND, fmt.Sprintf("the object %q was not found in bucket %s: it was deleted or its upload did not finish; upload it again", ev.Key, ev.Bucket))
		}
		return p.retryOrFail(ctx, d, rec, hark.StageIngest, err)
	}
	id := hark.RecordingID(ev.Bucket, info.Key, info.ETag)
	defer func() { err = p.dropErased(ctx, id, err) }()
	log = log.With("recording", id, "attempt", d.Attempt())
	rec, err := p.state.load(ctx, id)
	switch {
	case err == nil:
		switch rec.Status {
		case hark.StatusReady, hark.StatusFailed:
			log.Debug("duplicate event for a finished recording")
			return nil
		case hark.StatusTranscribed, hark.StatusAnnotating:
			return p.publishTranscribed(ctx, rec, false)
		case hark.StatusTranscribing:
			if !ownRun(d, rec) && d.Attempt() == 1 && p.cfg.Now().Sub(rec.UpdatedAt) < p.cfg.StaleAfter {
				// Another message owns this recording and is still
				// pending in the queue; if its worker dies, that message is
				// redelivered. This one is a duplicate event.
				log.Debug("duplicate event for a recording in progress")
				return nil
			}
			// A redelivery: the worker that had it stopped or stalled.
		}
	case hark.ErrorCode(err) == hark.ENOTFOUND:
		rec = p.newRecording(ev.Bucket, info)
	default:
		return err
	}
	rec.Status = hark.StatusTranscribing
	rec.Attempts++
	if ok, err := p.state.claim(ctx, d, rec); !ok {
		return err
	}
	log = log.With("lease", rec.Lease)
	log.Info("transcribing")
	t, err := p.transcript(ctx, rec)
	if hark.ErrorCode(err) == hark.ECONFLICT && !hark.IsErased(err) {
		log.Info("a newer attempt took the recording over; dropping this one's result")
		return nil
	}
	if err != nil {
		if hark.ErrorCode(err) == hark.EINVALID || hark.ErrorCode(err) == hark.ENOTFOUND {
			return p.fail(ctx, rec, hark.StageTranscribe, hark.ErrorCode(err), hark.ErrorMessage(err))
		}
		return p.retryOrFail(ctx, d, rec, hark.StageTranscribe, err)
	}
	rec.DurationSeconds = t.Audio.DurationSeconds
	rec.Channels = t.Audio.Channels
	rec.SampleRate = t.Audio.SampleRate
	t.Lease = rec.Lease
	if err := p.cfg.Index.PutTranscript(ctx, t); err != nil {
		return dropIfConflict(err)
	}
	rec.Status = hark.StatusTranscribed
	rec.UpdatedAt = p.cfg.Now()
	if err := p.state.save(ctx, rec); err != nil {
		return dropIfConflict(err)
	}
	log.Info("transcribed", "segments", len(t.Segments), "engine", t.Engine)
	p.observe(hark.StageTranscribe, hark.StatusTranscribed, "")
	return p.publishTranscribed(ctx, rec, false)
}

// sidecarArrived retries the recordings next to a transcript that was
// uploaded after them and that failed in transcription without one, since
// their failure reason asks for exactly this upload.
func (p *Pipeline) sidecarArrived(ctx context.Context, ev ingest.ObjectEvent) error {
	base := strings.TrimSuffix(ev.Key, path.Ext(ev.Key))
	var ids []string
	err := p.cfg.Store.List(ctx, base+".", func(info hark.ObjectInfo) error {
		if !p.IsCompanion(info.Key) && strings.TrimSuffix(info.Key, path.Ext(info.Key)) == base {
			ids = append(ids, hark.RecordingID(ev.Bucket, info.Key, info.ETag))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		rec, err := p.state.load(ctx, id)
		switch {
		case hark.ErrorCode(err) == hark.ENOTFOUND:
			continue // not seen yet: its own event will find the transcript
		case err != nil:
			return err
		case rec.Status == hark.StatusTranscribing:
			// It may be failing for the want of this transcript right now.
			return hark.Errorf(hark.EUNAVAILABLE, "recording %s is being transcribed; looking again later", id)
		case rec.Status == hark.StatusFailed && rec.Stage == hark.StageTranscribe && (rec.Sidecar == "" || rec.Sidecar == ev.Key):
			p.log.Info("a transcript arrived for a recording that failed without one: retrying", "recording", id, "stage", hark.StageTranscribe)
			if err := p.Retry(ctx, id); err != nil && hark.ErrorCode(err) != hark.ECONFLICT {
				return err
			}
		}
	}
	return nil
}

// maxVoiceBytes bounds a stored voice (about 8 KB as hark writes it).
const maxVoiceBytes = 1 << 20

// workerVoice returns the stored voice of the recording's worker in its
// team, or nil when the team has not learned it (or the upload names no
// worker).
func (p *Pipeline) workerVoice(ctx context.Context, rec *hark.Recording) ([]byte, error) {
	if rec.Team == "" || rec.Worker == "" {
		return nil, nil
	}
	r, _, err := p.cfg.Store.Get(ctx, hark.VoiceKey(rec.Team, rec.Worker))
	if hark.ErrorCode(err) == hark.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxVoiceBytes+1))
	if err != nil {
		return nil, hark.WrapError(hark.EUNAVAILABLE, err, "read the voice of worker %s", rec.Worker)
	}
	if len(data) > maxVoiceBytes {
		return nil, nil // not a voice hark wrote: ignore it rather than fail the recording
	}
	return data, nil
}

// transcript returns the recording's transcript: the one already stored by
// an earlier attempt, or a new one from the engine, stored before returning.
func (p *Pipeline) transcript(ctx context.Context, rec *hark.Recording) (*hark.Transcript, error) {
	var t hark.Transcript
	err := p.state.getJSON(ctx, hark.TranscriptKey(rec.ID), &t)
	if err == nil {
		return &t, nil
	}
	if hark.ErrorCode(err) != hark.ENOTFOUND {
		return nil, err
	}
	sidecar, err := p.sidecar(ctx, rec)
	if err != nil {
		return nil, err
	}
	audio, _, err := p.cfg.Store.Get(ctx, rec.Key)
	if err != nil {
		return nil, err
	}
	defer audio.Close()
	voice, err := p.workerVoice(ctx, rec)
	if err != nil {
		return nil, err
	}
	pol, err := p.redaction(ctx, rec.Team)
	if err != nil {
		return nil, err
	}
	pw := p.progressWriter(ctx, rec)
	in := hark.EngineInput{Recording: rec, Audio: audio, Sidecar: sidecar, WorkerVoice: voice, Progress: pw.report}
	var cw *checkpoint
	if pol.Mode != hark.RedactStore && sidecar == nil {
		// Long work is kept as it goes, for an attempt cut short to
		// resume from; not for a team whose text is masked before it is
		// stored, as a checkpoint holds the engine's clear text.
		in.Resume = p.resume(ctx, rec)
		cw = p.checkpointWriter(ctx, rec, in.Resume)
		in.Checkpoint = cw.save
	}
	out, err := p.cfg.Engine.Transcribe(ctx, in)
	pw.stop()
	if err != nil {
		if cw != nil {
			cw.flush()
		}
		return nil, err
	}
	out.Schema = hark.SchemaVersion
	out.RecordingID = rec.ID
	for i := range out.Segments {
		out.Segments[i].Index = i
	}
	if pol.Mode == hark.RedactStore {
		var counts map[string]int
		out, counts = redact.New(redact.Config{Names: pol.Names}).Transcript(out)
		masked := 0
		for _, n := range counts {
			masked += n
		}
		p.log.Info("transcript redacted before it is stored", "recording", rec.ID, "masked", masked)
	}
	if err := p.state.owns(ctx, rec); err != nil {
		return nil, err
	}
	// The transcript is written once: of two attempts racing (one stalled
	// past its ack wait, one that took over), the first one's stands and
	// both go on with it, so the store and the index never disagree.
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, hark.WrapError(hark.EINTERNAL, err, "encode the transcript of %s", rec.ID)
	}
	if _, err := p.cfg.Store.Create(ctx, hark.TranscriptKey(rec.ID), data, "application/json"); hark.ErrorCode(err) == hark.ECONFLICT {
		p.log.Info("another attempt stored the transcript first; going on with that one", "recording", rec.ID, "lease", rec.Lease)
		cw.done(ctx)
		var first hark.Transcript
		if err := p.state.getJSON(ctx, hark.TranscriptKey(rec.ID), &first); err != nil {
			return nil, err
		}
		return &first, nil
	} else if err != nil {
		return nil, err
	}
	if pol.Mode == hark.RedactStore && sidecar != nil {
		// The transcript uploaded with it is the clear text: it goes.
		if err := p.cfg.Store.Remove(ctx, sidecar.Name); err != nil {
			return nil, err
		}
	}
	cw.done(ctx)
	return out, nil
}

// progressEvery is how often a recording's progress is written to the
// index while it is transcribed.
const progressEvery = 2 * time.Second

// progress writes a recording's progress to the index as the engine
// reports it, at most every progressEvery, until stopped.
type progress struct {
	p       *Pipeline
	ctx     context.Context
	rec     hark.Recording // a copy: the stage's own is not touched
	mu      sync.Mutex
	last    time.Time
	prev    hark.Progress // the last reported
	stopped bool
}

func (p *Pipeline) progressWriter(ctx context.Context, rec *hark.Recording) *progress {
	return &progress{p: p, ctx: ctx, rec: *rec}
}

func (w *progress) report(pr hark.Progress) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	if o, ok := w.p.cfg.Observer.(interface {
		Progressed(id string, p, prev hark.Progress)
	}); ok {
		o.Progressed(w.rec.ID, pr, w.prev)
	}
	w.prev = pr
	now := w.p.cfg.Now()
	if now.Sub(w.last) < progressEvery && pr.Done < pr.Total && pr.Done > 0 {
		return
	}
	w.last = now
	w.rec.Progress = &pr
	if err := w.p.cfg.Index.PutRecording(w.ctx, &w.rec); err != nil {
		w.p.log.Debug("progress not written", "recording", w.rec.ID, "err", err)
	}
}

// stop ends the writes: the stage's own state comes next.
func (w *progress) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

// redactionIndex is an index that keeps the teams' redaction policies.
type redactionIndex interface {
	Redaction(ctx context.Context, team string) (hark.Redaction, error)
}

// redaction is the redaction policy of team; off when the index keeps none.
func (p *Pipeline) redaction(ctx context.Context, team string) (hark.Redaction, error) {
	ri, ok := p.cfg.Index.(redactionIndex)
	if !ok {
		return hark.Redaction{Team: team, Mode: hark.RedactOff}, nil
	}
	return ri.Redaction(ctx, team)
}

// sidecar finds a transcript uploaded next to the recording: the key named
// in its metadata, or the same name with a transcript extension.
func (p *Pipeline) sidecar(ctx context.Context, rec *hark.Recording) (*hark.Sidecar, error) {
	candidates := []string{}
	if rec.Sidecar != "" {
		candidates = append(candidates, rec.Sidecar)
	} else {
		base := strings.TrimSuffix(rec.Key, path.Ext(rec.Key))
		for _, ext := range p.cfg.SidecarExtensions {
			candidates = append(candidates, base+ext)
		}
	}
	for _, key := range candidates {
		r, info, err := p.cfg.Store.Get(ctx, key)
		if hark.ErrorCode(err) == hark.ENOTFOUND {
			if rec.Sidecar != "" {
				return nil, hark.Errorf(hark.EINVALID, "the transcript %q named in the upload's metadata is not in the bucket; upload it again", key)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		const maxSidecar = 32 << 20
		data, err := io.ReadAll(io.LimitReader(r, maxSidecar+1))
		r.Close()
		if err != nil {
			return nil, hark.WrapError(hark.EUNAVAILABLE, err, "read transcript %s", key)
		}
		if len(data) > maxSidecar {
			return nil, hark.Errorf(hark.EINVALID, "the transcript %q is larger than 32 MiB; is it really a transcript?", key)
		}
		rec.Sidecar = info.Key
		return &hark.Sidecar{Name: info.Key, Data: data}, nil
	}
	return nil, nil
}

func (p *Pipeline) publishTranscribed(ctx context.Context, rec *hark.Recording, force bool) error {
	data, _ := json.Marshal(TranscribedMessage{Schema: hark.SchemaVersion, RecordingID: rec.ID, Force: force})
	msgID := fmt.Sprintf("transcribed:%s:%d", rec.ID, rec.Attempts)
	return p.cfg.Publisher.Publish(ctx, hark.SubjectTranscribed, msgID, data)
}

// Reannotate sends the recordings that match f, and are ready or failed in
// annotation, back through the annotate stage, to be tagged with the
// codebook stored at codebookKey (empty: the workers' own). Transcripts are
// not made again. It returns how many it sent.
func (p *Pipeline) Reannotate(ctx context.Context, f hark.RecordingFilter, codebookKey string) (int, error) {
	list, err := p.cfg.Index.Recordings(ctx, f)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range list {
		if r.Status != hark.StatusReady && !(r.Status == hark.StatusFailed && r.Stage == hark.StageAnnotate) {
			continue
		}
		if err := p.reannotate(ctx, r.ID, codebookKey); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// reannotate sends one recording back through the annotate stage.
func (p *Pipeline) reannotate(ctx context.Context, id, codebookKey string) error {
	return publishReannotate(ctx, p.cfg.Publisher, id, codebookKey, p.cfg.Now())
}

func publishReannotate(ctx context.Context, pub hark.Publisher, id, codebookKey string, now time.Time) error {
	data, _ := json.Marshal(TranscribedMessage{Schema: hark.SchemaVersion, RecordingID: id, Force: true, Codebook: codebookKey})
	msgID := fmt.Sprintf("reannotate:%s:%s:%d", id, codebookKey, now.UnixNano())
	return pub.Publish(ctx, hark.SubjectTranscribed, msgID, data)
}

// Retag sends a ready recording back through the annotate stage with the
// workers' own codebook, by pub: after a coach corrected who speaks in it,
// so that the worker's codes go with the worker's turns. The web server
// calls it, with or without a Pipeline of its own.
func Retag(ctx context.Context, pub hark.Publisher, id string) error {
	return publishReannotate(ctx, pub, id, "", time.Now())
}

// Retag is Retag through the pipeline's publisher.
func (p *Pipeline) Retag(ctx context.Context, id string) error { return p.reannotate(ctx, id, "") }

// Annotate handles one message from hark.transcripts.ready.
func (p *Pipeline) Annotate(ctx context.Context, d hark.Delivery) (err error) {
	var m TranscribedMessage
	if err := json.Unmarshal(d.Data(), &m); err != nil || !hark.ValidRecordingID(m.RecordingID) {
		p.log.Warn("dropping a malformed transcripts.ready message", "stage", hark.StageAnnotate)
		return nil
	}
	defer func() { err = p.dropErased(ctx, m.RecordingID, err) }()
	log := p.log.With("stage", hark.StageAnnotate, "recording", m.RecordingID, "attempt", d.Attempt())
	rec, err := p.state.load(ctx, m.RecordingID)
	if hark.ErrorCode(err) == hark.ENOTFOUND {
		log.Warn("transcripts.ready for an unknown recording")
		return nil
	}
	if err != nil {
		return err
	}
	if (rec.Status == hark.StatusFailed && !(m.Force && rec.Stage == hark.StageAnnotate)) || (rec.Status == hark.StatusReady && !m.Force) {
		return nil
	}
	if rec.Status == hark.StatusAnnotating && !m.Force && !ownRun(d, rec) && d.Attempt() == 1 && p.cfg.Now().Sub(rec.UpdatedAt) < p.cfg.StaleAfter {
		// Another message has it in hand; if that worker dies, its message
		// is redelivered. This one is a duplicate.
		log.Debug("duplicate message for a recording being annotated")
		return nil
	}
	rec.Status = hark.StatusAnnotating
	if ok, err := p.state.claim(ctx, d, rec); !ok {
		return err
	}
	log = log.With("lease", rec.Lease)
	var t hark.Transcript
	if err := p.state.getJSON(ctx, hark.TranscriptKey(rec.ID), &t); err != nil {
		if hark.ErrorCode(err) == hark.ENOTFOUND {
			return p.fail(ctx, rec, hark.StageAnnotate, hark.ENOTFOUND, "the transcript is missing from the object store; run `hark retry "+rec.ID+"` to transcribe again")
		}
		return p.retryOrFail(ctx, d, rec, hark.StageAnnotate, err)
	}
	// Tag the transcript as the coaches corrected it (who speaks, in which
	// role), and index it so: the machine's stays as it is in the store.
	corrected, err := p.corrected(ctx, rec, &t)
	if err != nil {
		return p.retryOrFail(ctx, d, rec, hark.StageAnnotate, err)
	}
	if corrected != &t {
		corrected.Lease = rec.Lease
		if err := p.cfg.Index.PutTranscript(ctx, corrected); err != nil {
			return dropIfConflict(err)
		}
		t = *corrected
	}
	tagger, err := p.tagger(ctx, m.Codebook)
	if err != nil {
		if hark.ErrorCode(err) == hark.EINVALID || hark.ErrorCode(err) == hark.ENOTFOUND {
			return p.fail(ctx, rec, hark.StageAnnotate, hark.EINVALID, hark.ErrorMessage(err))
		}
		return p.retryOrFail(ctx, d, rec, hark.StageAnnotate, err)
	}
	a, err := tagger.Tag(ctx, &t)
	if err != nil {
		if hark.ErrorCode(err) == hark.EINVALID {
			return p.fail(ctx, rec, hark.StageAnnotate, hark.EINVALID, hark.ErrorMessage(err))
		}
		return p.retryOrFail(ctx, d, rec, hark.StageAnnotate, err)
	}
	a.Schema = hark.SchemaVersion
	a.RecordingID = rec.ID
	a.Lease = rec.Lease
	if err := p.state.owns(ctx, rec); err != nil {
		return dropIfConflict(err)
	}
	if err := p.state.putLeased(ctx, rec.ID, hark.AnnotationsVersionKey(rec.ID, a.Codebook, a.CodebookVersion), a, a.Lease); err != nil {
		return dropIfConflict(err)
	}
	if err := p.state.putLeased(ctx, rec.ID, hark.AnnotationsKey(rec.ID), a, a.Lease); err != nil {
		return dropIfConflict(err)
	}
	if err := p.cfg.Index.PutAnnotations(ctx, a); err != nil {
		return dropIfConflict(err)
	}
	rec.Status = hark.StatusReady
	rec.Stage, rec.Reason = "", ""
	rec.UpdatedAt = p.cfg.Now()
	if err := p.state.save(ctx, rec); err != nil {
		return dropIfConflict(err)
	}
	if a.Usage != nil {
		log = log.With("llm_requests", a.Usage.Requests, "llm_tokens", a.Usage.TotalTokens, "llm_dropped", a.Usage.Dropped)
	}
	log.Info("ready", "tags", len(a.Tags), "codebook_version", a.CodebookVersion)
	p.observe(hark.StageAnnotate, hark.StatusReady, "")
	return nil
}

// corrected returns t with the coaches' corrections of who speaks (the
// review stored next to the recording) made, or t itself when there are
// none.
func (p *Pipeline) corrected(ctx context.Context, rec *hark.Recording, t *hark.Transcript) (*hark.Transcript, error) {
	var r hark.ReviewDoc
	switch err := p.state.getJSON(ctx, hark.ReviewKey(rec.ID), &r); {
	case hark.ErrorCode(err) == hark.ENOTFOUND:
		return t, nil
	case err != nil:
		return nil, err
	}
	return r.Correct(t), nil
}

// tagger returns the tagger for a message: the worker's own, or one built
// from a codebook stored in the object store (cached by key: a stored
// codebook version never changes).
func (p *Pipeline) tagger(ctx context.Context, key string) (hark.Tagger, error) {
	if key == "" {
		return p.cfg.Tagger, nil
	}
	if !strings.HasPrefix(key, hark.CodebooksPrefix) {
		return nil, hark.Errorf(hark.EINVALID, "codebook %q is not under %s", key, hark.CodebooksPrefix)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.taggers[key]; ok {
		return t, nil
	}
	if p.cfg.LoadTagger == nil {
		return nil, hark.Errorf(hark.EINVALID, "this worker cannot load codebooks for re-annotation")
	}
	r, _, err := p.cfg.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	r.Close()
	if err != nil {
		return nil, hark.WrapError(hark.EUNAVAILABLE, err, "read codebook %s", key)
	}
	t, err := p.cfg.LoadTagger(path.Base(key), data)
	if err != nil {
		return nil, err
	}
	p.taggers[key] = t
	return t, nil
}

// retryOrFail returns err so the message is retried later, or, on the last
// delivery, records the failure against the recording.
func (p *Pipeline) retryOrFail(ctx context.Context, d hark.Delivery, rec *hark.Recording, stage hark.Stage, err error) error {
	if !d.Final() {
		if !hark.IsTemporary(err) {
			err = hark.WrapError(hark.EUNAVAILABLE, err, "%s", stage)
		}
		return err
	}
	if serr := p.fail(ctx, rec, stage, hark.ErrorCode(err), fmt.Sprintf("gave up after %d attempts: %s", d.Attempt(), hark.ErrorMessage(err))); serr != nil {
		return errors.Join(err, serr)
	}
	return nil
}

// fail records a failure against the recording.
func (p *Pipeline) fail(ctx context.Context, rec *hark.Recording, stage hark.Stage, kind, reason string) error {
	p.log.Info("recording failed", "recording", rec.ID, "stage", stage, "kind", kind)
	rec.Fail(stage, reason, p.cfg.Now())
	if err := p.state.save(ctx, rec); err != nil {
		return err
	}
	p.observe(stage, hark.StatusFailed, kind)
	return nil
}

func (p *Pipeline) observe(stage hark.Stage, status hark.Status, kind string) {
	if p.cfg.Observer != nil {
		p.cfg.Observer.Recorded(stage, status, kind)
	}
}

func (p *Pipeline) newRecording(bucket string, info hark.ObjectInfo) *hark.Recording {
	now := p.cfg.Now()
	m := info.Metadata
	return &hark.Recording{
		Schema:        hark.SchemaVersion,
		ID:            hark.RecordingID(bucket, info.Key, info.ETag),
		Bucket:        bucket,
		Key:           info.Key,
		ETag:          info.ETag,
		Size:          info.Size,
		Team:          m[ingest.MetaTeam],
		Worker:        m[ingest.MetaWorker],
		Family:        m[ingest.MetaFamily],
		MeetingType:   m[ingest.MetaMeetingType],
		RecordedOn:    m[ingest.MetaRecordedOn],
		WorkerChannel: m[ingest.MetaWorkerChannel],
		WorkerSpeaker: m[ingest.MetaWorkerSpeaker],
		Engine:        m[ingest.MetaEngine],
		Speakers:      speakersMeta(m[ingest.MetaSpeakers]),
		Sidecar:       m[ingest.MetaSidecar],
		Batch:         m[ingest.MetaBatch],
		Status:        hark.StatusUploaded,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
}

// speakersMeta reads the number of speakers an upload gave: 1–10, else 0
// (estimated).
func speakersMeta(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 10 {
		return 0
	}
	return n
}

// recordingFromEvent builds a recording from an event alone, for an object
// that cannot be read, so that the failure is recorded against something.
func (p *Pipeline) recordingFromEvent(ev ingest.ObjectEvent) *hark.Recording {
	return p.newRecording(ev.Bucket, hark.ObjectInfo{Key: ev.Key, ETag: ev.ETag, Size: ev.Size, Metadata: ev.Metadata})
}

// dropIfConflict turns a lost claim into success, so the message is acked
// and the newer attempt's results stand.
func dropIfConflict(err error) error {
	if hark.ErrorCode(err) == hark.ECONFLICT && !hark.IsErased(err) {
		return nil
	}
	return err
}
