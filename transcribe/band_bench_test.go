package transcribe

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/harkworks/hark"
)

// BenchmarkSphinxTelephone is the figure behind docs/engines.md's telephone
// section: the word error rate of the sphinx engine on a testdata meeting
// as recorded (16 kHz) and as a telephone system would have kept it (8 kHz
// µ-law, made with sox), against the meeting's script.
//
//	go test -run '^$' -bench SphinxTelephone -benchtime 1x ./transcribe/
func BenchmarkSphinxTelephone(b *testing.B) {
	sox := needTool(b, "sox")
	if _, err := exec.LookPath(DefaultSphinxProgram); err != nil {
		b.Skip("pocketsphinx is not installed")
	}
	src := filepath.Join("..", "testdata", "meetings", "mixed.wav")
	script, err := os.ReadFile(filepath.Join("..", "testdata", "meetings", "mixed.txt"))
	if err != nil {
		b.Fatal(err)
	}
	var ref []string
	for _, line := range strings.Split(string(script), "\n") {
		_, said, _ := strings.Cut(line, ":")
		ref = append(ref, words(said)...)
	}
	call := filepath.Join(b.TempDir(), "call.wav")
	if out, err := exec.Command(sox, src, "-r", "8000", "-e", "u-law", call).CombinedOutput(); err != nil {
		b.Fatalf("sox: %v: %s", err, out)
	}
	s := NewService(Config{Engines: EngineConfig{Name: EngineSphinx, Sphinx: SphinxConfig{Program: DefaultSphinxProgram, TempDir: b.TempDir()}, Logger: slog.New(slog.DiscardHandler)}})
	for b.Loop() {
		for _, f := range []struct{ path, metric string }{{src, "wer-16k"}, {call, "wer-8k-ulaw"}} {
			data, _ := os.ReadFile(f.path)
			tr, err := s.Transcribe(context.Background(), hark.EngineInput{
				Recording: &hark.Recording{ID: "rec_b", Key: filepath.Base(f.path)}, Audio: bytes.NewReader(data),
			})
			if err != nil {
				b.Fatal(err)
			}
			var hyp []string
			for _, seg := range tr.Segments {
				hyp = append(hyp, words(seg.Text)...)
			}
			b.ReportMetric(wordErrorRate(ref, hyp), f.metric)
		}
	}
}

// words lowercases s and splits it into words, dropping punctuation.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
}

// wordErrorRate is the edit distance between the word sequences over the
// reference's length.
func wordErrorRate(ref, hyp []string) float64 {
	prev := make([]int, len(hyp)+1)
	cur := make([]int, len(hyp)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(hyp); j++ {
			c := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return float64(prev[len(hyp)]) / float64(max(len(ref), 1))
}
