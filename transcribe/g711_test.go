package transcribe

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/harkworks/hark"
)

// needTool returns the path of an outside program the test needs. It skips
// the test when the program is missing, except under CI, where .ci/run
// installs it and a missing one is a failure.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%s is not installed (CI is set; .ci/run installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// TestG711Tables checks the decode tables against values from ITU-T G.711.
func TestG711Tables(t *testing.T) {
	for _, tt := range []struct {
		table *[256]float32
		b     byte
		want  int
	}{
		{&muLaw, 0xFF, 0}, {&muLaw, 0x7F, 0}, {&muLaw, 0x80, 32124}, {&muLaw, 0x00, -32124}, {&muLaw, 0xFE, 8}, {&muLaw, 0x7E, -8},
		{&aLaw, 0xD5, 8}, {&aLaw, 0x55, -8}, {&aLaw, 0xAA, 32256}, {&aLaw, 0x2A, -32256},
	} {
		if got := tt.table[tt.b] * 32768; got != float32(tt.want) {
			t.Errorf("byte %#02x decodes to %v, want %d", tt.b, got, tt.want)
		}
	}
}

// TestWAVReaderMatchesSox has sox encode a sweep as µ-law, A-law and 8-bit
// unsigned WAV, plain and WAVE_FORMAT_EXTENSIBLE, and as RF64, and checks
// that WAVReader decodes each to what sox itself decodes it to.
func TestWAVReaderMatchesSox(t *testing.T) {
	sox := needTool(t, "sox")
	dir := t.TempDir()
	for _, tt := range []struct {
		name   string
		args   []string // the output's options
		format string
	}{
		{"ulaw", []string{"-e", "u-law", "-b", "8"}, "ulaw"},
		{"alaw", []string{"-e", "a-law", "-b", "8"}, "alaw"},
		{"u8", []string{"-e", "unsigned-integer", "-b", "8"}, "pcm8"},
		{"alaw-stereo", []string{"-e", "a-law", "-b", "8", "-c", "2"}, "alaw"},
		{"s16-rf64", []string{"-e", "signed-integer", "-b", "16"}, "pcm16"}, // rewritten as RF64 below
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := filepath.Join(dir, tt.name+".wav")
			args := append([]string{"-n", "-r", "8000"}, tt.args...)
			args = append(args, src, "synth", "1.5", "sine", "200:3000", "vol", "0.8")
			if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
				t.Fatalf("sox: %v: %s", err, out)
			}
			ref := filepath.Join(dir, tt.name+".raw")
			if out, err := exec.Command(sox, src, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", ref).CombinedOutput(); err != nil {
				t.Fatalf("sox: %v: %s", err, out)
			}
			raw, _ := os.ReadFile(ref)
			data, _ := os.ReadFile(src)
			if tt.name == "s16-rf64" {
				data = rf64(data)
			}
			r, err := NewWAVReader(tt.name+".wav", bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			info := r.Info()
			if info.Format != tt.format || info.SampleRate != 8000 || info.DurationSeconds != 1.5 {
				t.Fatalf("info %+v, want %s at 8 kHz, 1.5 s", info, tt.format)
			}
			got := make([]float32, len(raw)/2)
			n, err := r.ReadFrames(got)
			if err != nil || n*info.Channels != len(got) {
				t.Fatalf("%d frames, %v; want %d samples", n, err, len(got))
			}
			for i := range got {
				want := float32(int16(binary.LittleEndian.Uint16(raw[2*i:]))) / 32768
				if got[i] != want {
					t.Fatalf("sample %d: %v, sox says %v", i, got[i], want)
				}
			}
			if _, err := r.ReadFrames(got); err != io.EOF {
				t.Errorf("after the end: %v, want io.EOF", err)
			}
			// Cut short, the same file is refused as truncated.
			_, err = InspectWAV("cut.wav", bytes.NewReader(data[:len(data)*2/3]))
			if hark.ErrorCode(err) != hark.EINVALID || !bytes.Contains([]byte(err.Error()), []byte("truncated")) {
				t.Errorf("truncated: %v, want EINVALID saying truncated", err)
			}
		})
	}
}

// TestWAVReaderExtensible reads the same samples from plain and
// WAVE_FORMAT_EXTENSIBLE files of each format and from ffmpeg's RF64 µ-law.
func TestWAVReaderExtensible(t *testing.T) {
	gen := func(i, c int) float64 { return float64((i*37+c*11)%255-127) / 128 }
	for _, tt := range []struct {
		sub    uint16
		bits   int
		format string
	}{
		{wavMuLaw, 8, "ulaw"}, {wavALaw, 8, "alaw"}, {wavPCM, 8, "pcm8"}, {wavPCM, 16, "pcm16"}, {wavFloat, 32, "float32"},
	} {
		read := func(data []byte) ([]float32, hark.AudioInfo) {
			r, err := NewWAVReader("x.wav", bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", tt.format, err)
			}
			buf := make([]float32, 2*300)
			n, err := r.ReadFrames(buf)
			if err != nil || n != 300 {
				t.Fatalf("%s: %d frames, %v", tt.format, n, err)
			}
			return buf, r.Info()
		}
		plain, pi := read(buildWAV(wavSpec{tag: tt.sub, channels: 2, rate: 8000, bits: tt.bits}, 300, gen))
		ext, ei := read(buildWAV(wavSpec{tag: wavExtensible, sub: tt.sub, channels: 2, rate: 8000, bits: tt.bits}, 300, gen))
		if pi != ei || pi.Format != tt.format {
			t.Errorf("%s: plain %+v, extensible %+v", tt.format, pi, ei)
		}
		for i := range plain {
			if plain[i] != ext[i] {
				t.Fatalf("%s: sample %d: plain %v, extensible %v", tt.format, i, plain[i], ext[i])
			}
		}
	}
	t.Run("ffmpeg rf64 ulaw", func(t *testing.T) {
		ffmpeg := needTool(t, "ffmpeg")
		p := filepath.Join(t.TempDir(), "big.wav")
		if out, err := exec.Command(ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
			"-ar", "8000", "-c:a", "pcm_mulaw", "-rf64", "always", p).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v: %s", err, out)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		info, err := InspectWAV("big.wav", f)
		if err != nil {
			t.Fatal(err)
		}
		if info != (hark.AudioInfo{Format: "ulaw", Channels: 1, SampleRate: 8000, DurationSeconds: 2}) {
			t.Errorf("got %+v", info)
		}
	})
}
