// Command audio writes the synthetic meeting recording that the audio
// preparation benchmark reads: by default two hours of 48 kHz stereo 24-bit
// PCM, one "speaker" per channel taking turns of syllable-like tone bursts,
// with pauses between turns, some overlap, and quiet background noise on
// both channels. The output is the same on every run.
//
//	go run ./bench/audio -o /tmp/meeting-2h.wav
//
// bench/audio/run.sh generates the file and runs BenchmarkPrepareVsSox on it.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
)

func main() {
	out := flag.String("o", "", "output WAV file (required)")
	seconds := flag.Float64("seconds", 7200, "length in seconds")
	rate := flag.Int("rate", 48000, "sample rate in Hz")
	channels := flag.Int("channels", 2, "channels (one speaker on each)")
	flag.Parse()
	if *out == "" || *seconds <= 0 || *channels < 1 || *rate < 8000 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(*out, *seconds, *rate, *channels); err != nil {
		fmt.Fprintln(os.Stderr, "audio:", err)
		os.Exit(1)
	}
}

// write writes the recording as 24-bit PCM.
func write(path string, seconds float64, rate, channels int) error {
	frames := int64(seconds * float64(rate))
	data := frames * int64(channels) * 3
	if 36+data > math.MaxUint32 {
		return fmt.Errorf("%.0f s at %d Hz × %d channels is over 4 GB, more than a RIFF WAV holds", seconds, rate, channels)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	h := make([]byte, 0, 44)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(36+data))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint16(h, uint16(channels))
	h = binary.LittleEndian.AppendUint32(h, uint32(rate))
	h = binary.LittleEndian.AppendUint32(h, uint32(rate*channels*3))
	h = binary.LittleEndian.AppendUint16(h, uint16(channels*3))
	h = binary.LittleEndian.AppendUint16(h, 24)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(data))
	if _, err := w.Write(h); err != nil {
		return err
	}
	g := newGenerator(rate, channels)
	frame := make([]byte, channels*3)
	for i := int64(0); i < frames; i++ {
		for c := 0; c < channels; c++ {
			v := g.sample(i, c)
			frame[3*c], frame[3*c+1], frame[3*c+2] = byte(v), byte(v>>8), byte(v>>16)
		}
		if _, err := w.Write(frame); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// generator makes the samples: turns of 2–14 s taken by each channel in
// order, 0.3–2 s apart, with every seventh turn overlapping the previous
// one by a second. A turn is bursts of a voiced tone with harmonics at a
// syllable rate of about 4 per second.
type generator struct {
	rate     int
	channels int
	rng      uint64
	table    []float64 // one cycle of a voice-like wave
	phase    []uint32
	turns    []turn
	next     int
}

type turn struct {
	channel    int
	start, end int64 // frames
	pitch      float64
}

func newGenerator(rate, channels int) *generator {
	g := &generator{rate: rate, channels: channels, rng: 0x9E3779B97F4A7C15, phase: make([]uint32, channels)}
	g.table = make([]float64, 4096)
	for i := range g.table {
		x := 2 * math.Pi * float64(i) / float64(len(g.table))
		g.table[i] = (math.Sin(x) + 0.5*math.Sin(2*x) + 0.3*math.Sin(3*x) + 0.2*math.Sin(5*x)) / 2
	}
	return g
}

// rand returns a pseudo-random number in [0, 1) (xorshift64*).
func (g *generator) rand() float64 {
	g.rng ^= g.rng >> 12
	g.rng ^= g.rng << 25
	g.rng ^= g.rng >> 27
	return float64((g.rng*2685821657736338717)>>11) / (1 << 53)
}

// sample returns frame i of channel c as a 24-bit value.
func (g *generator) sample(i int64, c int) int32 {
	for len(g.turns) == 0 || g.turns[len(g.turns)-1].end < i+int64(g.rate)*3 {
		g.addTurn()
	}
	for len(g.turns) > 0 && g.turns[0].end < i {
		g.turns = g.turns[1:]
	}
	v := 0.0005 * (g.rand()*2 - 1) // background noise, about -66 dBFS
	for _, t := range g.turns {
		if t.channel != c || i < t.start || i >= t.end {
			continue
		}
		pos := float64(i-t.start) / float64(g.rate)
		env := math.Max(0, math.Sin(2*math.Pi*4*pos)) // syllables
		g.phase[c] += uint32(t.pitch / float64(g.rate) * (1 << 32))
		v += 0.45 * env * g.table[g.phase[c]>>20]
	}
	return int32(math.Max(-1, math.Min(1, v)) * (1<<23 - 1))
}

func (g *generator) addTurn() {
	start, ch := int64(g.rate/2), 0
	if n := len(g.turns); n > 0 {
		last := g.turns[n-1]
		ch = (last.channel + 1) % g.channels
		gap := int64((0.3 + 1.7*g.rand()) * float64(g.rate))
		start = last.end + gap
		if g.next%7 == 6 { // cross-talk: start a second before the last turn ends
			start = last.end - int64(g.rate)
		}
	}
	length := int64((2 + 12*g.rand()) * float64(g.rate))
	g.turns = append(g.turns, turn{channel: ch, start: start, end: start + length, pitch: 110 + 120*g.rand()})
	g.next++
}
