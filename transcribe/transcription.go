package transcribe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
)

// Response formats of the openai engine (OpenAIConfig.ResponseFormat).
const (
	// FormatVerboseJSON is Whisper's: segments with their times and scores,
	// and the words' times when asked for. Servers built on WhisperX add
	// speakers to its segments and words.
	FormatVerboseJSON = "verbose_json"
	// FormatDiarizedJSON is OpenAI's diarizing models': segments, each
	// with its time and its speaker.
	FormatDiarizedJSON = "diarized_json"
	// FormatJSON is the text alone: one segment a chunk.
	FormatJSON = "json"
)

// transcription is an answer of POST /audio/transcriptions in any of the
// JSON formats: verbose_json (segments with scores; the words' times at the
// top when asked for, or inside each segment on WhisperX-style servers,
// which also give segments and words a speaker, "SPEAKER_00"),
// diarized_json (segments with a speaker each, "A", "B", …) and json (the
// text alone).
type transcription struct {
	Language string               `json:"language"`
	Duration float64              `json:"duration"`
	Text     string               `json:"text"`
	Segments []transcribedSegment `json:"segments"`
	Words    []transcribedWord    `json:"words"`
}

type transcribedSegment struct {
	Start        float64           `json:"start"`
	End          float64           `json:"end"`
	Text         string            `json:"text"`
	AvgLogprob   *float64          `json:"avg_logprob"`
	NoSpeechProb float64           `json:"no_speech_prob"`
	Speaker      serverLabel       `json:"speaker"`
	Words        []transcribedWord `json:"words"`
}

type transcribedWord struct {
	Word    string      `json:"word"`
	Start   *float64    `json:"start"` // WhisperX leaves words it could not align untimed
	End     *float64    `json:"end"`
	Speaker serverLabel `json:"speaker"`
}

// serverLabel is a speaker as a server labels it: a string, or from some
// servers a number; null is no one.
type serverLabel string

// UnmarshalJSON reads a string, a number or null.
func (l *serverLabel) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*l = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = serverLabel(strings.TrimSpace(s))
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("a speaker label is neither a string nor a number: %s", b)
		}
		*l = serverLabel(n.String())
	}
	return nil
}

// parseTranscription reads an answer about a chunk of seconds into its
// segments and words, with the speakers the server gave them, if any.
// Segments Whisper itself marks as probably not speech are dropped, with
// their words: they are where it invents text over silence. An answer with
// text but no segments (json, or a server that ignores verbose_json) is one
// segment for the chunk. Errors say what is wrong with the answer.
func parseTranscription(raw []byte, seconds float64) (chunkResult, error) {
	var t transcription
	if err := json.Unmarshal(raw, &t); err != nil {
		return chunkResult{}, fmt.Errorf("read the transcription: %w", err)
	}
	r := chunkResult{language: t.Language}
	var dropped []hark.Segment
	var nested []transcribedWord
	for _, s := range t.Segments {
		text := strings.TrimSpace(s.Text)
		if text == "" || s.AvgLogprob != nil && s.NoSpeechProb > 0.6 && *s.AvgLogprob < -1 {
			dropped = append(dropped, hark.Segment{Start: s.Start, End: s.End})
			continue
		}
		seg := hark.Segment{Start: s.Start, End: max(s.End, s.Start), Text: text, Speaker: string(s.Speaker)}
		if s.AvgLogprob != nil {
			seg.Confidence = clamp(math.Exp(*s.AvgLogprob), 0, 1)
		}
		r.segments = append(r.segments, seg)
		nested = append(nested, s.Words...)
	}
	if len(t.Segments) == 0 && strings.TrimSpace(t.Text) != "" {
		end := t.Duration
		if end <= 0 {
			end = seconds // json says nothing of time
		}
		r.segments = []hark.Segment{{Start: 0, End: end, Text: strings.TrimSpace(t.Text)}}
	}
	words := t.Words
	if len(words) == 0 {
		words = nested // WhisperX puts them in their segments
	}
	for _, w := range words {
		if w.Start == nil || w.End == nil {
			continue
		}
		word := spokenWord{Start: *w.Start, End: max(*w.End, *w.Start), Text: w.Word, Speaker: string(w.Speaker)}
		if !slices.ContainsFunc(dropped, func(s hark.Segment) bool { return s.Start <= word.mid() && word.mid() < s.End }) {
			r.words = append(r.words, word)
		}
	}
	return r, nil
}

// engineKey names a speaker label of one chunk's answer: labels are the
// server's per request, so "A" in one chunk need not be "A" in the next.
func engineKey(chunk int, label string) string {
	if label == "" {
		return ""
	}
	return strconv.Itoa(chunk) + "/" + label
}

// splitEngineKey is engineKey's chunk and label.
func splitEngineKey(key string) (chunk int, label string) {
	c, label, _ := strings.Cut(key, "/")
	chunk, _ = strconv.Atoi(c)
	return chunk, label
}

// engineName is what a transcript calls a speaker the engine labelled:
// "A" is "Speaker A", WhisperX's "SPEAKER_00" is "Speaker 1"; a name (a
// known speaker's) stays as it is.
func engineName(label string) string {
	upper := strings.ToUpper(label)
	for _, prefix := range []string{"SPEAKER_", "SPEAKER ", "SPK_"} {
		if n, err := strconv.Atoi(strings.TrimPrefix(upper, prefix)); strings.HasPrefix(upper, prefix) && err == nil && n >= 0 {
			return "Speaker " + strconv.Itoa(n+1)
		}
	}
	if len(label) <= 2 && strings.ToUpper(label) == label {
		return "Speaker " + label
	}
	return label
}
