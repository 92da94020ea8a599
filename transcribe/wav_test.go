package transcribe

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-audio/wav"
	"github.com/harkworks/hark"
)

// makeWAV builds a WAV file in memory.
func makeWAV(tag uint16, channels, rate, bits int, frames int, extra ...[]byte) []byte {
	var b bytes.Buffer
	blockAlign := channels * bits / 8
	data := make([]byte, frames*blockAlign)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var chunks bytes.Buffer
	for _, e := range extra {
		chunks.Write(e)
	}
	fmtChunk := make([]byte, 16)
	binary.LittleEndian.PutUint16(fmtChunk[0:], tag)
	binary.LittleEndian.PutUint16(fmtChunk[2:], uint16(channels))
	binary.LittleEndian.PutUint32(fmtChunk[4:], uint32(rate))
	binary.LittleEndian.PutUint32(fmtChunk[8:], uint32(rate*blockAlign))
	binary.LittleEndian.PutUint16(fmtChunk[12:], uint16(blockAlign))
	binary.LittleEndian.PutUint16(fmtChunk[14:], uint16(bits))
	body := new(bytes.Buffer)
	body.WriteString("WAVE")
	body.WriteString("fmt ")
	binary.Write(body, binary.LittleEndian, uint32(16))
	body.Write(fmtChunk)
	body.Write(chunks.Bytes())
	body.WriteString("data")
	binary.Write(body, binary.LittleEndian, uint32(len(data)))
	body.Write(data)
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(body.Len()))
	b.Write(body.Bytes())
	return b.Bytes()
}

func chunk(id string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString(id)
	binary.Write(&b, binary.LittleEndian, uint32(len(payload)))
	b.Write(payload)
	if len(payload)%2 == 1 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func TestInspectWAV(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		format   string
		channels int
		rate     int
		duration float64
	}{
		{"pcm16 mono", makeWAV(1, 1, 16000, 16, 16000), "pcm16", 1, 16000, 1},
		{"pcm24 stereo 48k", makeWAV(1, 2, 48000, 24, 24000), "pcm24", 2, 48000, 0.5},
		{"float32", makeWAV(3, 1, 44100, 32, 44100), "float32", 1, 44100, 1},
		{"pcm8 with odd LIST chunk", makeWAV(1, 1, 8000, 8, 8000, chunk("LIST", []byte("INFOabc"))), "pcm8", 1, 8000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := InspectWAV("x.wav", bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != tt.format || info.Channels != tt.channels || info.SampleRate != tt.rate || info.DurationSeconds != tt.duration {
				t.Errorf("got %+v", info)
			}
		})
	}
}

func TestInspectWAVErrors(t *testing.T) {
	good := makeWAV(1, 1, 16000, 16, 1600)
	noData := makeWAV(1, 1, 16000, 16, 0)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "is empty"},
		{"text", []byte("hello, this is not audio at all"), "not a WAV file"},
		{"mp3", append([]byte("ID3\x04\x00"), make([]byte, 100)...), "MP3 audio"},
		{"ogg", append([]byte("OggS"), make([]byte, 100)...), "Ogg audio"},
		{"flac", append([]byte("fLaC"), make([]byte, 100)...), "FLAC audio"},
		{"m4a", append([]byte("\x00\x00\x00\x20ftypM4A "), make([]byte, 100)...), "M4A/MP4 audio"},
		{"truncated data", good[:len(good)-1000], "truncated"},
		{"truncated header", good[:30], "truncated"},
		{"zero-length audio", noData, "no audio"},
		{"mu-law truncated", makeWAV(7, 1, 8000, 8, 1000)[:500], "truncated"},
		{"ima adpcm", makeWAV(0x11, 1, 8000, 4, 100), "does not read"},
		{"bad rate", makeWAV(1, 1, 4000, 16, 100), "sample rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := InspectWAV("meeting.wav", bytes.NewReader(tt.data))
			if err == nil {
				t.Fatal("no error")
			}
			if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "meeting.wav") {
				t.Errorf("error %q (%s), want EINVALID containing %q and the file name", err, hark.ErrorCode(err), tt.want)
			}
		})
	}
}

func TestInspectTestdataMeetings(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "meetings", "*.wav"))
	if len(files) < 3 {
		t.Fatalf("found %d testdata meetings, want at least 3", len(files))
	}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		info, err := InspectWAV(filepath.Base(p), f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if info.Channels != 2 || info.SampleRate != 16000 || info.DurationSeconds < 30 {
			t.Errorf("%s: %+v, want a stereo 16 kHz meeting", p, info)
		}
	}
}

func FuzzInspectWAV(f *testing.F) {
	f.Add(makeWAV(1, 1, 16000, 16, 10))
	f.Add(makeWAV(1, 2, 48000, 24, 10, chunk("bext", []byte("x"))))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := InspectWAV("f.wav", bytes.NewReader(data))
		if err != nil {
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Fatalf("error of kind %s: %v", hark.ErrorCode(err), err)
			}
			return
		}
		if info.DurationSeconds <= 0 || info.Channels < 1 {
			t.Fatalf("accepted a WAV with %+v", info)
		}
	})
}

// rf64 rewrites a plain 16-byte-fmt WAV from buildWAV as RF64, whose sizes
// live in a ds64 chunk.
func rf64(plain []byte) []byte {
	fmtChunk, data := plain[12:36], plain[44:]
	ds64 := make([]byte, 28)
	binary.LittleEndian.PutUint64(ds64[0:], uint64(len(plain)-8+36))
	binary.LittleEndian.PutUint64(ds64[8:], uint64(len(data)))
	var b bytes.Buffer
	b.WriteString("RF64\xff\xff\xff\xffWAVE")
	b.Write(chunk("ds64", ds64))
	b.Write(fmtChunk)
	b.WriteString("data\xff\xff\xff\xff")
	b.Write(data)
	return b.Bytes()
}

func TestInspectRF64(t *testing.T) {
	data := rf64(buildWAV(wavSpec{tag: wavPCM, channels: 2, rate: 48000, bits: 24}, 48000, func(i, c int) float64 { return 0 }))
	info, err := InspectWAV("big.wav", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if info != (hark.AudioInfo{Format: "pcm24", Channels: 2, SampleRate: 48000, DurationSeconds: 1}) {
		t.Errorf("got %+v", info)
	}
}

// TestWAVReaderMatchesGoAudio decodes the same integer PCM files with
// WAVReader and with go-audio/wav, an independent decoder.
func TestWAVReaderMatchesGoAudio(t *testing.T) {
	for _, bits := range []int{8, 16, 24, 32} {
		data := buildWAV(wavSpec{tag: wavPCM, channels: 2, rate: 44100, bits: bits}, 1000, func(i, c int) float64 {
			return math.Sin(float64(i*(c+1)) * 0.01)
		})
		d := wav.NewDecoder(bytes.NewReader(data))
		ref, err := d.FullPCMBuffer()
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewWAVReader("x.wav", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, 2*1000)
		n, err := r.ReadFrames(got)
		if err != nil || n != 1000 {
			t.Fatalf("%d bits: %d frames, %v", bits, n, err)
		}
		scale := float64(int64(1) << (bits - 1))
		for i, v := range ref.Data {
			want := float64(v) / scale
			if bits == 8 {
				want = float64(v-128) / 128
			}
			if float64(got[i]) != float64(float32(want)) {
				t.Fatalf("%d bits: sample %d is %v, go-audio/wav says %v", bits, i, got[i], want)
			}
		}
		if _, err := r.ReadFrames(got); err != io.EOF {
			t.Errorf("%d bits: after the end: %v, want io.EOF", bits, err)
		}
	}
}

// FuzzWAVReader reads whatever the fuzzer makes to the end. Whatever the
// input, the reader must not panic, must fail only with EINVALID, and must
// deliver samples in [-1, 1] and no more frames than the header promises.
func FuzzWAVReader(f *testing.F) {
	zero := func(i, c int) float64 { return 0.25 }
	for _, s := range []wavSpec{
		{tag: wavPCM, channels: 1, rate: 8000, bits: 8},
		{tag: wavPCM, channels: 2, rate: 44100, bits: 16, extra: [][]byte{chunk("LIST", []byte("INFOodd"))}},
		{tag: wavPCM, channels: 2, rate: 48000, bits: 24, trailer: [][]byte{chunk("id3 ", []byte("x"))}},
		{tag: wavPCM, channels: 1, rate: 96000, bits: 32, openSize: true},
		{tag: wavFloat, channels: 1, rate: 16000, bits: 32},
		{tag: wavFloat, channels: 2, rate: 22050, bits: 64},
		{tag: wavExtensible, sub: wavPCM, channels: 6, rate: 48000, bits: 24},
		{tag: wavExtensible, sub: wavFloat, channels: 2, rate: 192000, bits: 32},
		{tag: wavPCM, channels: 1, rate: 16000, bits: 16, sizeLie: 100},
		{tag: 0x55, channels: 1, rate: 16000, bits: 16},
		{tag: wavMuLaw, channels: 1, rate: 8000, bits: 8},
		{tag: wavALaw, channels: 2, rate: 8000, bits: 8},
		{tag: wavExtensible, sub: wavMuLaw, channels: 1, rate: 8000, bits: 8},
		{tag: wavExtensible, sub: wavALaw, channels: 1, rate: 8000, bits: 8},
	} {
		f.Add(buildWAV(s, 7, zero))
	}
	f.Add(rf64(buildWAV(wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16}, 5, zero)))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Add([]byte("ID3\x03\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewWAVReader("f.wav", bytes.NewReader(data))
		if err != nil {
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Fatalf("error of kind %s: %v", hark.ErrorCode(err), err)
			}
			return
		}
		info := r.Info()
		buf := make([]float32, 3*info.Channels+1) // an odd size, to cross block edges
		var frames int64
		for {
			n, err := r.ReadFrames(buf)
			frames += int64(n)
			for _, v := range buf[:n*info.Channels] {
				if !(v >= -1 && v <= 1) && info.Format[0] == 'p' || v != v {
					t.Fatalf("sample %v out of range in %s", v, info.Format)
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				if hark.ErrorCode(err) != hark.EINVALID {
					t.Fatalf("error of kind %s: %v", hark.ErrorCode(err), err)
				}
				return
			}
			if n == 0 {
				t.Fatal("no frames and no error")
			}
		}
		if frames == 0 || frames != r.Frames() {
			t.Fatalf("%d frames read, reader counts %d", frames, r.Frames())
		}
		if info.DurationSeconds > 0 && float64(frames)/float64(info.SampleRate) > info.DurationSeconds+1e-9 {
			t.Fatalf("%d frames, more than the header's %.3f s", frames, info.DurationSeconds)
		}
	})
}
