package transcribe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

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
// used in error messages. Memory use does not depend on the recording's
// length. Errors are as NewWAVReader's, and EUNAVAILABLE when the chunks
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
	if err := p.run(ctx, w, cfg.Split, maxSamples); err != nil {
		p.Remove()
		return nil, err
	}
	return p, nil
}

// blockFrames is how many frames Prepare decodes at a time.
const blockFrames = 8192

// prepTrack is one track's stages.
type prepTrack struct {
	mono []float32
	rs   *resampler
	ck   *chunker
}

func (p *Prepared) run(ctx context.Context, w *WAVReader, split bool, maxSamples int) error {
	info := w.Info()
	ch := info.Channels
	n := 1
	if split && ch > 1 {
		n = ch
	}
	tracks := make([]prepTrack, n)
	for t := range tracks {
		prefix := "mix"
		if n > 1 {
			prefix = fmt.Sprintf("ch%d", t+1)
		}
		tracks[t] = prepTrack{mono: make([]float32, blockFrames), rs: newResampler(info.SampleRate, ChunkRate), ck: newChunker(p.dir, prefix, maxSamples)}
	}
	defer func() {
		for _, t := range tracks {
			t.ck.abort()
		}
	}()
	buf := make([]float32, blockFrames*ch)
	for {
		if err := ctx.Err(); err != nil {
			return hark.WrapError(hark.EUNAVAILABLE, err, "prepare %s: stopped", w.name)
		}
		frames, err := w.ReadFrames(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		x := buf[:frames*ch]
		if n == 1 {
			downmix(tracks[0].mono[:frames], x, ch)
		} else {
			for c := range tracks {
				m := tracks[c].mono[:frames]
				for i := range m {
					m[i] = x[i*ch+c]
				}
			}
		}
		for _, t := range tracks {
			if err := t.ck.push(t.rs.process(t.mono[:frames], false)); err != nil {
				return err
			}
		}
	}
	for t := range tracks {
		tr := &tracks[t]
		if err := tr.ck.push(tr.rs.process(nil, true)); err != nil {
			return err
		}
		if err := tr.ck.finish(); err != nil {
			return err
		}
		channel := 0
		if n > 1 {
			channel = t + 1
		}
		p.Tracks = append(p.Tracks, Track{Channel: channel, Chunks: tr.ck.chunks})
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
