package transcribe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A two-hour MP3 through the preparation path, against ffmpeg alone
// converting it to WAV: the cost of decoding through ffmpeg and whether
// memory stays flat in the length. The MP3 (a synthetic 44.1 kHz stereo WAV
// encoded at 128 kbit/s) is made once, in HARK_BENCH_MP3 or the temporary
// directory:
//
//	go test -run '^$' -bench PrepareMP3VsFFmpeg -benchtime 3x ./transcribe/

// mp3Result is what TestPrepareAudioProcess reports to the benchmark.
type mp3Result struct {
	Chunks   int     `json:"chunks"`
	Seconds  float64 `json:"seconds"`
	GoPeakMB float64 `json:"go_peak_mb"` // the Go process's peak RSS (VmHWM)
	FFmpegMB float64 `json:"ffmpeg_mb"`  // the ffmpeg decoder's peak RSS
	Format   string  `json:"format"`
	Band     string  `json:"band"`
}

// TestPrepareAudioProcess is not a test: BenchmarkPrepareMP3VsFFmpeg runs
// the test binary with HARK_PREPARE_AUDIO set to a file, to open it with
// OpenAudio and prepare it in a process of its own.
func TestPrepareAudioProcess(t *testing.T) {
	file := os.Getenv("HARK_PREPARE_AUDIO")
	if file == "" {
		t.Skip("run by BenchmarkPrepareMP3VsFFmpeg")
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := OpenAudio(context.Background(), filepath.Base(file), f, "", "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(context.Background(), filepath.Base(file), a, PrepareConfig{Dir: os.Getenv("HARK_PREPARE_DIR")})
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Remove()
	res := mp3Result{Seconds: p.Audio.DurationSeconds, GoPeakMB: vmHWM(), Format: a.Format, Band: a.Band()}
	for _, tr := range p.Tracks {
		res.Chunks += len(tr.Chunks)
	}
	if a.dec != nil && a.dec.cmd.ProcessState != nil {
		res.FFmpegMB = float64(a.dec.cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
	}
	out, _ := json.Marshal(res)
	fmt.Printf("PREPARED %s\n", out)
}

// vmHWM returns this process's peak resident set in MB.
func vmHWM() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// benchMP3 returns a two-hour MP3, made once with ffmpeg from a synthetic
// WAV.
func benchMP3(b *testing.B, ffmpeg string) string {
	p := os.Getenv("HARK_BENCH_MP3")
	if p == "" {
		p = filepath.Join(os.TempDir(), "hark-bench-2h.mp3")
	}
	if st, err := os.Stat(p); err == nil && st.Size() > 100<<20 {
		return p
	}
	cmd := exec.Command(ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", "128k", p)
	cmd.Stdin = newStreamWAV(2*3600, 44100, 2)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("make the MP3: %v: %s", err, out)
	}
	return p
}

func BenchmarkPrepareMP3VsFFmpeg(b *testing.B) {
	ffmpeg := needTool(b, "ffmpeg")
	file := benchMP3(b, ffmpeg)
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	var harkT, ffT time.Duration
	var goRSS, decRSS, ffRSS float64
	var last mp3Result
	for b.Loop() {
		cmd := exec.Command(self, "-test.run=^TestPrepareAudioProcess$", "-test.v")
		cmd.Env = append(os.Environ(), "HARK_PREPARE_AUDIO="+file, "HARK_PREPARE_DIR="+dir)
		d, _, out := runMeasured(b, cmd)
		harkT += d
		i := bytes.Index(out, []byte("PREPARED "))
		if i < 0 {
			b.Fatalf("no result:\n%s", out)
		}
		line, _, _ := bytes.Cut(out[i+len("PREPARED "):], []byte("\n"))
		if err := json.Unmarshal(line, &last); err != nil {
			b.Fatal(err)
		}
		goRSS, decRSS = max(goRSS, last.GoPeakMB), max(decRSS, last.FFmpegMB)

		// ffmpeg alone: the same decode, to a WAV file at the native rate.
		wav := filepath.Join(dir, "ffmpeg.wav")
		d, rss, _ := runMeasured(b, exec.Command(ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", file, "-f", "wav", "-acodec", "pcm_s16le", wav))
		os.Remove(wav)
		ffT += d
		ffRSS = max(ffRSS, rss)
	}
	if last.Seconds < 7190 {
		b.Fatalf("prepared %.0f s, want two hours", last.Seconds)
	}
	b.ReportMetric(harkT.Seconds()/float64(b.N), "hark-s")
	b.ReportMetric(ffT.Seconds()/float64(b.N), "ffmpeg-s")
	b.ReportMetric(harkT.Seconds()/ffT.Seconds(), "hark/ffmpeg")
	b.ReportMetric(goRSS, "hark-go-peak-MB")
	b.ReportMetric(decRSS, "hark-ffmpeg-peak-MB")
	b.ReportMetric(ffRSS, "ffmpeg-alone-peak-MB")
	b.ReportMetric(float64(last.Chunks), "chunks")
}
