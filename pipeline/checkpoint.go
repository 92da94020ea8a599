package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/harkworks/hark"
)

// checkpointEvery is how often, at most, a transcription's checkpoint is
// written to the store while it runs; whatever it holds when the attempt
// ends without a transcript is written then.
const checkpointEvery = 15 * time.Second

// checkpoint keeps a long transcription's work so far in the store
// (hark.CheckpointKey), for an attempt cut short to be resumed.
type checkpoint struct {
	p       *Pipeline
	ctx     context.Context
	id      string
	mu      sync.Mutex
	latest  *hark.Checkpoint
	written int // chunks in the last one written
	last    time.Time
	stored  bool // a checkpoint is in the store: this attempt's or one it resumed from
}

// resume returns the checkpoint an earlier attempt at rec left, or nil.
// One that cannot be read is passed over: the work starts over.
func (p *Pipeline) resume(ctx context.Context, rec *hark.Recording) *hark.Checkpoint {
	var cp hark.Checkpoint
	err := p.state.getJSON(ctx, hark.CheckpointKey(rec.ID), &cp)
	switch {
	case err == nil:
		p.log.Info("resuming from an earlier attempt's checkpoint", "recording", rec.ID, "chunks", len(cp.Chunks))
		return &cp
	case hark.ErrorCode(err) != hark.ENOTFOUND:
		p.log.Warn("checkpoint not read; transcribing from the start", "recording", rec.ID, "err", err)
	}
	return nil
}

func (p *Pipeline) checkpointWriter(ctx context.Context, rec *hark.Recording, resumed *hark.Checkpoint) *checkpoint {
	return &checkpoint{p: p, ctx: ctx, id: rec.ID, stored: resumed != nil}
}

// save takes the engine's work so far, and writes it when the last write
// is checkpointEvery old.
func (c *checkpoint) save(cp hark.Checkpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.latest != nil && len(cp.Chunks) < len(c.latest.Chunks) {
		return // calls from several lanes may cross
	}
	c.latest = &cp
	if now := c.p.cfg.Now(); now.Sub(c.last) >= checkpointEvery {
		c.last = now
		c.writeLocked(c.ctx)
	}
}

// flush writes the latest work when it has not been written yet: the
// attempt is ending without a transcript (cut short, or failed), and a
// later one is to resume from it. It runs even when the attempt's context
// is cancelled.
func (c *checkpoint) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.latest == nil || len(c.latest.Chunks) == c.written {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	defer cancel()
	c.writeLocked(ctx)
}

func (c *checkpoint) writeLocked(ctx context.Context) {
	data, err := json.Marshal(c.latest)
	if err != nil {
		return
	}
	if _, err := c.p.cfg.Store.Put(ctx, hark.CheckpointKey(c.id), bytes.NewReader(data), int64(len(data)), "application/json", nil); err != nil {
		c.p.log.Warn("checkpoint not written", "recording", c.id, "err", err)
		return
	}
	c.written, c.stored = len(c.latest.Chunks), true
}

// done removes the checkpoint once the transcript is stored.
func (c *checkpoint) done(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	stored := c.stored
	c.mu.Unlock()
	if !stored {
		return
	}
	if err := c.p.cfg.Store.Remove(ctx, hark.CheckpointKey(c.id)); err != nil {
		c.p.log.Warn("checkpoint not removed", "recording", c.id, "err", err)
	}
}
