package transcribe

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"testing"

	"github.com/harkworks/hark"
)

// PCMWAV gives a PCM WAV's own bytes back, and any other recording decoded
// as a 16-bit PCM WAV of the same rate, channels and length whose header
// says its sizes (when the source's does) and whose samples are the
// source's.
func TestPCMWAV(t *testing.T) {
	dir := t.TempDir()
	pcm := ffmpegMake(t, dir, "plain.wav", 2, "-c:a", "pcm_s24le")
	for _, tt := range []struct {
		name  string
		data  []byte
		rate  int
		sized bool // the output's header says its length
	}{
		{"ulaw.wav", ffmpegMake(t, dir, "ulaw.wav", 2, "-ar", "8000", "-c:a", "pcm_mulaw"), 8000, true},
		{"call.mp3", ffmpegMake(t, dir, "call.mp3", 2, "-c:a", "libmp3lame", "-b:a", "64k"), 16000, false},
		{"memo.m4a", ffmpegMake(t, dir, "memo.m4a", 2, "-c:a", "aac"), 16000, false},
		{"archive.flac", ffmpegMake(t, dir, "archive.flac", 2, "-c:a", "flac"), 16000, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := PCMWAV(context.Background(), tt.name, bytes.NewReader(tt.data), "", dir)
			if err != nil {
				t.Fatal(err)
			}
			out, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(out) < 44 || string(out[0:4]) != "RIFF" || binary.LittleEndian.Uint16(out[20:]) != wavPCM || binary.LittleEndian.Uint16(out[34:]) != 16 {
				t.Fatalf("not a 16-bit PCM WAV: % x", out[:min(len(out), 44)])
			}
			if data := binary.LittleEndian.Uint32(out[40:]); tt.sized && int(data) != len(out)-44 {
				t.Errorf("the header says %d bytes of audio, %d follow", data, len(out)-44)
			}
			w, err := NewWAVReader(tt.name, bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			got := readAllFrames(t, w)
			if info := w.Info(); info.SampleRate != tt.rate || info.Channels != 1 {
				t.Errorf("%d Hz, %d channels; want %d Hz mono", info.SampleRate, info.Channels, tt.rate)
			}
			src, err := OpenAudio(context.Background(), tt.name, bytes.NewReader(tt.data), "", dir)
			if err != nil {
				t.Fatal(err)
			}
			sw, err := NewWAVReader(tt.name, src)
			if err != nil {
				t.Fatal(err)
			}
			want := readAllFrames(t, sw)
			src.Close()
			if len(got) != len(want) || len(got) < tt.rate {
				t.Fatalf("%d samples, the source decodes to %d", len(got), len(want))
			}
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1.0/32767 {
					t.Fatalf("sample %d is %v, the source's %v", i, got[i], want[i])
				}
			}
		})
	}

	rc, err := PCMWAV(context.Background(), "plain.wav", bytes.NewReader(pcm), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(out, pcm) {
		t.Errorf("a PCM WAV comes back as %d bytes, not its own %d", len(out), len(pcm))
	}

	if _, err := PCMWAV(context.Background(), "notes.txt", bytes.NewReader([]byte("minutes of the meeting, not audio at all")), "", dir); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("text: %v, want EINVALID", err)
	}
}

func readAllFrames(t *testing.T, w *WAVReader) []float32 {
	t.Helper()
	var all []float32
	buf := make([]float32, 4096*w.Info().Channels)
	for {
		n, err := w.ReadFrames(buf)
		all = append(all, buf[:n*w.Info().Channels]...)
		if err == io.EOF {
			return all
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
