package transcribe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/harkworks/hark"
)

// DefaultMaxChunkBytes is the hosted speech-to-text API's limit on one
// request's audio, 25 MB: about 13 minutes of 16 kHz mono 16-bit audio.
const DefaultMaxChunkBytes = 25_000_000

// PrepareConfig says how Prepare cuts a recording into chunks.
type PrepareConfig struct {
	// Split makes one track per channel instead of one downmixed track, for
	// recordings with one microphone per speaker.
	Split bool
	// MaxChunkBytes is the largest chunk file, header included; 0 means
	// DefaultMaxChunkBytes. It must allow at least one second.
	MaxChunkBytes int64
	// MaxChunkDuration, when positive, limits each chunk's length too.
	MaxChunkDuration time.Duration
	// Dir is where the chunk files go, in a new directory of their own;
	// "" means the system's temporary directory.
	Dir string
	// Listen, when set, is handed the downmixed 16 kHz track as it is
	// made, block by block (each slice only for the call), so that the
	// audio can be read a second way in the same pass: the speakers, for
	// diarization. It is not called when Split is set.
	Listen func(samples []float32)
	// Gate, when set, bounds the chunk files on disk at once: a chunk is
	// written only when the gate has room, and its reader releases it
	// (ChunkGate.Release) once done with it, having removed the file.
	Gate *ChunkGate
	// OnChunk, when set, is told of each chunk as soon as its file is
	// complete, with its track (an index into Prepared.Tracks) and its
	// index in the track, so that it can be used while the rest is still
	// being prepared. It is called from the tracks' goroutines.
	OnChunk func(track, index int, c Chunk)
	// OnAudio, when set, is told what the recording is before any chunk,
	// its duration as its header says.
	OnAudio func(hark.AudioInfo)
}

// ChunkGate bounds how many chunk files are on disk at once: a recording's
// scratch space, however long it is.
type ChunkGate struct {
	slots chan struct{}
}

// NewChunkGate returns a gate for n chunk files at once (at least 1).
func NewChunkGate(n int) *ChunkGate { return &ChunkGate{slots: make(chan struct{}, max(1, n))} }

// acquire waits for room for one more chunk file, or for done.
func (g *ChunkGate) acquire(done <-chan struct{}) bool {
	if g == nil {
		return true
	}
	select {
	case g.slots <- struct{}{}:
		return true
	case <-done:
		return false
	}
}

// Release makes room for another chunk file, once one has been removed.
func (g *ChunkGate) Release() {
	if g != nil {
		<-g.slots
	}
}

// maxSamples returns the most samples one chunk may hold.
func (c PrepareConfig) maxSamples() (int, error) {
	b := c.MaxChunkBytes
	if b == 0 {
		b = DefaultMaxChunkBytes
	}
	n := (b - wavHeaderBytes) / 2
	if c.MaxChunkDuration > 0 {
		n = min(n, int64(c.MaxChunkDuration.Seconds()*ChunkRate))
	}
	if n < ChunkRate {
		return 0, hark.Errorf(hark.EINVALID, "audio chunks must hold at least one second (%d bytes); the limits allow %d samples", wavHeaderBytes+2*ChunkRate, n)
	}
	return int(min(n, 1<<31-1)), nil
}

// Prepared is a recording decoded, resampled to 16 kHz mono and cut into
// chunks on disk. Remove deletes the chunks.
type Prepared struct {
	// Audio describes the recording as read, with its true duration.
	Audio hark.AudioInfo
	// Tracks holds one track for a downmix, or one per channel.
	Tracks []Track
	dir    string
}

// Track is the chunks of one channel, or of the downmix of all of them.
type Track struct {
	// Channel is the 1-based channel the track comes from, or 0 for a
	// downmix of all channels.
	Channel int
	Chunks  []Chunk
	// Envelope is the track's mean power (of samples in [-1, 1]) in each
	// tenth of a second: 4 bytes per 100 ms, 288 KB for two hours.
	Envelope []float32
}

// Level returns the track's mean power between two times in seconds, or 0
// outside the recording.
func (t Track) Level(start, end float64) float64 {
	i, j := int(start*10), int(end*10+0.999)
	i, j = max(i, 0), min(j, len(t.Envelope))
	if j <= i {
		return 0
	}
	var s float64
	for _, v := range t.Envelope[i:j] {
		s += float64(v)
	}
	return s / float64(j-i)
}

// Chunk is a piece of a track in its own 16 kHz mono 16-bit WAV file. A
// chunk shorter than a second is padded with silence in its file.
type Chunk struct {
	Path     string
	Start    float64 // seconds from the start of the recording
	Duration float64 // seconds of the recording the chunk holds
	Bytes    int64   // the file's size
	// Voiced is the fraction of the chunk's 20 ms frames that are louder
	// than silence; 0 means the chunk is silent and need not be sent to a
	// recogniser.
	Voiced float64
}

// Remove deletes the chunk files.
func (p *Prepared) Remove() error {
	if p == nil || p.dir == "" {
		return nil
	}
	return os.RemoveAll(p.dir)
}

// Prepare reads the WAV stream r once, as a stream, and in the same pass
// downmixes or splits its channels, resamples them to 16 kHz and cuts them
// at silences into chunks no larger than the configured limits. name is
// used in error messages. Memory use hardly depends on the recording's
// length: all that grows is a 100 ms level envelope per track (288 KB for
// two hours). Errors are as NewWAVReader's, and EUNAVAILABLE when the chunks
// cannot be written.
func Prepare(ctx context.Context, name string, r io.Reader, cfg PrepareConfig) (*Prepared, error) {
	maxSamples, err := cfg.maxSamples()
	if err != nil {
		return nil, err
	}
	w, err := NewWAVReader(name, r)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.Dir, "hark-audio-*")
	if err != nil {
		return nil, hark.WrapError(hark.EUNAVAILABLE, err, "create a directory for audio chunks")
	}
	p := &Prepared{dir: dir}
	if cfg.OnAudio != nil {
		info := w.Info()
		if f := w.Frames(); f > 0 && info.SampleRate > 0 {
			info.DurationSeconds = float64(f) / float64(info.SampleRate)
		}
		cfg.OnAudio(info)
	}
	if err := p.run(ctx, w, cfg, maxSamples); err != nil {
		p.Remove()
		return nil, err
	}
	return p, nil
}

// blockFrames is how many frames Prepare decodes at a time.
const blockFrames = 8192

// windowBudget bounds the silence search windows of all tracks together, in
// samples: each track holds up to two windows (16 MB for all of them).
const windowBudget = 4 << 20

// prepTrack is one track's stages, run by a goroutine of its own: the
// reader hands it blocks of samples through in and gets the buffers back
// through free, so decoding and each track's filtering run in parallel and
// no buffer is allocated per block.
type prepTrack struct {
	rs     *resampler
	ck     *chunker
	in     chan []float32
	free   chan []float32
	listen func([]float32) // PrepareConfig.Listen, on the downmix
}

// run filters and chunks the blocks that arrive until in is closed.
func (t *prepTrack) run(ctx context.Context) error {
	for buf := range t.in {
		if err := t.push(t.rs.process(buf, false)); err != nil {
			return err
		}
		t.free <- buf[:cap(buf)]
	}
	if ctx.Err() != nil {
		return nil // the reader failed or was stopped; it reports why
	}
	if err := t.push(t.rs.process(nil, true)); err != nil {
		return err
	}
	return t.ck.finish()
}

// push hands 16 kHz samples to the chunker and the listener.
func (t *prepTrack) push(x []float32) error {
	if t.listen != nil && len(x) > 0 {
		t.listen(x)
	}
	return t.ck.push(x)
}

func (p *Prepared) run(ctx context.Context, w *WAVReader, cfg PrepareConfig, maxSamples int) error {
	split, listen := cfg.Split, cfg.Listen
	info := w.Info()
	ch := info.Channels
	n := 1
	if split && ch > 1 {
		n = ch
	}
	tracks := make([]*prepTrack, n)
	for t := range tracks {
		prefix := "mix"
		if n > 1 {
			prefix = fmt.Sprintf("ch%d", t+1)
		}
		tracks[t] = &prepTrack{
			rs: newResampler(info.SampleRate, ChunkRate), ck: newChunker(p.dir, prefix, maxSamples, windowBudget/n),
			in: make(chan []float32, 2), free: make(chan []float32, 2),
		}
		tracks[t].ck.gate, tracks[t].ck.done = cfg.Gate, ctx.Done()
		if cfg.OnChunk != nil {
			track := t
			tracks[t].ck.onChunk = func(index int, c Chunk) { cfg.OnChunk(track, index, c) }
		}
		if n == 1 {
			tracks[t].listen = listen
		}
		for range 2 {
			tracks[t].free <- make([]float32, blockFrames)
		}
	}
	defer func() {
		for _, t := range tracks {
			t.ck.abort()
		}
	}()
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range tracks {
		g.Go(func() error { return t.run(gctx) })
	}
	g.Go(func() error {
		defer func() {
			for _, t := range tracks {
				close(t.in)
			}
		}()
		buf := make([]float32, blockFrames*ch)
		for {
			if err := gctx.Err(); err != nil {
				if cerr := ctx.Err(); cerr != nil {
					return hark.WrapError(hark.EUNAVAILABLE, cerr, "prepare %s: stopped", w.name)
				}
				return nil // a track failed and reports why
			}
			frames, err := w.ReadFrames(buf)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			x := buf[:frames*ch]
			for c, t := range tracks {
				var m []float32
				select {
				case m = <-t.free:
				case <-gctx.Done():
					return nil // checked at the top of the loop
				}
				m = m[:frames]
				if n == 1 {
					downmix(m, x, ch)
				} else {
					for i := range m {
						m[i] = x[i*ch+c]
					}
				}
				t.in <- m
			}
		}
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return hark.WrapError(hark.EUNAVAILABLE, err, "prepare %s: stopped", w.name)
	}
	for t, tr := range tracks {
		channel := 0
		if n > 1 {
			channel = t + 1
		}
		p.Tracks = append(p.Tracks, Track{Channel: channel, Chunks: tr.ck.chunks, Envelope: tr.ck.envelope})
	}
	p.Audio = info
	p.Audio.DurationSeconds = float64(w.Frames()) / float64(info.SampleRate)
	return nil
}

// downmix averages the ch interleaved channels of x into dst.
func downmix(dst, x []float32, ch int) {
	switch ch {
	case 1:
		copy(dst, x)
	case 2:
		x = x[:2*len(dst)]
		for i := range dst {
			dst[i] = (x[2*i] + x[2*i+1]) * 0.5
		}
	default:
		g := 1 / float32(ch)
		for i := range dst {
			var s float32
			for _, v := range x[i*ch : i*ch+ch] {
				s += v
			}
			dst[i] = s * g
		}
	}
}
