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
// minimum of 0.1 s of audio, the models OpenAI serves and the response
// formats each takes (fakeModels), what its diarizing model refuses (a
// prompt, timestamp granularities, more than 30 s without a
// chunking_strategy), and errors shaped as {"error": {...}}. It
// "recognises" tone bursts: each burst becomes a word that names the
// tone's frequency in hundreds of hertz ("w4" for 400 Hz), so tests can
// check times and words exactly; words less than phraseGap apart make one
// segment, and tones under 1 kHz are one speaker's, higher ones another's.
// Its answers are shaped as the real API's: verbose_json with the words'
// times when timestamp_granularities[] asks for them, diarized_json with
// each request's speakers lettered A, B, … in the order they speak, json
// and text; or, with whisperx set, a WhisperX-based server's.
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
	// whisperx makes the fake answer as an OpenAI-compatible server built
	// on WhisperX does: any model, verbose_json whose segments and words
	// carry speakers ("SPEAKER_00", the voices in the order they first
	// speak in the request), words inside their segments whatever
	// timestamp_granularities[] asks.
	whisperx bool
	// noWords makes the fake a server that ignores
	// timestamp_granularities[] and never times words.
	noWords bool
}

// fakeRequest is what the fake received in one request.
type fakeRequest struct {
	Model, ResponseFormat, Prompt, Language string
	ChunkingStrategy                        string
	Granularities                           []string
	// Voices are the voices (0 low, 1 high) in the order the fake's
	// answer labels them.
	Voices   []int
	FileName string
	Seconds  float64
	Status   int
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
	if rec.ResponseFormat == "" {
		rec.ResponseFormat = "json"
	}
	rec.Prompt = r.FormValue("prompt")
	rec.Language = r.FormValue("language")
	rec.ChunkingStrategy = r.FormValue("chunking_strategy")
	rec.Granularities = r.MultipartForm.Value["timestamp_granularities[]"]
	if msg, param, status := f.refuse(rec); msg != "" {
		fail(status, "invalid_request_error", param, msg)
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
	if diarizing(rec.Model) && rec.ChunkingStrategy == "" && rec.Seconds > 30 && !f.whisperx {
		fail(400, "invalid_request_error", "chunking_strategy", "chunking_strategy is required for diarization models")
		return
	}
	words := bursts(samples)
	for _, w := range words {
		if !slices.Contains(rec.Voices, w.voice()) {
			rec.Voices = append(rec.Voices, w.voice())
		}
	}
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
	var answer any
	switch rec.ResponseFormat {
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, joinText(words)+"\n")
		return
	case "verbose_json":
		answer = f.verboseJSON(rec, words)
	case "diarized_json":
		answer = diarizedJSON(rec, words)
	default: // json
		answer = map[string]any{"text": joinText(words)}
		if strings.HasPrefix(rec.Model, "gpt-") {
			answer = map[string]any{"text": joinText(words), "usage": usage(rec)}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// fakeModels are the models the fake serves, with the response formats
// each takes, as OpenAI documents them.
var fakeModels = map[string][]string{
	"whisper-1":                 {"json", "text", "srt", "verbose_json", "vtt"},
	"gpt-4o-transcribe":         {"json", "text"},
	"gpt-4o-mini-transcribe":    {"json", "text"},
	"gpt-4o-transcribe-diarize": {"json", "text", "diarized_json"},
}

func diarizing(model string) bool { return strings.Contains(model, "diarize") }

// refuse says why the API would refuse a request's settings (its message,
// the parameter blamed and the status), or "" when it would not. A
// WhisperX-style server takes any model and ignores what it does not know.
func (f *fakeWhisper) refuse(rec fakeRequest) (msg, param string, status int) {
	if rec.Model == "" {
		return "you must provide a model parameter", "model", 400
	}
	if rec.Language != "" && len(rec.Language) != 2 {
		return "Invalid language. Language parameter must be specified in ISO-639-1 format.", "language", 400
	}
	if f.whisperx {
		return "", "", 0
	}
	formats, ok := fakeModels[rec.Model]
	if !ok {
		return fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", rec.Model), "model", 404
	}
	if !slices.Contains(formats, rec.ResponseFormat) {
		var use []string
		for _, f := range formats {
			if f != "diarized_json" {
				use = append(use, "'"+f+"'")
			}
		}
		return fmt.Sprintf("response_format '%s' is not compatible with model '%s'. Use %s or %s instead.",
			rec.ResponseFormat, rec.Model, strings.Join(use[:len(use)-1], ", "), use[len(use)-1]), "response_format", 400
	}
	for _, g := range rec.Granularities {
		if g != "word" && g != "segment" {
			return fmt.Sprintf("Invalid value %q for timestamp_granularities: use 'word' or 'segment'.", g), "timestamp_granularities", 400
		}
	}
	if slices.Contains(rec.Granularities, "word") && rec.ResponseFormat != "verbose_json" {
		// As the hosted API answers (speaches' tests record it).
		return "Word timestamps are only available with response_format verbose_json.", "timestamp_granularities", 400
	}
	if diarizing(rec.Model) {
		switch {
		case rec.Prompt != "":
			return "Prompt is not supported for diarization models.", "prompt", 400
		case len(rec.Granularities) > 0:
			return "timestamp_granularities is not supported for diarization models.", "timestamp_granularities", 400
		case rec.ChunkingStrategy != "" && rec.ChunkingStrategy != "auto" && !strings.Contains(rec.ChunkingStrategy, `"server_vad"`):
			return "Invalid chunking_strategy: use 'auto' or a server_vad object.", "chunking_strategy", 400
		}
	}
	return "", "", 0
}

func joinText(words []burst) string {
	var text strings.Builder
	for _, w := range words {
		text.WriteString(w.text)
	}
	return text.String()
}

func usage(rec fakeRequest) map[string]any {
	return map[string]any{"type": "duration", "seconds": int(math.Ceil(rec.Seconds))}
}

// verboseSegment is a segment of a verbose_json answer: Whisper's fields,
// and the speaker and words a WhisperX-style server adds.
type verboseSegment struct {
	ID               int         `json:"id"`
	Seek             int         `json:"seek"`
	Start            float64     `json:"start"`
	End              float64     `json:"end"`
	Text             string      `json:"text"`
	Tokens           []int       `json:"tokens"`
	Temperature      float64     `json:"temperature"`
	AvgLogprob       float64     `json:"avg_logprob"`
	CompressionRatio float64     `json:"compression_ratio"`
	NoSpeechProb     float64     `json:"no_speech_prob"`
	Speaker          string      `json:"speaker,omitempty"`
	Words            []timedWord `json:"words,omitempty"`
}

// timedWord is a word of a verbose_json answer; WhisperX adds its
// alignment score and its speaker.
type timedWord struct {
	Word    string   `json:"word"`
	Start   float64  `json:"start"`
	End     float64  `json:"end"`
	Score   *float64 `json:"score,omitempty"`
	Speaker string   `json:"speaker,omitempty"`
}

// verboseJSON is Whisper's answer, or a WhisperX-style server's with the
// speakers of segments and words.
func (f *fakeWhisper) verboseJSON(rec fakeRequest, words []burst) any {
	out := struct {
		Task     string           `json:"task"`
		Language string           `json:"language"`
		Duration float64          `json:"duration"`
		Text     string           `json:"text"`
		Segments []verboseSegment `json:"segments,omitempty"`
		Words    []timedWord      `json:"words,omitempty"`
	}{Task: "transcribe", Language: "english", Duration: rec.Seconds}
	labels := speakerLabels(words, func(i int) string { return fmt.Sprintf("SPEAKER_%02d", i) })
	// A hallucination over silence, flagged as Whisper flags them; the
	// engine must drop it, and its words.
	thanks := burst{start: rec.Seconds - 0.1, end: rec.Seconds, text: " Thanks for watching!", freq: -1}
	score := 0.9
	for i, p := range append(phrases(words, false), []burst{thanks}) {
		seg := verboseSegment{ID: i, Start: p[0].start, End: p[len(p)-1].end, Tokens: []int{50364, 1000 + i, 50414},
			AvgLogprob: -0.2, CompressionRatio: 1.1, NoSpeechProb: 0.01}
		if p[0] == thanks {
			seg.AvgLogprob, seg.CompressionRatio, seg.NoSpeechProb = -1.4, 0.8, 0.9
		}
		talk := map[string]float64{}
		for _, w := range p {
			seg.Text += w.text
			for _, word := range strings.Fields(w.text) {
				// Whisper's words carry no punctuation; WhisperX keeps it.
				tw := timedWord{Word: strings.Trim(word, ".!?,"), Start: w.start, End: w.end}
				if f.whisperx {
					tw.Word, tw.Score, tw.Speaker = word, &score, labels[w.voice()]
				}
				seg.Words = append(seg.Words, tw)
			}
			talk[labels[w.voice()]] += w.end - w.start
		}
		if f.whisperx {
			seg.Speaker = mostTalk(talk)
		} else {
			out.Words = append(out.Words, seg.Words...)
			seg.Words = nil
		}
		out.Text += seg.Text
		out.Segments = append(out.Segments, seg)
	}
	switch {
	case f.whisperx || f.noWords:
		// Granularities ignored: words where the server puts them.
		if f.noWords {
			out.Words = nil
		}
	case !slices.Contains(rec.Granularities, "word"):
		// As OpenAI does: words only when asked for, and then segments
		// only when asked for too.
		out.Words = nil
	case !slices.Contains(rec.Granularities, "segment"):
		out.Segments = nil
	}
	return out
}

// diarizedJSON is a diarizing model's answer: a segment at each pause or
// change of voice, its speaker lettered in the order the voices first
// speak in this request.
func diarizedJSON(rec fakeRequest, words []burst) any {
	type segment struct {
		Type    string  `json:"type"`
		ID      string  `json:"id"`
		Start   float64 `json:"start"`
		End     float64 `json:"end"`
		Text    string  `json:"text"`
		Speaker string  `json:"speaker"`
	}
	out := struct {
		Task     string         `json:"task"`
		Duration float64        `json:"duration"`
		Text     string         `json:"text"`
		Segments []segment      `json:"segments"`
		Usage    map[string]any `json:"usage"`
	}{Task: "transcribe", Duration: rec.Seconds, Segments: []segment{}, Usage: usage(rec)}
	labels := speakerLabels(words, func(i int) string { return string(rune('A' + i)) })
	for i, p := range phrases(words, true) {
		out.Segments = append(out.Segments, segment{Type: "transcript.text.segment", ID: fmt.Sprintf("seg_%03d", i),
			Start: p[0].start, End: p[len(p)-1].end, Text: strings.TrimSpace(joinText(p)), Speaker: labels[p[0].voice()]})
		out.Text += joinText(p)
	}
	out.Text = strings.TrimSpace(out.Text)
	return out
}

// speakerLabels labels the voices in the order they first speak.
func speakerLabels(words []burst, label func(i int) string) map[int]string {
	labels := map[int]string{}
	for _, w := range words {
		if _, ok := labels[w.voice()]; !ok {
			labels[w.voice()] = label(len(labels))
		}
	}
	return labels
}

func mostTalk(talk map[string]float64) string {
	best := ""
	for sp, d := range talk {
		if best == "" || d > talk[best] || d == talk[best] && sp < best {
			best = sp
		}
	}
	return best
}

// phraseGap is the longest pause inside one of the fake's segments: like
// Whisper, it puts words said close together in one segment.
const phraseGap = 0.3

// phrases groups words into the segments the fake answers with: at each
// pause of phraseGap or more, and with byVoice at each change of voice.
func phrases(words []burst, byVoice bool) [][]burst {
	var out [][]burst
	for i, w := range words {
		if i == 0 || w.start-words[i-1].end >= phraseGap || byVoice && w.voice() != words[i-1].voice() {
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
	freq       float64
}

// voice is who says the burst, for the servers that tell speakers apart:
// tones under 1 kHz are one person's, higher ones another's.
func (b burst) voice() int {
	if b.freq < 1000 {
		return 0
	}
	return 1
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
		out = append(out, burst{start: float64(in) / 16000, end: float64(end) / 16000, text: fmt.Sprintf(" w%d.", int(math.Round(freq/100))), freq: freq})
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
