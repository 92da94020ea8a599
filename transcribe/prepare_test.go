package transcribe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-audio/wav"
	"github.com/harkworks/hark"
)

// readChunk decodes a chunk file with go-audio/wav, an independent WAV
// reader, and checks that it is 16 kHz mono 16-bit PCM.
func readChunk(t testing.TB, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := wav.NewDecoder(bytes.NewReader(data))
	buf, err := d.FullPCMBuffer()
	if err != nil {
		t.Fatalf("%s: go-audio/wav cannot read it: %v", path, err)
	}
	if d.SampleRate != ChunkRate || d.NumChans != 1 || d.BitDepth != 16 || d.WavAudioFormat != 1 {
		t.Fatalf("%s: %d Hz, %d channels, %d bits, format %d; want 16 kHz mono 16-bit PCM", path, d.SampleRate, d.NumChans, d.BitDepth, d.WavAudioFormat)
	}
	if int64(len(data)) != int64(44+2*len(buf.Data)) {
		t.Fatalf("%s: %d bytes for %d samples", path, len(data), len(buf.Data))
	}
	return buf.Data
}

func TestPrepareChunksAtSilences(t *testing.T) {
	const seconds = 120.0
	turns := synthMeeting(seconds, 1, 1)
	data := buildWAV(wavSpec{tag: wavPCM, channels: 2, rate: 48000, bits: 24}, int(seconds*48000), render(turns, 48000, 0.001))
	maxBytes := int64(44 + 2*ChunkRate*20) // 20 s chunks
	p, err := Prepare(context.Background(), "m.wav", bytes.NewReader(data), PrepareConfig{MaxChunkBytes: maxBytes, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Remove()
	if p.Audio != (hark.AudioInfo{Format: "pcm24", Channels: 2, SampleRate: 48000, DurationSeconds: seconds}) {
		t.Errorf("audio %+v", p.Audio)
	}
	if len(p.Tracks) != 1 || p.Tracks[0].Channel != 0 {
		t.Fatalf("tracks %+v, want one downmix", p.Tracks)
	}
	chunks := p.Tracks[0].Chunks
	if len(chunks) < 6 {
		t.Fatalf("%d chunks for %v s in 20 s chunks", len(chunks), seconds)
	}
	var at float64
	for i, c := range chunks {
		if c.Bytes > maxBytes {
			t.Errorf("chunk %d: %d bytes, over the %d limit", i, c.Bytes, maxBytes)
		}
		if math.Abs(c.Start-at) > 1e-9 {
			t.Errorf("chunk %d starts at %.3f s, want %.3f s (chunks must be contiguous)", i, c.Start, at)
		}
		at = c.Start + c.Duration
		samples := readChunk(t, c.Path)
		if got := float64(len(samples)) / ChunkRate; math.Abs(got-max(c.Duration, 1)) > 1e-9 {
			t.Errorf("chunk %d: file holds %.3f s, chunk says %.3f s", i, got, c.Duration)
		}
		if c.Voiced <= 0 || c.Voiced >= 1 {
			t.Errorf("chunk %d: voiced fraction %.2f", i, c.Voiced)
		}
		if i == len(chunks)-1 {
			continue
		}
		// Every cut must fall in a silence between turns.
		cut := c.Start + c.Duration
		for _, tk := range turns {
			if cut > tk.start+0.02 && cut < tk.end-0.02 {
				t.Errorf("chunk %d ends at %.3f s, inside the turn %.3f–%.3f s", i, cut, tk.start, tk.end)
			}
		}
	}
	if math.Abs(at-seconds) > 1e-9 {
		t.Errorf("chunks cover %.3f s of %v s", at, seconds)
	}
}

func TestPrepareSplit(t *testing.T) {
	const seconds = 30.0
	turns := synthMeeting(seconds, 2, 2)
	data := buildWAV(wavSpec{tag: wavPCM, channels: 2, rate: 44100, bits: 16}, int(seconds*44100), render(turns, 44100, 0))
	p, err := Prepare(context.Background(), "m.wav", bytes.NewReader(data), PrepareConfig{Split: true, MaxChunkDuration: 10 * time.Second, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Remove()
	if len(p.Tracks) != 2 || p.Tracks[0].Channel != 1 || p.Tracks[1].Channel != 2 {
		t.Fatalf("tracks %+v, want channels 1 and 2", p.Tracks)
	}
	for _, tr := range p.Tracks {
		// Each track is loud during its own turns and silent in the others'.
		var samples []int
		for _, c := range tr.Chunks {
			if c.Duration > 10 {
				t.Errorf("channel %d: a %.1f s chunk, over the 10 s limit", tr.Channel, c.Duration)
			}
			s := readChunk(t, c.Path)
			samples = append(samples, s[:int(c.Duration*ChunkRate)]...)
		}
		for _, tk := range turns {
			mid := int((tk.start + tk.end) / 2 * ChunkRate)
			lvl := rmsInt(samples[mid-800 : mid+800])
			mine := tk.channel == tr.Channel-1
			if mine && lvl < 0.2 || !mine && lvl > 1e-3 {
				t.Errorf("channel %d at %.2f s (turn on channel %d): level %.4f", tr.Channel, (tk.start+tk.end)/2, tk.channel+1, lvl)
			}
		}
	}
}

func rmsInt(x []int) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s/float64(len(x))) / 32768
}

// TestPrepareFormats feeds a 1 kHz tone in every format hark reads and
// checks the level and length of what comes out.
func TestPrepareFormats(t *testing.T) {
	sine := func(rate int) func(i, c int) float64 {
		return func(i, c int) float64 { return 0.5 * math.Sin(2*math.Pi*1000*float64(i)/float64(rate)) }
	}
	tests := []struct {
		name string
		spec wavSpec
	}{
		{"pcm8 mono 8k", wavSpec{tag: wavPCM, channels: 1, rate: 8000, bits: 8}},
		{"pcm16 mono 16k", wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16}},
		{"pcm16 stereo 22.05k", wavSpec{tag: wavPCM, channels: 2, rate: 22050, bits: 16}},
		{"pcm24 stereo 48k", wavSpec{tag: wavPCM, channels: 2, rate: 48000, bits: 24}},
		{"pcm32 mono 96k", wavSpec{tag: wavPCM, channels: 1, rate: 96000, bits: 32}},
		{"float32 stereo 44.1k", wavSpec{tag: wavFloat, channels: 2, rate: 44100, bits: 32}},
		{"float64 mono 32k", wavSpec{tag: wavFloat, channels: 1, rate: 32000, bits: 64}},
		{"extensible pcm24 6ch 48k", wavSpec{tag: wavExtensible, sub: wavPCM, channels: 6, rate: 48000, bits: 24}},
		{"extensible float32 4ch 192k", wavSpec{tag: wavExtensible, sub: wavFloat, channels: 4, rate: 192000, bits: 32}},
		{"pcm16 11.025k with LIST, bext and odd chunks", wavSpec{tag: wavPCM, channels: 1, rate: 11025, bits: 16,
			extra:   [][]byte{chunk("bext", make([]byte, 602)), chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00hark\x00")), chunk("junk", []byte("odd"))},
			trailer: [][]byte{chunk("id3 ", []byte("tail"))}}},
		{"pcm16 with an open data size", wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16, openSize: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames := tt.spec.rate * 2
			data := buildWAV(tt.spec, frames, sine(tt.spec.rate))
			p, err := Prepare(context.Background(), "f.wav", bytes.NewReader(data), PrepareConfig{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Remove()
			if p.Audio.DurationSeconds != 2 || p.Audio.Channels != tt.spec.channels || p.Audio.SampleRate != tt.spec.rate {
				t.Errorf("audio %+v", p.Audio)
			}
			c := p.Tracks[0].Chunks
			if len(c) != 1 || c[0].Duration != 2 {
				t.Fatalf("chunks %+v, want one of 2 s", c)
			}
			s := readChunk(t, c[0].Path)
			if lvl := rmsInt(s[8000:24000]); math.Abs(lvl-0.5/math.Sqrt2) > 0.01 {
				t.Errorf("tone level %.4f, want %.4f", lvl, 0.5/math.Sqrt2)
			}
		})
	}
}

func TestPrepareErrors(t *testing.T) {
	good := buildWAV(wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16}, 16000, func(i, c int) float64 { return 0 })
	tests := []struct {
		name string
		data []byte
		cfg  PrepareConfig
		want string
	}{
		{"truncated", good[:len(good)-5000], PrepareConfig{}, "is truncated: its header promises 0:01"},
		{"lying size", buildWAV(wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16, sizeLie: 1 << 20}, 16000, func(i, c int) float64 { return 0 }), PrepareConfig{}, "is truncated"},
		{"data before fmt", buildWAV(wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16, dataBefore: true}, 100, func(i, c int) float64 { return 0 }), PrepareConfig{}, "data before its fmt"},
		{"zero-length", buildWAV(wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16}, 0, nil), PrepareConfig{}, "no audio"},
		{"mp3 named wav", append([]byte("ID3\x03\x00"), make([]byte, 400)...), PrepareConfig{}, "is MP3 audio, not PCM WAV"},
		{"flac", append([]byte("fLaC"), make([]byte, 400)...), PrepareConfig{}, "FLAC audio"},
		{"mp3 in a wav container", buildWAV(wavSpec{tag: 0x55, channels: 1, rate: 16000, bits: 16}, 10, func(i, c int) float64 { return 0 }), PrepareConfig{}, "holds MP3 audio in a WAV container"},
		{"16-bit float", buildWAV(wavSpec{tag: wavFloat, channels: 1, rate: 16000, bits: 16}, 10, func(i, c int) float64 { return 0 }), PrepareConfig{}, "16-bit float samples"},
		{"unknown extensible", func() []byte {
			b := buildWAV(wavSpec{tag: wavExtensible, sub: wavPCM, channels: 1, rate: 16000, bits: 16}, 10, func(i, c int) float64 { return 0 })
			b[bytes.Index(b, extensibleTail)+13] ^= 0xFF
			return b
		}(), PrepareConfig{}, "sub-format"},
		{"tiny chunk limit", good, PrepareConfig{MaxChunkBytes: 1000}, "at least one second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Dir = t.TempDir()
			_, err := Prepare(context.Background(), "meeting.wav", bytes.NewReader(tt.data), tt.cfg)
			if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v (%s), want EINVALID containing %q", err, hark.ErrorCode(err), tt.want)
			}
			if tt.name != "tiny chunk limit" && !strings.Contains(err.Error(), "meeting.wav") {
				t.Errorf("error %q does not name the file", err)
			}
			if entries, _ := os.ReadDir(tt.cfg.Dir); len(entries) != 0 {
				t.Errorf("left %d files behind", len(entries))
			}
		})
	}
}

func TestPrepareCompressedHint(t *testing.T) {
	mp3 := append([]byte("ID3\x03\x00"), make([]byte, 100)...)
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	_, err := Prepare(context.Background(), "talk.mp3", bytes.NewReader(mp3), PrepareConfig{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "install ffmpeg") || !strings.Contains(err.Error(), "ffmpeg -i talk.mp3 -ar 16000 -c:a pcm_s16le talk.wav") {
		t.Errorf("without ffmpeg: %v", err)
	}
	if err := os.WriteFile(dir+"/ffmpeg", []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = Prepare(context.Background(), "my talk.wav", bytes.NewReader(mp3), PrepareConfig{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "which is installed here") || !strings.Contains(err.Error(), "ffmpeg -i 'my talk.wav' -ar 16000 -c:a pcm_s16le 'my talk-pcm.wav'") {
		t.Errorf("with ffmpeg: %v", err)
	}
}

func TestPrepareCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	_, err := Prepare(ctx, "long.wav", newStreamWAV(600, 48000, 2), PrepareConfig{Dir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d files behind", len(entries))
	}
}

// BenchmarkPrepare measures decode → 16 kHz mono → chunks on two minutes of
// 48 kHz stereo 24-bit audio held in memory. See bench/audio for the
// two-hour comparison with sox.
func BenchmarkPrepare(b *testing.B) {
	const seconds = 120
	data, err := io.ReadAll(newStreamWAV(seconds, 48000, 2))
	if err != nil {
		b.Fatal(err)
	}
	for _, split := range []bool{false, true} {
		name := "downmix"
		if split {
			name = "split"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				p, err := Prepare(context.Background(), "bench.wav", bytes.NewReader(data), PrepareConfig{Split: split, Dir: dir})
				if err != nil {
					b.Fatal(err)
				}
				p.Remove()
			}
			b.ReportMetric(seconds*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
		})
	}
}

// Listen hears the downmixed 16 kHz track as the chunks hold it, sample
// for sample, in the same pass; it is not called for a split.
func TestPrepareListen(t *testing.T) {
	const seconds = 30.0
	turns := synthMeeting(seconds, 1, 1)
	data := buildWAV(wavSpec{tag: wavPCM, channels: 2, rate: 44100, bits: 16}, int(seconds*44100), render(turns, 44100, 0.001))
	var heard []float32
	listen := func(x []float32) { heard = append(heard, x...) }
	p, err := Prepare(context.Background(), "m.wav", bytes.NewReader(data),
		PrepareConfig{MaxChunkBytes: 44 + 2*ChunkRate*8, Dir: t.TempDir(), Listen: listen})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Remove()
	if want := int(seconds * ChunkRate); len(heard) < want-2 || len(heard) > want+2 {
		t.Fatalf("heard %d samples, want %d", len(heard), want)
	}
	at := 0
	for _, c := range p.Tracks[0].Chunks {
		samples := readChunk(t, c.Path)
		n := int(math.Round(c.Duration * ChunkRate))
		for i := range n {
			want := int(math.Round(float64(heard[at+i]) * 32767))
			if d := samples[i] - want; d < -1 || d > 1 {
				t.Fatalf("sample %d: chunk holds %d, the listener heard %d", at+i, samples[i], want)
			}
		}
		at += n
	}
	if at != len(heard) {
		t.Errorf("chunks hold %d samples, the listener heard %d", at, len(heard))
	}

	heard = nil
	p2, err := Prepare(context.Background(), "m.wav", bytes.NewReader(data), PrepareConfig{Split: true, Dir: t.TempDir(), Listen: listen})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Remove()
	if len(heard) != 0 {
		t.Errorf("a split recording was listened to: %d samples", len(heard))
	}
}
