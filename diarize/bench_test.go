package diarize

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The diarization figure from the design brief: one hour of 16 kHz mono in
// under a minute on one core, peak memory flat from one hour to two.
// BenchmarkDiarizeHours diarizes one and then two hours of a synthetic
// three-person meeting, each in a process of its own held to one core
// (GOMAXPROCS=1), and reports the time per hour of audio and the peak RSS:
//
//	go test -run '^$' -bench DiarizeHours -benchtime 1x ./diarize/

// processResult is what TestDiarizeProcess reports to the benchmark.
type processResult struct {
	Speakers int     `json:"speakers"`
	Turns    int     `json:"turns"`
	Seconds  float64 `json:"seconds"` // of audio
}

// TestDiarizeProcess is not a test: BenchmarkDiarizeHours runs the test
// binary with HARK_DIARIZE_HOURS set, to diarize that many hours in a
// process of its own. The audio is made as it is written: a minute of
// three voices taking turns, repeated with its loudness and noise varied,
// so that the process holds only the minute, not the hours.
func TestDiarizeProcess(t *testing.T) {
	hours, err := strconv.ParseFloat(os.Getenv("HARK_DIARIZE_HOURS"), 64)
	if err != nil {
		t.Skip("run by BenchmarkDiarizeHours")
	}
	turns := [][2]float64{{0, 6}, {1, 4}, {0, 3}, {2, 5}, {1, 7}, {0, 2}, {2, 4}, {1, 3}, {0, 8}, {2, 3}, {1, 5}}
	minute, _ := meeting([]voice{low, high, mid}, turns, 0.5, 11)
	rng := rand.New(rand.NewPCG(5, 5))
	d := New(Config{Dir: os.Getenv("HARK_DIARIZE_DIR")})
	block := make([]float32, 4096)
	total := int(hours * 3600 * SampleRate)
	for written := 0; written < total; {
		gain := float32(0.7 + 0.6*rng.Float64())
		for i := 0; i < len(minute) && written < total; i += len(block) {
			n := copy(block, minute[i:min(len(minute), i+len(block))])
			n = min(n, total-written)
			for k := range n {
				block[k] = block[k]*gain + float32(0.0003*rng.NormFloat64())
			}
			d.Write(block[:n])
			written += n
		}
	}
	res, err := d.Result()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(processResult{Speakers: res.Speakers, Turns: len(res.Turns), Seconds: d.Seconds()})
	fmt.Printf("DIARIZED %s\n", out)
}

func BenchmarkDiarizeHours(b *testing.B) {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, hours := range []int{1, 2} {
		b.Run(fmt.Sprintf("%dh", hours), func(b *testing.B) {
			var took time.Duration
			var peak float64
			var res processResult
			for b.Loop() {
				cmd := exec.Command(self, "-test.run=^TestDiarizeProcess$", "-test.v")
				cmd.Env = append(os.Environ(), "HARK_DIARIZE_HOURS="+strconv.Itoa(hours), "GOMAXPROCS=1",
					"HARK_DIARIZE_DIR="+b.TempDir()) // features in a file, as in the transcribe stage
				start := time.Now()
				out, err := cmd.Output()
				took += time.Since(start)
				if err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				peak = max(peak, float64(ru.Maxrss)/1024) // KiB on Linux
				for _, line := range splitLines(out) {
					if len(line) > 9 && line[:9] == "DIARIZED " {
						_ = json.Unmarshal([]byte(line[9:]), &res)
					}
				}
			}
			b.ReportMetric(took.Seconds()/float64(b.N)/float64(hours), "s/audio-hour")
			b.ReportMetric(peak, "peak-MB")
			b.ReportMetric(float64(res.Speakers), "speakers")
			b.Logf("%d h: %d speakers, %d turns, %.0f s of audio, on %s", hours, res.Speakers, res.Turns, res.Seconds, runtime.GOARCH)
		})
	}
}

func splitLines(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return append(out, string(b[start:]))
}
