package transcribe

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"sync"

	"github.com/harkworks/hark"
)

// savedChunk is a recognised chunk as a checkpoint keeps it: enough to
// stitch it into the transcript as if it had just been recognised.
type savedChunk struct {
	Start    float64        `json:"start"`
	Duration float64        `json:"duration"`
	Segments []hark.Segment `json:"segments"`
	Words    []spokenWord   `json:"words,omitempty"`
	Language string         `json:"language,omitempty"`
	Prompt   string         `json:"prompt,omitempty"`
}

// checkpointKey names what a recording's chunks are made from and how:
// its content (the object's ETag), the engine, its model and prompt, and
// the chunking. The same key means the same chunks, cut at the same
// places, recognised the same way.
func (e *speechEngine) checkpointKey(rec *hark.Recording, prep PrepareConfig) string {
	maxSamples, _ := prep.maxSamples()
	h := sha256.Sum256(fmt.Appendf(nil, "hark-checkpoint 1\x00%s\x00%s\x00%s\x00%s\x00%t\x00%d\x00%t",
		rec.ETag, e.name, e.model, e.prompt, e.carry, maxSamples, prep.Split))
	return hex.EncodeToString(h[:16])
}

// checkpointer takes chunks from an earlier attempt's checkpoint and
// keeps this attempt's, telling save after each chunk recognised.
type checkpointer struct {
	key     string
	resumed map[string]savedChunk
	save    func(hark.Checkpoint)
	mu      sync.Mutex
	chunks  map[string]json.RawMessage
	taken   int
}

// newCheckpointer resumes from cp when its key is key (else it is
// ignored); save, when set, is given the work so far after each chunk.
func newCheckpointer(key string, cp *hark.Checkpoint, save func(hark.Checkpoint)) *checkpointer {
	c := &checkpointer{key: key, save: save, resumed: map[string]savedChunk{}, chunks: map[string]json.RawMessage{}}
	if cp == nil || cp.Key != key {
		return c
	}
	for name, raw := range cp.Chunks {
		var s savedChunk
		if json.Unmarshal(raw, &s) == nil {
			c.resumed[name] = s
			c.chunks[name] = raw // kept in the next checkpoint too
		}
	}
	return c
}

func chunkName(track, index int) string { return fmt.Sprintf("%d/%d", track, index) }

// take returns the earlier attempt's result for j, when it recognised
// the same stretch of audio.
func (c *checkpointer) take(j chunkJob) (chunkResult, bool) {
	s, ok := c.resumed[chunkName(j.track, j.index)]
	if !ok || math.Abs(s.Start-j.Start) > 1e-3 || math.Abs(s.Duration-j.Duration) > 1e-3 {
		return chunkResult{}, false
	}
	c.mu.Lock()
	c.taken++
	c.mu.Unlock()
	return chunkResult{segments: s.Segments, words: s.Words, language: s.Language, prompt: s.Prompt, done: true}, true
}

// keep adds j's result to the checkpoint and tells save.
func (c *checkpointer) keep(j chunkJob, r chunkResult) {
	if c.save == nil {
		return
	}
	raw, err := json.Marshal(savedChunk{Start: j.Start, Duration: j.Duration, Segments: r.segments, Words: r.words, Language: r.language, Prompt: r.prompt})
	if err != nil {
		return
	}
	c.mu.Lock()
	c.chunks[chunkName(j.track, j.index)] = raw
	cp := hark.Checkpoint{Key: c.key, Chunks: maps.Clone(c.chunks)}
	c.mu.Unlock()
	c.save(cp)
}

// resumedChunks is how many chunks were taken from the checkpoint.
func (c *checkpointer) resumedChunks() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.taken
}
