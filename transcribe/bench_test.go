package transcribe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// The audio preparation figure from the design brief: decode → 16 kHz mono
// → chunks at least as fast as sox doing the same conversion of the same
// file, with flat memory. BenchmarkPrepareVsSox measures both, each in a
// process of its own so that its peak memory can be read, and reports the
// ratio. bench/audio/run.sh generates a two-hour file and runs it:
//
//	HARK_BENCH_WAV=/tmp/meeting-2h.wav go test -run '^$' -bench PrepareVsSox -benchtime 3x ./transcribe/

// prepareResult is what TestPrepareProcess reports to the benchmark.
type prepareResult struct {
	Chunks  int     `json:"chunks"`
	Seconds float64 `json:"seconds"` // audio duration
}

// TestPrepareProcess is not a test: BenchmarkPrepareVsSox runs the test
// binary with HARK_PREPARE_PROCESS set to a WAV file, to prepare it in a
// process of its own.
func TestPrepareProcess(t *testing.T) {
	file := os.Getenv("HARK_PREPARE_PROCESS")
	if file == "" {
		t.Skip("run by BenchmarkPrepareVsSox")
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := Prepare(context.Background(), filepath.Base(file), f, PrepareConfig{Dir: os.Getenv("HARK_PREPARE_DIR"), Split: os.Getenv("HARK_PREPARE_SPLIT") != ""})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Remove()
	n := 0
	for _, tr := range p.Tracks {
		n += len(tr.Chunks)
	}
	out, _ := json.Marshal(prepareResult{Chunks: n, Seconds: p.Audio.DurationSeconds})
	fmt.Printf("PREPARED %s\n", out)
}

// runMeasured runs cmd and returns its wall time and peak RSS in MB.
func runMeasured(b *testing.B, cmd *exec.Cmd) (time.Duration, float64, []byte) {
	b.Helper()
	start := time.Now()
	out, err := cmd.Output()
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return elapsed, float64(ru.Maxrss) / 1024, out // Maxrss is in KiB on Linux
}

func BenchmarkPrepareVsSox(b *testing.B) {
	file := os.Getenv("HARK_BENCH_WAV")
	if file == "" {
		b.Skip("set HARK_BENCH_WAV to a WAV file; bench/audio/run.sh makes a two-hour one")
	}
	sox, err := exec.LookPath("sox")
	if err != nil {
		b.Skip("sox is not installed (apt-get install sox)")
	}
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	var hark, soxT time.Duration
	var harkRSS, soxRSS float64
	for b.Loop() {
		cmd := exec.Command(self, "-test.run=^TestPrepareProcess$", "-test.v")
		cmd.Env = append(os.Environ(), "HARK_PREPARE_PROCESS="+file, "HARK_PREPARE_DIR="+dir, "HARK_PREPARE_SPLIT="+os.Getenv("HARK_BENCH_SPLIT"))
		d, rss, _ := runMeasured(b, cmd)
		hark += d
		harkRSS = max(harkRSS, rss)

		// The same conversion: 16 kHz, one channel, 16 bits, no dither
		// (hark does not dither either), to a file.
		out := filepath.Join(dir, "sox.wav")
		d, rss, _ = runMeasured(b, exec.Command(sox, "-D", file, "-r", "16000", "-c", "1", "-b", "16", out))
		os.Remove(out)
		soxT += d
		soxRSS = max(soxRSS, rss)
	}
	b.ReportMetric(hark.Seconds()/float64(b.N), "hark-s")
	b.ReportMetric(soxT.Seconds()/float64(b.N), "sox-s")
	b.ReportMetric(hark.Seconds()/soxT.Seconds(), "hark/sox")
	b.ReportMetric(harkRSS, "hark-peak-MB")
	b.ReportMetric(soxRSS, "sox-peak-MB")
}

// BenchmarkDecode compares hark's WAVReader with go-audio/wav's Decoder on
// the same 30 s of 48 kHz stereo 24-bit audio in memory: the reason hark
// reads WAV itself (see doc.go).
func BenchmarkDecode(b *testing.B) {
	data, err := io.ReadAll(newStreamWAV(30, 48000, 2))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("WAVReader", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]float32, 2*blockFrames)
		for b.Loop() {
			r, err := NewWAVReader("b.wav", bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := r.ReadFrames(buf); err != nil {
					break
				}
			}
		}
	})
	b.Run("go-audio-wav", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := &audio.IntBuffer{Data: make([]int, 2*blockFrames)}
		for b.Loop() {
			d := wav.NewDecoder(bytes.NewReader(data))
			for {
				n, err := d.PCMBuffer(buf)
				if err != nil || n == 0 {
					break
				}
			}
		}
	})
}
