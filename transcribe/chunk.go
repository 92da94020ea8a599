package transcribe

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/harkworks/hark"
)

// Chunks are 16 kHz mono 16-bit WAV files.
const (
	ChunkRate      = 16000 // samples per second in every chunk
	wavHeaderBytes = 44
	frameSamples   = ChunkRate / 50 // silence is judged on 20 ms frames
	minChunkFile   = ChunkRate      // shorter chunks are padded with silence to 1 s: servers reject very short audio
)

// Silence detection: a frame is voiced when it is louder than both an
// absolute floor and the tracked background level plus a margin.
const (
	silenceFloorDB  = -50.0 // dBFS; quieter frames are always silent
	silenceMarginDB = 12.0  // dB above the background level
	floorRiseDB     = 0.01  // dB per frame the background estimate rises (0.5 dB/s)
)

// chunker cuts one 16 kHz track into chunks no longer than maxSamples,
// cutting in a silence in the last part of each chunk (see bestCut).
// It holds at most about 2*window samples in memory: samples older than the
// window are already in the chunk's file.
type chunker struct {
	dir, prefix string
	maxSamples  int
	window      int // samples, a multiple of frameSamples

	chunks   []Chunk
	start    int64 // the current chunk's first sample, from the track's start
	f        *os.File
	bw       *bufio.Writer
	written  int // samples of the current chunk already in its file
	voiced   int // voiced frames in the file
	frames   int // frames in the file
	pending  []int16
	voicedAt []bool  // whether each whole frame of pending is voiced
	floor    float64 // background level estimate, dBFS
	scratch  []byte
	finished bool

	// gate bounds the chunk files on disk (nil: no bound), done ends a
	// wait for it; onChunk is told of each chunk when its file is done.
	gate    *ChunkGate
	done    <-chan struct{}
	onChunk func(index int, c Chunk)

	// envelope is the track's mean power per envelopeSamples, for telling
	// a speaker's own voice from what their microphone picks up of others.
	envelope []float32
	envSum   float64
	envN     int
}

// envelopeSamples is the resolution of a track's envelope: 100 ms, or 288 KB
// for two hours.
const envelopeSamples = ChunkRate / 10

// newChunker returns a chunker writing into dir. The silence search window
// is a minute, a quarter of a chunk or maxWindow samples, whichever is least.
func newChunker(dir, prefix string, maxSamples, maxWindow int) *chunker {
	maxSamples -= maxSamples % frameSamples
	window := min(60*ChunkRate, maxSamples/4, maxWindow)
	window -= window % frameSamples
	return &chunker{
		dir: dir, prefix: prefix, maxSamples: maxSamples, window: max(window, frameSamples),
		floor: silenceFloorDB, pending: make([]int16, 0, 2*window+8192), scratch: make([]byte, 0, 64<<10),
	}
}

// push adds 16 kHz samples in [-1, 1] to the track.
func (c *chunker) push(x []float32) error {
	for len(x) > 0 {
		// Take no more than keeps pending within its capacity.
		n := min(len(x), 8192)
		base := len(c.pending)
		c.pending = slices.Grow(c.pending, n)[:base+n]
		for i, v := range x[:n] {
			c.pending[base+i] = toInt16(v)
			c.envSum += float64(v) * float64(v)
			if c.envN++; c.envN == envelopeSamples {
				c.envelope = append(c.envelope, float32(c.envSum/envelopeSamples))
				c.envSum, c.envN = 0, 0
			}
		}
		x = x[n:]
		// Judge the frames completed by these samples.
		for f := len(c.voicedAt); (f+1)*frameSamples <= len(c.pending); f++ {
			c.voicedAt = append(c.voicedAt, c.judge(c.pending[f*frameSamples:(f+1)*frameSamples]))
		}
		for c.written+len(c.pending) >= c.maxSamples {
			if err := c.cut(); err != nil {
				return err
			}
		}
		if len(c.pending) >= 2*c.window {
			n := len(c.pending) - c.window
			if err := c.flush(n - n%frameSamples); err != nil {
				return err
			}
		}
	}
	return nil
}

// judge reports whether a frame is voiced: louder than silence and than
// the background level, which it tracks.
func (c *chunker) judge(frame []int16) bool {
	var sum int64
	for _, s := range frame {
		sum += int64(s) * int64(s)
	}
	db := 10*math.Log10(float64(sum)/float64(len(frame))/(32768*32768)+1e-12) + 3.01 // a full-scale sine is 0 dBFS
	voiced := db > max(silenceFloorDB, c.floor+silenceMarginDB)
	if db < c.floor {
		c.floor = db
	} else {
		c.floor += floorRiseDB
	}
	return voiced
}

// cut ends the current chunk in the best place before maxSamples.
func (c *chunker) cut() error {
	limit := (c.maxSamples - c.written) / frameSamples // frames of pending that fit
	limit = min(limit, len(c.voicedAt))
	at := bestCut(c.voicedAt[:limit])
	if at == 0 && c.written == 0 {
		at = limit // nothing written yet: cut at the limit rather than make an empty chunk
	}
	if err := c.flush(at * frameSamples); err != nil {
		return err
	}
	return c.close()
}

// minPause is the shortest silence, in frames, worth cutting in when a
// later one exists: half a second, a pause between sentences or turns.
const minPause = 25

// bestCut returns the frame at which to cut a chunk whose last frames are
// voiced: the middle of the latest silence of at least minPause frames, so
// chunks stay close to the limit; else the middle of the longest silence;
// else the end.
func bestCut(voiced []bool) int {
	longest, longestAt, latestAt, run := 0, len(voiced), -1, 0
	for i := 0; i <= len(voiced); i++ {
		if i < len(voiced) && !voiced[i] {
			run++
			continue
		}
		if run > 0 { // a silence ended at i
			mid := i - (run+1)/2
			if run >= minPause {
				latestAt = mid
			}
			if run >= longest {
				longest, longestAt = run, mid
			}
		}
		run = 0
	}
	if latestAt >= 0 {
		return latestAt
	}
	return longestAt
}

// flush writes the first n samples of pending (a whole number of frames,
// or everything at the end) to the current chunk's file.
func (c *chunker) flush(n int) error {
	if n == 0 {
		return nil
	}
	if c.f == nil {
		if err := c.open(); err != nil {
			return err
		}
	}
	for i := 0; i < n && i/frameSamples < len(c.voicedAt); i += frameSamples {
		c.frames++
		if c.voicedAt[i/frameSamples] {
			c.voiced++
		}
	}
	if err := c.writeSamples(c.pending[:n]); err != nil {
		return err
	}
	c.written += n
	rest := copy(c.pending, c.pending[n:])
	c.pending = c.pending[:rest]
	frames := min(n/frameSamples, len(c.voicedAt))
	rest = copy(c.voicedAt, c.voicedAt[frames:])
	c.voicedAt = c.voicedAt[:rest]
	return nil
}

func (c *chunker) writeSamples(s []int16) error {
	for len(s) > 0 {
		n := min(len(s), cap(c.scratch)/2)
		b := c.scratch[:2*n]
		for i, v := range s[:n] {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
		}
		if _, err := c.bw.Write(b); err != nil {
			return c.fileError(err)
		}
		s = s[n:]
	}
	return nil
}

func (c *chunker) open() error {
	if !c.gate.acquire(c.done) {
		return hark.Errorf(hark.EUNAVAILABLE, "preparing the audio was stopped")
	}
	path := filepath.Join(c.dir, fmt.Sprintf("%s-%04d.wav", c.prefix, len(c.chunks)+1))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return hark.WrapError(hark.EUNAVAILABLE, err, "create an audio chunk in %s", c.dir)
	}
	c.f = f
	if c.bw == nil {
		c.bw = bufio.NewWriterSize(f, 256<<10)
	} else {
		c.bw.Reset(f)
	}
	var h [wavHeaderBytes]byte // sizes are filled in by close
	_, err = c.bw.Write(h[:])
	return c.fileError(err)
}

// close pads, finishes and records the current chunk, and starts the next.
func (c *chunker) close() error {
	if c.f == nil {
		return nil
	}
	samples := c.written
	if pad := minChunkFile - samples; pad > 0 {
		if err := c.writeSamples(make([]int16, pad)); err != nil {
			return err
		}
		samples += pad
	}
	if err := c.bw.Flush(); err != nil {
		return c.fileError(err)
	}
	h := wavHeader(samples)
	if _, err := c.f.WriteAt(h[:], 0); err != nil {
		return c.fileError(err)
	}
	name := c.f.Name()
	if err := c.f.Close(); err != nil {
		return c.fileError(err)
	}
	ch := Chunk{
		Path:     name,
		Start:    float64(c.start) / ChunkRate,
		Duration: float64(c.written) / ChunkRate,
		Bytes:    int64(wavHeaderBytes + 2*samples),
	}
	if c.frames > 0 {
		ch.Voiced = float64(c.voiced) / float64(c.frames)
	}
	c.chunks = append(c.chunks, ch)
	c.start += int64(c.written)
	c.f, c.written, c.voiced, c.frames = nil, 0, 0, 0
	if c.onChunk != nil {
		c.onChunk(len(c.chunks)-1, ch)
	}
	return nil
}

// finish writes what is left and closes the last chunk.
func (c *chunker) finish() error {
	if c.finished {
		return nil
	}
	c.finished = true
	if c.envN > 0 {
		c.envelope = append(c.envelope, float32(c.envSum/float64(c.envN)))
	}
	if tail := len(c.pending) % frameSamples; tail > 0 { // judge the last partial frame too
		c.voicedAt = append(c.voicedAt, c.judge(c.pending[len(c.pending)-tail:]))
	}
	for c.written+len(c.pending) > 0 {
		n := min(len(c.pending), c.maxSamples-c.written)
		if err := c.flush(n); err != nil {
			return err
		}
		if err := c.close(); err != nil {
			return err
		}
	}
	return nil
}

// abort closes the current file, if any, after a failure.
func (c *chunker) abort() {
	if c.f != nil {
		c.f.Close()
		c.f = nil
	}
}

func (c *chunker) fileError(err error) error {
	if err == nil {
		return nil
	}
	return hark.WrapError(hark.EUNAVAILABLE, err, "write an audio chunk in %s (is the disk full?)", c.dir)
}

// wavHeader returns the header of a 16 kHz mono 16-bit WAV file holding
// the given number of samples.
func wavHeader(samples int) [wavHeaderBytes]byte {
	var h [wavHeaderBytes]byte
	data := uint32(2 * samples)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+data)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], wavPCM)
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], ChunkRate)
	binary.LittleEndian.PutUint32(h[28:], 2*ChunkRate)
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], data)
	return h
}

// toInt16 converts a sample in [-1, 1] to 16 bits, rounding and clipping.
func toInt16(v float32) int16 {
	v *= 32768
	if v >= 0 {
		v += 0.5
	} else {
		v -= 0.5
	}
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	}
	return int16(v)
}
