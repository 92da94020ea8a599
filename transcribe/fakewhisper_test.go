package transcribe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-audio/wav"
)

// fakeWhisper is a local stand-in for OpenAI's POST /v1/audio/transcriptions
// that enforces what the real endpoint enforces: a bearer key, a multipart
// form read the way the real API reads it, 25 MB at most (413 above), a
// minimum of 0.1 s of audio, and errors shaped as {"error": {...}}. It
// "recognises" tone bursts: each burst becomes a segment whose text names
// the tone's frequency in hundreds of hertz ("w4" for 400 Hz), so tests can
// check times and words exactly; words less than phraseGap apart make one
// segment. Its answers are verbose_json as the real API returns it, with
// the words' times when timestamp_granularities[] asks for them.
type fakeWhisper struct {
	t   testing.TB
	srv *httptest.Server
	key string

	mu       sync.Mutex
	requests []fakeRequest
	inFlight int
	peak     int
	// fail, when set, may answer request n (1-based) with an error status
	// and headers instead of a transcript.
	fail func(n int, w http.ResponseWriter) bool
	// echoPrompt makes the first segment repeat the prompt's last two
	// words, as Whisper sometimes does.
	echoPrompt bool
	// delay holds each answer back.
	delay time.Duration
	// hangFirst makes the first request wait until the client gives up.
	hangFirst bool
}

// fakeRequest is what the fake received in one request.
type fakeRequest struct {
	Model, ResponseFormat, Prompt, Language string
	Granularities                           []string
	FileName                                string
	Seconds                                 float64
	Status                                  int
}

// maxUpload is the hosted API's request limit (25 MB as OpenAI counts it).
const maxUpload = 26214400

func newFakeWhisper(t testing.TB) *fakeWhisper {
	f := &fakeWhisper{t: t, key: "test-key"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/audio/transcriptions", f.transcribe)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the base URL to configure: up to and including /v1.
func (f *fakeWhisper) URL() string { return f.srv.URL + "/v1" }

func (f *fakeWhisper) reqs() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

func apiError(w http.ResponseWriter, status int, typ, param, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var p any
	if param != "" {
		p = param
	}
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": p, "code": nil}})
}

func (f *fakeWhisper) transcribe(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.inFlight++
	f.peak = max(f.peak, f.inFlight)
	f.requests = append(f.requests, fakeRequest{})
	n := len(f.requests)
	f.mu.Unlock()
	rec := fakeRequest{Status: http.StatusOK}
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.requests[n-1] = rec
		f.mu.Unlock()
	}()
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	fail := func(status int, typ, param, msg string) {
		rec.Status = status
		apiError(w, status, typ, param, msg)
	}
	if r.Header.Get("Authorization") != "Bearer "+f.key {
		fail(401, "invalid_request_error", "", "Incorrect API key provided.")
		return
	}
	if r.ContentLength > maxUpload {
		io.Copy(io.Discard, r.Body)
		fail(413, "server_error", "", fmt.Sprintf("Maximum content size limit (%d) exceeded (%d bytes read)", maxUpload, r.ContentLength))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpload))
	if err != nil {
		fail(413, "server_error", "", fmt.Sprintf("Maximum content size limit (%d) exceeded", maxUpload))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if f.hangFirst && n == 1 {
		<-r.Context().Done() // the server notices the client leaving once the body is read
		rec.Status = 499
		return
	}
	if f.fail != nil {
		rw := &statusRecorder{ResponseWriter: w}
		if f.fail(n, rw) {
			rec.Status = rw.status
			return
		}
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		fail(400, "invalid_request_error", "", "Could not parse multipart form")
		return
	}
	rec.Model = r.FormValue("model")
	rec.ResponseFormat = r.FormValue("response_format")
	rec.Prompt = r.FormValue("prompt")
	rec.Language = r.FormValue("language")
	rec.Granularities = r.MultipartForm.Value["timestamp_granularities[]"]
	for _, g := range rec.Granularities {
		if g != "word" && g != "segment" {
			fail(400, "invalid_request_error", "timestamp_granularities", fmt.Sprintf("Invalid value %q for timestamp_granularities: use 'word' or 'segment'.", g))
			return
		}
	}
	if slices.Contains(rec.Granularities, "word") && rec.ResponseFormat != "verbose_json" {
		// As the hosted API answers (speaches' tests record it).
		fail(400, "invalid_request_error", "timestamp_granularities", "Word timestamps are only available with response_format verbose_json.")
		return
	}
	if rec.Model == "" {
		fail(400, "invalid_request_error", "model", "you must provide a model parameter")
		return
	}
	if rec.Model != "whisper-1" {
		fail(404, "invalid_request_error", "model", fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", rec.Model))
		return
	}
	if rec.Language != "" && len(rec.Language) != 2 {
		fail(400, "invalid_request_error", "language", "Invalid language. Language parameter must be specified in ISO-639-1 format.")
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		fail(400, "invalid_request_error", "file", "you must provide a file parameter")
		return
	}
	rec.FileName = hdr.Filename
	data, _ := io.ReadAll(file)
	samples, err := decodeMono16k(data)
	if err != nil {
		fail(400, "invalid_request_error", "", "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']")
		return
	}
	rec.Seconds = float64(len(samples)) / 16000
	if rec.Seconds < 0.1 {
		fail(400, "invalid_request_error", "file", "Audio file is too short. Minimum audio length is 0.1 seconds.")
		return
	}
	words := bursts(samples)
	if f.echoPrompt && rec.Prompt != "" && len(words) > 0 {
		// Whisper says the prompt's last two words again, squeezed in
		// before the first word it heard.
		prompt := strings.Fields(rec.Prompt)
		var echo []burst
		for _, w := range prompt[max(0, len(prompt)-2):] {
			echo = append(echo, burst{start: words[0].start, end: words[0].start, text: " " + w})
		}
		words = append(echo, words...)
	}
	if rec.ResponseFormat != "verbose_json" {
		var text strings.Builder
		for _, w := range words {
			text.WriteString(w.text)
		}
		json.NewEncoder(w).Encode(map[string]any{"text": text.String()})
		return
	}
	type segment struct {
		ID               int     `json:"id"`
		Seek             int     `json:"seek"`
		Start            float64 `json:"start"`
		End              float64 `json:"end"`
		Text             string  `json:"text"`
		Tokens           []int   `json:"tokens"`
		Temperature      float64 `json:"temperature"`
		AvgLogprob       float64 `json:"avg_logprob"`
		CompressionRatio float64 `json:"compression_ratio"`
		NoSpeechProb     float64 `json:"no_speech_prob"`
	}
	type timedWord struct {
		Word  string  `json:"word"`
		Start float64 `json:"start"`
		End   float64 `json:"end"`
	}
	out := struct {
		Task     string      `json:"task"`
		Language string      `json:"language"`
		Duration float64     `json:"duration"`
		Text     string      `json:"text"`
		Segments []segment   `json:"segments,omitempty"`
		Words    []timedWord `json:"words,omitempty"`
	}{Task: "transcribe", Language: "english", Duration: rec.Seconds}
	// A hallucination over silence, flagged as Whisper flags them; the
	// engine must drop it, and its words.
	thanks := burst{start: rec.Seconds - 0.1, end: rec.Seconds, text: " Thanks for watching!"}
	for i, p := range append(phrases(words), []burst{thanks}) {
		seg := segment{ID: i, Start: p[0].start, End: p[len(p)-1].end, Tokens: []int{50364, 1000 + i, 50414},
			AvgLogprob: -0.2, CompressionRatio: 1.1, NoSpeechProb: 0.01}
		if p[0] == thanks {
			seg.AvgLogprob, seg.CompressionRatio, seg.NoSpeechProb = -1.4, 0.8, 0.9
		}
		for _, w := range p {
			seg.Text += w.text
			for _, word := range strings.Fields(w.text) {
				// Whisper's words carry no punctuation.
				out.Words = append(out.Words, timedWord{Word: strings.Trim(word, ".!?,"), Start: w.start, End: w.end})
			}
		}
		out.Text += seg.Text
		out.Segments = append(out.Segments, seg)
	}
	// As OpenAI does: words only when asked for, and then segments only
	// when asked for too.
	if !slices.Contains(rec.Granularities, "word") {
		out.Words = nil
	} else if !slices.Contains(rec.Granularities, "segment") {
		out.Segments = nil
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// phraseGap is the longest pause inside one of the fake's segments: like
// Whisper, it puts words said close together in one segment.
const phraseGap = 0.3

// phrases groups words into the segments the fake answers with.
func phrases(words []burst) [][]burst {
	var out [][]burst
	for i, w := range words {
		if i == 0 || w.start-words[i-1].end >= phraseGap {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], w)
	}
	return out
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// decodeMono16k reads a WAV upload with go-audio/wav, as a server would
// with its own decoder, and insists on 16 kHz mono 16-bit.
func decodeMono16k(data []byte) ([]int, error) {
	d := wav.NewDecoder(bytes.NewReader(data))
	buf, err := d.FullPCMBuffer()
	if err != nil {
		return nil, err
	}
	if d.SampleRate != 16000 || d.NumChans != 1 || d.BitDepth != 16 {
		return nil, fmt.Errorf("%d Hz × %d × %d bits", d.SampleRate, d.NumChans, d.BitDepth)
	}
	return buf.Data, nil
}

type burst struct {
	start, end float64
	text       string
}

// bursts finds tone bursts in 16 kHz samples and names each by its
// frequency.
func bursts(x []int) []burst {
	const frame = 320 // 20 ms
	var out []burst
	in := -1
	flush := func(end int) {
		seg := x[in:end]
		if len(seg) > 4*frame {
			seg = seg[frame : len(seg)-frame] // the onset and the fade ring
		}
		crossings, first, last := 0, 0, 0
		for i := 1; i < len(seg); i++ {
			if (seg[i-1] < 0) != (seg[i] < 0) {
				if crossings == 0 {
					first = i
				}
				crossings, last = crossings+1, i
			}
		}
		// Half a period between crossings, timed from the first to the
		// last.
		freq := float64(crossings-1) / 2 / (float64(max(1, last-first)) / 16000)
		out = append(out, burst{start: float64(in) / 16000, end: float64(end) / 16000, text: fmt.Sprintf(" w%d.", int(math.Round(freq/100)))})
		in = -1
	}
	for f := 0; f+frame <= len(x); f += frame {
		var s float64
		for _, v := range x[f : f+frame] {
			s += float64(v) * float64(v)
		}
		loud := math.Sqrt(s/frame)/32768 > 0.01
		switch {
		case loud && in < 0:
			in = f
		case !loud && in >= 0:
			flush(f)
		}
	}
	if in >= 0 {
		flush(len(x) - len(x)%frame)
	}
	return out
}
