package transcribe

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// word is a tone burst standing for a spoken word in test audio.
type word struct {
	channel    int // 0-based
	start, end float64
	freq       float64
}

func (w word) text() string { return fmt.Sprintf("w%d.", int(math.Round(w.freq/100))) }

// wordsAudio returns a 48 kHz 24-bit WAV of the words.
func wordsAudio(words []word, channels int, seconds float64) []byte {
	return buildWAV(wavSpec{tag: wavPCM, channels: channels, rate: 48000, bits: 24}, int(seconds*48000), func(i, c int) float64 {
		t := float64(i) / 48000
		for _, w := range words {
			if w.channel == c && t >= w.start && t < w.end {
				return 0.5 * math.Sin(2*math.Pi*w.freq*t)
			}
		}
		return 0
	})
}

// monologue is n words of 0.6 s with 0.6 s pauses on channel 0.
func monologue(n int) []word {
	var ws []word
	for i := 0; i < n; i++ {
		s := 0.5 + float64(i)*1.2
		ws = append(ws, word{channel: 0, start: s, end: s + 0.6, freq: 300 + float64(i)*100})
	}
	return ws
}

// testOpenAI returns an engine pointed at the fake, with 6 s chunks, and the
// waits it asked for between attempts.
func testOpenAI(t *testing.T, f *fakeWhisper, cfg OpenAIConfig) (*OpenAI, *[]time.Duration) {
	t.Helper()
	cfg.BaseURL = f.URL()
	if cfg.APIKey == "" {
		cfg.APIKey = f.key
	}
	if cfg.MaxChunkBytes == 0 {
		cfg.MaxChunkBytes = 44 + 2*ChunkRate*6
	}
	cfg.TempDir = t.TempDir()
	cfg.Logger = slog.New(slog.DiscardHandler)
	e, err := NewOpenAI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	waits := &[]time.Duration{}
	e.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*waits = append(*waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return e, waits
}

func input(key, workerChannel string, audio []byte) hark.EngineInput {
	return hark.EngineInput{
		Recording: &hark.Recording{ID: "rec_test", Key: "team/" + key, WorkerChannel: workerChannel},
		Audio:     bytes.NewReader(audio),
	}
}

// checkWords checks that the transcript has each word once, in order, at
// its time.
func checkWords(t *testing.T, segs []hark.Segment, words []word) {
	t.Helper()
	if len(segs) != len(words) {
		var got []string
		for _, s := range segs {
			got = append(got, s.Text)
		}
		t.Fatalf("%d segments %q, want %d words", len(segs), got, len(words))
	}
	for i, w := range words {
		s := segs[i]
		if s.Text != w.text() || math.Abs(s.Start-w.start) > 0.03 || math.Abs(s.End-w.end) > 0.03 {
			t.Errorf("segment %d: %.3f–%.3f %q, want %.3f–%.3f %q", i, s.Start, s.End, s.Text, w.start, w.end, w.text())
		}
	}
}

func TestOpenAIStitchesChunks(t *testing.T) {
	f := newFakeWhisper(t)
	f.echoPrompt = true
	e, _ := testOpenAI(t, f, OpenAIConfig{Language: "en", Prompt: "Core group.", Concurrency: 2})
	words := monologue(30) // 36.5 s: seven 6 s chunks
	tr, err := e.Transcribe(context.Background(), input("meeting.wav", "", wordsAudio(words, 2, 37)))
	if err != nil {
		t.Fatal(err)
	}
	checkWords(t, tr.Segments, words)
	if tr.Engine != "openai" || tr.Model != "whisper-1" || tr.Language != "en" || tr.Audio.SampleRate != 48000 || tr.Audio.Channels != 2 || tr.Audio.DurationSeconds != 37 {
		t.Errorf("transcript %+v", tr)
	}
	reqs := f.reqs()
	if len(reqs) < 6 {
		t.Fatalf("%d requests, want one per chunk", len(reqs))
	}
	if f.peak > 2 {
		t.Errorf("%d requests in flight at once, want at most 2", f.peak)
	}
	carried := 0
	for _, r := range reqs {
		if r.Model != "whisper-1" || r.ResponseFormat != "verbose_json" || strings.Join(r.Granularities, ",") != "word,segment" || r.Language != "en" || !strings.HasSuffix(r.FileName, ".wav") {
			t.Errorf("request %+v", r)
		}
		if !strings.HasPrefix(r.Prompt, "Core group.") {
			t.Errorf("prompt %q does not start with the configured prompt", r.Prompt)
		}
		if len(r.Prompt) > len("Core group.") {
			carried++
		}
	}
	if carried < len(reqs)-2 {
		t.Errorf("%d of %d requests carried the previous chunk's words", carried, len(reqs))
	}
}

func TestOpenAIChannels(t *testing.T) {
	f := newFakeWhisper(t)
	// Worker on the left, parent on the right, one overlapping pair.
	words := []word{
		{0, 0.5, 1.5, 400}, {1, 2.0, 3.0, 500}, {0, 3.5, 4.5, 600},
		{1, 4.0, 5.0, 700}, // cross-talk
		{1, 6.0, 7.0, 800}, {0, 7.5, 8.5, 900},
	}
	for _, tc := range []struct {
		channel      string
		worker, left hark.Role
	}{{"left", hark.RoleWorker, hark.RoleWorker}, {"2", hark.RoleWorker, hark.RoleParent}} {
		t.Run(tc.channel, func(t *testing.T) {
			e, _ := testOpenAI(t, f, OpenAIConfig{})
			tr, err := e.Transcribe(context.Background(), input("m.wav", tc.channel, wordsAudio(words, 2, 9)))
			if err != nil {
				t.Fatal(err)
			}
			checkWords(t, tr.Segments, words)
			for i, s := range tr.Segments {
				want := tc.left
				if words[i].channel == 1 {
					want = map[hark.Role]hark.Role{hark.RoleWorker: hark.RoleParent, hark.RoleParent: hark.RoleWorker}[tc.left]
				}
				if s.Role != want || s.Speaker != map[hark.Role]string{hark.RoleWorker: "Worker", hark.RoleParent: "Parent"}[want] {
					t.Errorf("segment %d (channel %d): %s %s, want %s", i, words[i].channel+1, s.Speaker, s.Role, want)
				}
			}
		})
	}
}

// TestOpenAIBleed gives each speaker's microphone the other speaker's
// voice 20 dB down, as two lapel microphones in one room pick up: the
// faint copies must not become turns of their own. (TestOpenAIChannels
// checks that cross-talk stays two turns.)
func TestOpenAIBleed(t *testing.T) {
	f := newFakeWhisper(t)
	words := []word{{0, 0.5, 1.5, 400}, {1, 2.0, 3.0, 500}, {0, 3.5, 4.5, 600}, {1, 5.0, 6.0, 700}}
	audio := buildWAV(wavSpec{tag: wavPCM, channels: 2, rate: 48000, bits: 24}, 7*48000, func(i, c int) float64 {
		t := float64(i) / 48000
		var v float64
		for _, w := range words {
			if t >= w.start && t < w.end {
				amp := 0.5
				if w.channel != c {
					amp = 0.05 // the other microphone, 20 dB down
				}
				v += amp * math.Sin(2*math.Pi*w.freq*t)
			}
		}
		return v
	})
	e, _ := testOpenAI(t, f, OpenAIConfig{})
	tr, err := e.Transcribe(context.Background(), input("m.wav", "left", audio))
	if err != nil {
		t.Fatal(err)
	}
	checkWords(t, tr.Segments, words)
	for i, s := range tr.Segments {
		if want := []string{"Worker", "Parent"}[words[i].channel]; s.Speaker != want {
			t.Errorf("segment %d: speaker %s, want %s", i, s.Speaker, want)
		}
	}
}

func TestOpenAIRetries(t *testing.T) {
	words := monologue(4)
	audio := wordsAudio(words, 1, 5.5)
	tests := []struct {
		name      string
		fail      func(n int, w http.ResponseWriter) bool
		wantWaits []time.Duration // exact waits; nil: only count them
		waits     int
	}{
		{"429 with Retry-After", func(n int, w http.ResponseWriter) bool {
			if n == 1 {
				w.Header().Set("Retry-After", "3")
				apiError(w, 429, "requests", "", "Rate limit reached for whisper-1.")
				return true
			}
			return false
		}, []time.Duration{3 * time.Second}, 1},
		{"429 with retry-after-ms", func(n int, w http.ResponseWriter) bool {
			if n <= 2 {
				w.Header().Set("Retry-After", "20")
				w.Header().Set("Retry-After-Ms", "250")
				apiError(w, 429, "requests", "", "Rate limit reached.")
				return true
			}
			return false
		}, []time.Duration{250 * time.Millisecond, 250 * time.Millisecond}, 2},
		{"503 then 502", func(n int, w http.ResponseWriter) bool {
			switch n {
			case 1:
				apiError(w, 503, "server_error", "", "The server is overloaded.")
			case 2:
				w.WriteHeader(502)
				w.Write([]byte("<html>Bad Gateway</html>"))
			default:
				return false
			}
			return true
		}, nil, 2},
		{"dropped connection", func(n int, w http.ResponseWriter) bool {
			if n == 1 {
				conn, _, _ := w.(*statusRecorder).ResponseWriter.(http.Hijacker).Hijack()
				conn.Close()
				return true
			}
			return false
		}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeWhisper(t)
			f.fail = tt.fail
			e, waits := testOpenAI(t, f, OpenAIConfig{MaxChunkBytes: DefaultMaxChunkBytes})
			tr, err := e.Transcribe(context.Background(), input("m.wav", "", audio))
			if err != nil {
				t.Fatal(err)
			}
			checkWords(t, tr.Segments, words)
			if len(*waits) != tt.waits || tt.wantWaits != nil && fmt.Sprint(*waits) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waited %v, want %d waits %v", *waits, tt.waits, tt.wantWaits)
			}
		})
	}
}

func TestOpenAIErrors(t *testing.T) {
	words := monologue(3)
	audio := wordsAudio(words, 1, 4)
	tests := []struct {
		name     string
		cfg      OpenAIConfig
		fail     func(n int, w http.ResponseWriter) bool
		code     string
		want     string
		requests int
	}{
		{"busy for good", OpenAIConfig{MaxAttempts: 3}, func(n int, w http.ResponseWriter) bool {
			apiError(w, 500, "server_error", "", "The server had an error while processing your request.")
			return true
		}, hark.EUNAVAILABLE, "failed 3 times on chunk 1 (0:00–0:04) of m.wav (500 Internal Server Error", 3},
		{"wrong key", OpenAIConfig{APIKey: "wrong"}, nil, hark.EINVALID, "refused hark's credentials (401 Unauthorized: Incorrect API key provided.): check HARK_OPENAI_API_KEY", 1},
		{"forbidden", OpenAIConfig{}, func(n int, w http.ResponseWriter) bool {
			apiError(w, 403, "invalid_request_error", "", "Country, region, or territory not supported")
			return true
		}, hark.EINVALID, "refused hark's credentials (403 Forbidden", 1},
		{"unknown model", OpenAIConfig{Model: "whisper-9"}, nil, hark.EINVALID, `or no model "whisper-9"`, 1},
		{"bad language", OpenAIConfig{Language: "eng"}, nil, hark.EINVALID, "rejected hark's settings (400 Bad Request: Invalid language", 1},
		{"diarized_json from whisper-1", OpenAIConfig{ResponseFormat: "diarized_json"}, nil, hark.EINVALID,
			"rejected hark's settings (400 Bad Request: response_format 'diarized_json' is not compatible with model 'whisper-1'. Use 'json', 'text', 'srt', 'verbose_json' or 'vtt' instead.): check HARK_OPENAI_MODEL, HARK_OPENAI_RESPONSE_FORMAT", 1},
		{"verbose_json from the diarizing model", OpenAIConfig{Model: "gpt-4o-transcribe-diarize", ResponseFormat: "verbose_json"}, nil, hark.EINVALID,
			"(400 Bad Request: response_format 'verbose_json' is not compatible with model 'gpt-4o-transcribe-diarize'. Use 'json' or 'text' instead.)", 1},
		{"not JSON", OpenAIConfig{MaxAttempts: 2}, func(n int, w http.ResponseWriter) bool {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>Welcome to nginx!</html>"))
			return true
		}, hark.EUNAVAILABLE, "(an answer that is not OpenAI's verbose_json: is the server OpenAI-compatible?)", 2},
		{"bad audio", OpenAIConfig{}, func(n int, w http.ResponseWriter) bool {
			apiError(w, 400, "invalid_request_error", "", "Audio file might be corrupted or unsupported")
			return true
		}, hark.EINVALID, "rejected chunk 1 (0:00–0:04) of m.wav (400 Bad Request: Audio file might be corrupted", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeWhisper(t)
			f.fail = tt.fail
			tt.cfg.MaxChunkBytes = DefaultMaxChunkBytes
			e, _ := testOpenAI(t, f, tt.cfg)
			_, err := e.Transcribe(context.Background(), input("m.wav", "", audio))
			if hark.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v (%s), want %s containing %q", err, hark.ErrorCode(err), tt.code, tt.want)
			}
			if n := len(f.reqs()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

// TestOpenAITooLarge sends a 30 MB chunk, over the hosted API's limit.
func TestOpenAITooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 30 MB of audio")
	}
	f := newFakeWhisper(t)
	e, _ := testOpenAI(t, f, OpenAIConfig{MaxChunkBytes: 40_000_000})
	seconds := 940.0 // 30 MB at 16 kHz mono 16-bit
	audio := buildWAV(wavSpec{tag: wavPCM, channels: 1, rate: 16000, bits: 16}, int(seconds*16000), func(i, c int) float64 {
		return 0.3 * math.Sin(float64(i)*0.2)
	})
	_, err := e.Transcribe(context.Background(), input("long.wav", "", audio))
	if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), "as too large (413 Request Entity Too Large") || !strings.Contains(err.Error(), "HARK_OPENAI_MAX_CHUNK_MB") {
		t.Fatalf("error %v (%s)", err, hark.ErrorCode(err))
	}
}

func TestOpenAITimeout(t *testing.T) {
	f := newFakeWhisper(t)
	f.hangFirst = true
	e, waits := testOpenAI(t, f, OpenAIConfig{RequestTimeout: time.Second, MaxChunkBytes: DefaultMaxChunkBytes})
	words := monologue(2)
	tr, err := e.Transcribe(context.Background(), input("m.wav", "", wordsAudio(words, 1, 3)))
	if err != nil {
		t.Fatal(err)
	}
	checkWords(t, tr.Segments, words)
	if len(*waits) != 1 {
		t.Errorf("waits %v, want one retry after the timeout", *waits)
	}
}

func TestOpenAICancel(t *testing.T) {
	f := newFakeWhisper(t)
	f.delay = time.Second
	e, _ := testOpenAI(t, f, OpenAIConfig{MaxChunkBytes: DefaultMaxChunkBytes})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.Transcribe(ctx, input("m.wav", "", wordsAudio(monologue(2), 1, 3)))
	if hark.ErrorCode(err) != hark.EUNAVAILABLE || time.Since(start) > 2*time.Second {
		t.Fatalf("error %v after %s, want EUNAVAILABLE at once", err, time.Since(start))
	}
}

func TestOpenAIUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	e, err := NewOpenAI(OpenAIConfig{BaseURL: "http://" + addr + "/v1", MaxAttempts: 2, TempDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.sleep = func(ctx context.Context, d time.Duration) error { return nil }
	_, err = e.Transcribe(context.Background(), input("m.wav", "", wordsAudio(monologue(1), 1, 2)))
	if hark.ErrorCode(err) != hark.EUNAVAILABLE || !strings.Contains(err.Error(), "network error") {
		t.Fatalf("error %v (%s), want EUNAVAILABLE network error", err, hark.ErrorCode(err))
	}
}

func TestOpenAISilenceNotSent(t *testing.T) {
	f := newFakeWhisper(t)
	e, _ := testOpenAI(t, f, OpenAIConfig{})
	tr, err := e.Transcribe(context.Background(), input("quiet.wav", "", wordsAudio(nil, 2, 20)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Segments) != 0 || len(f.reqs()) != 0 {
		t.Errorf("%d segments from %d requests for silence", len(tr.Segments), len(f.reqs()))
	}
}

func TestOpenAIConfig(t *testing.T) {
	tests := []struct {
		cfg  OpenAIConfig
		want string
	}{
		{OpenAIConfig{}, "hosted API needs a key"},
		{OpenAIConfig{BaseURL: "whisper:8000"}, "not an http(s) URL"},
		{OpenAIConfig{BaseURL: "http://whisper:8000/v1", Language: "English"}, "not an ISO-639-1 code"},
		{OpenAIConfig{BaseURL: "http://whisper:8000/v1", MaxChunkBytes: 1000}, "too small"},
		{OpenAIConfig{BaseURL: "http://whisper:8000/v1", ResponseFormat: "srt"}, "HARK_OPENAI_RESPONSE_FORMAT to verbose_json, diarized_json or json"},
		{OpenAIConfig{BaseURL: "http://whisper:8000/v1", Model: "gpt-4o-transcribe-diarize", Prompt: "Core group."}, "takes no prompt; unset HARK_OPENAI_PROMPT"},
	}
	for _, tt := range tests {
		_, err := NewOpenAI(tt.cfg)
		if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewOpenAI(%+v) = %v, want EINVALID containing %q", tt.cfg, err, tt.want)
		}
	}
	if _, err := NewOpenAI(OpenAIConfig{BaseURL: "http://whisper:8000/v1"}); err != nil {
		t.Errorf("a self-hosted server without a key: %v", err)
	}
	for model, want := range map[string]string{"whisper-1": "verbose_json", "gpt-4o-transcribe-diarize": "diarized_json", "Systran/faster-whisper-small": "verbose_json"} {
		e, err := NewOpenAI(OpenAIConfig{BaseURL: "http://whisper:8000/v1", Model: model})
		if err != nil || e.cfg.ResponseFormat != want || e.speech.carry != (want != "diarized_json") {
			t.Errorf("model %s: %v, format %q, carry %v; want %s", model, err, e.cfg.ResponseFormat, e.speech.carry, want)
		}
	}
}

func TestDropRepeated(t *testing.T) {
	tests := []struct {
		prev []string
		text string
		want string
	}{
		{[]string{"we", "will", "meet", "on", "tuesday"}, "On Tuesday. And then the review.", "And then the review."},
		{[]string{"see", "you"}, "You know what I mean?", "You know what I mean?"},
		{[]string{"thank", "you"}, "Thank you. Thank you.", "Thank you."},
		{[]string{"hello"}, "Goodbye.", "Goodbye."},
		{nil, "Hello.", "Hello."},
	}
	for _, tt := range tests {
		if got := dropRepeated(tt.prev, tt.text); got != tt.want {
			t.Errorf("dropRepeated(%q, %q) = %q, want %q", tt.prev, tt.text, got, tt.want)
		}
	}
}

// TestStitchWords puts the words back on the recording's time line with
// their segments, dropping those of a prompt's echo.
func TestStitchWords(t *testing.T) {
	chunks := []Chunk{{Start: 0, Duration: 10}, {Start: 10, Duration: 10}, {Start: 20, Duration: 10}}
	results := []chunkResult{
		{done: true, segments: []hark.Segment{{Start: 1, End: 3, Text: "We will meet on Tuesday."}},
			words: timed(1, 0.3, "we", "will", "meet", "on", "tuesday")},
		{done: true, prompt: "we will meet on tuesday",
			segments: []hark.Segment{{Start: 0.2, End: 3, Text: "On Tuesday. And then the review."}, {Start: 9, End: 12, Text: "Bye."}},
			words:    append(timed(0.2, 0.2, "on", "tuesday"), append(timed(1, 0.3, "and", "then", "the", "review"), spokenWord{Start: 9.5, End: 11, Text: " bye "})...)},
		{}, // not recognised
	}
	segs, words := stitch(chunks, results)
	var got []string
	for _, s := range segs {
		got = append(got, fmt.Sprintf("%g-%g %s", s.Start, s.End, s.Text))
	}
	if want := []string{"1-3 We will meet on Tuesday.", "10.2-13 And then the review.", "19-20 Bye."}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("segments %q, want %q", got, want)
	}
	got = nil
	for _, w := range words {
		got = append(got, fmt.Sprintf("%.2f-%.2f %s", w.Start, w.End, w.Text))
	}
	want := []string{"1.00-1.30 we", "1.36-1.66 will", "1.72-2.02 meet", "2.08-2.38 on", "2.44-2.74 tuesday",
		"11.00-11.30 and", "11.36-11.66 then", "11.72-12.02 the", "12.08-12.38 review", "19.50-20.00 bye"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("words %q,\nwant %q", got, want)
	}
}

// TestOpenAITextOnly asks for json, as for a server or model without
// verbose_json: each chunk is one segment over the chunk's time, and the
// transcript keeps every word.
func TestOpenAITextOnly(t *testing.T) {
	for _, model := range []string{"whisper-1", "gpt-4o-transcribe"} {
		t.Run(model, func(t *testing.T) {
			f := newFakeWhisper(t)
			e, _ := testOpenAI(t, f, OpenAIConfig{Model: model, ResponseFormat: "json"})
			words := monologue(8) // two 6 s chunks
			in := input("m.wav", "", wordsAudio(words, 1, 10))
			in.Recording.Speakers = 1 // or the chunks are shared out between the tones diarization hears
			tr, err := e.Transcribe(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, s := range tr.Segments {
				got = append(got, s.Text)
				if s.End-s.Start < 3 {
					t.Errorf("segment %.2f–%.2f: want the chunk's time", s.Start, s.End)
				}
			}
			for _, w := range words {
				want = append(want, w.text())
			}
			if len(tr.Segments) != len(f.reqs()) || strings.Join(got, " ") != strings.Join(want, " ") || tr.Speakers.Count != 1 {
				t.Errorf("segments %q from %d requests, want one a chunk saying %q", got, len(f.reqs()), want)
			}
			for _, r := range f.reqs() {
				if r.ResponseFormat != "json" || r.Granularities != nil {
					t.Errorf("request %+v", r)
				}
			}
		})
	}
}
