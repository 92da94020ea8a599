package transcribe

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/harkworks/hark"
)

// TestBand measures the band of files whose answer is known: noise over
// the full band, the same noise through a telephone filter, a meeting at
// 16 kHz and as a call (8 kHz and back), and 8 kHz µ-law.
func TestBand(t *testing.T) {
	sox := needTool(t, "sox")
	dir := t.TempDir()
	meeting := filepath.Join(meetingsDir(t), "mixed.wav")
	for _, tt := range []struct {
		name string
		args []string // sox's arguments before the output file's
		post []string // effects after it
		want string
	}{
		{"noise 16k", []string{"-n", "-r", "16000", "-b", "16"}, []string{"synth", "10", "whitenoise", "vol", "0.3"}, ""},
		{"noise 16k through a phone", []string{"-n", "-r", "16000", "-b", "16"}, []string{"synth", "10", "whitenoise", "vol", "0.3", "sinc", "300-3400"}, BandTelephone},
		{"meeting 16k", []string{meeting}, nil, ""},
		{"meeting as a call, resampled to 16k", []string{meeting, "-r", "16000"}, []string{"rate", "8000", "rate", "16000"}, BandTelephone},
		{"meeting 8k u-law", []string{meeting, "-r", "8000", "-e", "u-law"}, nil, BandTelephone},
		{"meeting 44.1k", []string{meeting, "-r", "44100"}, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "x.wav")
			args := append(append(append([]string{}, tt.args...), out), tt.post...)
			if msg, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
				t.Fatalf("sox: %v: %s", err, msg)
			}
			data, _ := os.ReadFile(out)
			a, err := OpenAudio(context.Background(), "x.wav", bytes.NewReader(data), "", "")
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if _, err := InspectWAV("x.wav", a); err != nil {
				t.Fatal(err)
			}
			t.Logf("high share %.5f", a.meter.high/(a.meter.low+a.meter.high))
			if got := a.Band(); got != tt.want {
				t.Errorf("band %q, want %q (high share %.5f)", got, tt.want, a.meter.high/(a.meter.low+a.meter.high))
			}
		})
	}
	t.Run("service", func(t *testing.T) {
		out := filepath.Join(dir, "call.wav")
		if msg, err := exec.Command(sox, meeting, "-r", "8000", "-e", "a-law", out).CombinedOutput(); err != nil {
			t.Fatalf("sox: %v: %s", err, msg)
		}
		data, _ := os.ReadFile(out)
		vtt := &hark.Sidecar{Name: "call.vtt", Data: []byte("WEBVTT\n\n00:00:00.500 --> 00:00:01.100\n<v Sam>Hello.\n")}
		tr, err := NewService(Config{}).Transcribe(context.Background(), hark.EngineInput{
			Recording: &hark.Recording{ID: "rec_1", Key: "t/call.wav"}, Audio: bytes.NewReader(data), Sidecar: vtt,
		})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Audio.Band != BandTelephone || tr.Audio.Format != "alaw" || tr.Audio.SampleRate != 8000 {
			t.Errorf("audio %+v, want 8 kHz A-law telephone", tr.Audio)
		}
	})
}

func meetingsDir(t *testing.T) string {
	t.Helper()
	return filepath.Join("..", "testdata", "meetings")
}
