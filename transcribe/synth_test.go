package transcribe

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
)

// wavSpec describes a WAV file for tests to build.
type wavSpec struct {
	tag        uint16 // wavPCM, wavFloat or wavExtensible (then sub is the real tag)
	sub        uint16
	channels   int
	rate       int
	bits       int
	extra      [][]byte // chunks placed between fmt and data
	trailer    [][]byte // chunks after data
	sizeLie    int64    // added to the data chunk's size field
	openSize   bool     // write 0xFFFFFFFF as the data size, as streaming writers do
	dataBefore bool     // put data before fmt
}

// buildWAV returns a WAV file whose samples come from gen(frame, channel),
// in [-1, 1].
func buildWAV(s wavSpec, frames int, gen func(i, c int) float64) []byte {
	bps := s.bits / 8
	data := make([]byte, frames*s.channels*bps)
	realTag := s.tag
	if realTag == wavExtensible {
		realTag = s.sub
	}
	for i := 0; i < frames; i++ {
		for c := 0; c < s.channels; c++ {
			v := gen(i, c)
			b := data[(i*s.channels+c)*bps:]
			switch {
			case realTag == wavFloat && s.bits == 32:
				binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v)))
			case realTag == wavFloat && s.bits == 64:
				binary.LittleEndian.PutUint64(b, math.Float64bits(v))
			case realTag == wavFloat: // a width hark rejects: leave zeros
			case s.bits == 8:
				b[0] = byte(clampInt(math.Round(v*127)+128, 0, 255))
			default:
				full := float64(int64(1) << (s.bits - 1))
				x := int64(clampInt(math.Round(v*full), -full, full-1))
				for k := 0; k < bps; k++ {
					b[k] = byte(x >> (8 * k))
				}
			}
		}
	}
	var body bytes.Buffer
	body.WriteString("WAVE")
	fmtChunk := make([]byte, 16)
	if s.tag == wavExtensible {
		fmtChunk = make([]byte, 40)
		binary.LittleEndian.PutUint16(fmtChunk[16:], 22)
		binary.LittleEndian.PutUint16(fmtChunk[18:], uint16(s.bits))
		binary.LittleEndian.PutUint16(fmtChunk[24:], s.sub)
		copy(fmtChunk[26:], extensibleTail)
	}
	binary.LittleEndian.PutUint16(fmtChunk[0:], s.tag)
	binary.LittleEndian.PutUint16(fmtChunk[2:], uint16(s.channels))
	binary.LittleEndian.PutUint32(fmtChunk[4:], uint32(s.rate))
	binary.LittleEndian.PutUint32(fmtChunk[8:], uint32(s.rate*s.channels*bps))
	binary.LittleEndian.PutUint16(fmtChunk[12:], uint16(s.channels*bps))
	binary.LittleEndian.PutUint16(fmtChunk[14:], uint16(s.bits))
	size := uint32(int64(len(data)) + s.sizeLie)
	if s.openSize {
		size = sizeUnknown
	}
	dataChunk := append(append([]byte("data"), le32(size)...), data...)
	if len(data)%2 == 1 {
		dataChunk = append(dataChunk, 0)
	}
	if s.dataBefore {
		body.Write(dataChunk)
	}
	body.Write(chunk("fmt ", fmtChunk))
	for _, e := range s.extra {
		body.Write(e)
	}
	if !s.dataBefore {
		body.Write(dataChunk)
	}
	for _, e := range s.trailer {
		body.Write(e)
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	out.Write(le32(uint32(body.Len())))
	out.Write(body.Bytes())
	return out.Bytes()
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func clampInt(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// talk is a stretch of one speaker's "speech" in a synthetic meeting.
type talk struct {
	channel    int     // 0-based; -1 for every channel
	start, end float64 // seconds
	freq       float64 // Hz of the voice's tone
}

// synthMeeting returns turns of tone bursts, one speaker per channel when
// channels > 1, separated by silences of 0.4 to 1.5 s, filling seconds.
func synthMeeting(seconds float64, channels int, seed uint64) []talk {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	var turns []talk
	t := 0.5
	for t < seconds-1 {
		d := 1 + rng.Float64()*6
		end := math.Min(t+d, seconds-0.5)
		ch := len(turns) % max(channels, 1)
		turns = append(turns, talk{channel: ch, start: t, end: end, freq: 200 + float64(len(turns)%23)*100})
		t = end + 0.4 + rng.Float64()*1.1
	}
	return turns
}

// render returns gen for buildWAV that plays turns at rate with a little
// background noise.
func render(turns []talk, rate int, noise float64) func(i, c int) float64 {
	rng := rand.New(rand.NewPCG(7, 8))
	k := 0
	return func(i, c int) float64 {
		t := float64(i) / float64(rate)
		for k < len(turns) && turns[k].end < t {
			k++
		}
		v := noise * (rng.Float64()*2 - 1)
		if k < len(turns) && t >= turns[k].start && (turns[k].channel == c || turns[k].channel < 0) {
			v += 0.5 * math.Sin(2*math.Pi*turns[k].freq*t)
		}
		return v
	}
}

// streamWAV is an io.Reader of a long synthetic WAV file generated on the
// fly, so that tests and benchmarks can feed hours of audio without holding
// it: 24-bit PCM with bursts of tone on alternating channels.
type streamWAV struct {
	header   []byte
	frames   int64
	channels int
	rate     int
	pos      int64 // frames generated
	buf      []byte
	phase    []uint32 // per channel, in 1/2^32 of a cycle
	off      int
	table    []int32 // one cycle of a sine at 0.4 of full scale
}

func newStreamWAV(seconds float64, rate, channels int) *streamWAV {
	frames := int64(seconds * float64(rate))
	dataBytes := frames * int64(channels) * 3
	h := buildWAV(wavSpec{tag: wavPCM, channels: channels, rate: rate, bits: 24}, 0, nil)
	// Patch the sizes for the data that will follow.
	binary.LittleEndian.PutUint32(h[4:], uint32(int64(len(h))-8+dataBytes))
	binary.LittleEndian.PutUint32(h[len(h)-4:], uint32(dataBytes))
	table := make([]int32, 1<<12)
	for i := range table {
		table[i] = int32(0.4 * (1 << 23) * math.Sin(2*math.Pi*float64(i)/float64(len(table))))
	}
	return &streamWAV{header: h, frames: frames, channels: channels, rate: rate, phase: make([]uint32, channels), table: table}
}

func (s *streamWAV) Read(p []byte) (int, error) {
	if len(s.header) > 0 {
		n := copy(p, s.header)
		s.header = s.header[n:]
		return n, nil
	}
	if s.off == len(s.buf) {
		if s.pos >= s.frames {
			return 0, io.EOF
		}
		s.fill()
	}
	n := copy(p, s.buf[s.off:])
	s.off += n
	return n, nil
}

// fill generates the next block: each channel talks for 3 s in turn, with
// 1 s of silence between turns.
func (s *streamWAV) fill() {
	const block = 4800
	n := int(min(block, s.frames-s.pos))
	if cap(s.buf) < n*s.channels*3 {
		s.buf = make([]byte, n*s.channels*3)
	}
	s.buf = s.buf[:n*s.channels*3]
	s.off = 0
	for i := 0; i < n; i++ {
		frame := s.pos + int64(i)
		turn := int(frame / int64(4*s.rate))
		speaking := frame-int64(turn*4*s.rate) < int64(3*s.rate)
		for c := 0; c < s.channels; c++ {
			var v int32
			if speaking && turn%s.channels == c {
				f := 300 + float64(turn%7)*150
				s.phase[c] += uint32(f / float64(s.rate) * (1 << 32))
				v = s.table[s.phase[c]>>20]
			}
			b := s.buf[(i*s.channels+c)*3:]
			b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16)
		}
	}
	s.pos += int64(n)
}
