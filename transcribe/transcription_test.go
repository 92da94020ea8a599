package transcribe

import (
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

// Answers as the servers give them: OpenAI's whisper-1 (verbose_json with
// word times), gpt-4o-transcribe-diarize (diarized_json), a WhisperX-based
// server and speaches (words at the top and in the segments), and text.
var (
	whisper1Answer = `{"task":"transcribe","language":"english","duration":4.2,"text":" Hello there. How are you?",
"segments":[{"id":0,"seek":0,"start":0.0,"end":1.5,"text":" Hello there.","tokens":[50364,2425,50414],"temperature":0.0,"avg_logprob":-0.25,"compression_ratio":0.9,"no_speech_prob":0.02},
{"id":1,"seek":0,"start":1.8,"end":3.1,"text":" How are you?","tokens":[50414,1012,50464],"temperature":0.0,"avg_logprob":-0.3,"compression_ratio":0.9,"no_speech_prob":0.01},
{"id":2,"seek":0,"start":3.9,"end":4.2,"text":" Thank you.","tokens":[50464,2561,50514],"temperature":0.0,"avg_logprob":-1.3,"compression_ratio":0.6,"no_speech_prob":0.85}],
"words":[{"word":"Hello","start":0.0,"end":0.6000000238418579},{"word":"there","start":0.6000000238418579,"end":1.5},
{"word":"How","start":1.8,"end":2.1},{"word":"are","start":2.1,"end":2.5},{"word":"you","start":2.5,"end":3.1},
{"word":"Thank","start":3.9,"end":4.0},{"word":"you","start":4.0,"end":4.2}]}`
	diarizedAnswer = `{"task":"transcribe","duration":9.5,"text":"Can you tell me about the mornings? They've been hard.",
"segments":[{"type":"transcript.text.segment","id":"seg_001","start":0.4,"end":2.9,"text":"Can you tell me about the mornings?","speaker":"A"},
{"type":"transcript.text.segment","id":"seg_002","start":3.3,"end":5.1,"text":"They've been hard.","speaker":"B"}],
"usage":{"type":"duration","seconds":10}}`
	whisperXAnswer = `{"language":"en","segments":[
{"start":0.5,"end":3.2,"text":" I see. And the school run in 2024?","speaker":"SPEAKER_00","words":[
{"word":"I","start":0.5,"end":0.6,"score":0.9,"speaker":"SPEAKER_00"},{"word":"see.","start":0.7,"end":1.0,"score":0.8,"speaker":"SPEAKER_00"},
{"word":"And","start":1.4,"end":1.6,"score":0.9,"speaker":"SPEAKER_01"},{"word":"the","start":1.6,"end":1.7,"score":0.9,"speaker":"SPEAKER_01"},
{"word":"school","start":1.7,"end":2.1,"score":0.9,"speaker":"SPEAKER_01"},{"word":"run","start":2.1,"end":2.4,"score":0.9},
{"word":"in","start":2.4,"end":2.5,"score":0.7,"speaker":"SPEAKER_01"},{"word":"2024?"}]},
{"start":4.0,"end":4.5,"text":" Mm.","speaker":null,"words":[{"word":"Mm.","start":4.0,"end":4.5,"score":0.5}]}],
"word_segments":[]}`
	speachesAnswer = `{"task":"transcribe","language":"en","duration":2.0,"text":"Yes please.",
"segments":[{"id":1,"seek":0,"start":0.0,"end":1.2,"text":"Yes please.","tokens":[1],"temperature":0.0,"avg_logprob":-0.1,"compression_ratio":1.0,"no_speech_prob":0.0,
"words":[{"start":0.0,"end":0.5,"word":" Yes","probability":0.9},{"start":0.5,"end":1.2,"word":" please.","probability":0.9}]}],
"words":[{"start":0.0,"end":0.5,"word":" Yes","probability":0.9},{"start":0.5,"end":1.2,"word":" please.","probability":0.9}]}`
)

func TestParseTranscription(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		segs   []string // "start-end speaker: text"
		words  []string // "start-end speaker: word"
		lang   string
	}{
		{"whisper-1 with word times", whisper1Answer,
			[]string{"0-1.5 : Hello there.", "1.8-3.1 : How are you?"}, // the hallucination dropped, with its words
			[]string{"0-0.6 : Hello", "0.6-1.5 : there", "1.8-2.1 : How", "2.1-2.5 : are", "2.5-3.1 : you"}, "english"},
		{"diarized_json", diarizedAnswer,
			[]string{"0.4-2.9 A: Can you tell me about the mornings?", "3.3-5.1 B: They've been hard."}, nil, ""},
		{"WhisperX", whisperXAnswer,
			[]string{"0.5-3.2 SPEAKER_00: I see. And the school run in 2024?", "4-4.5 : Mm."},
			[]string{"0.5-0.6 SPEAKER_00: I", "0.7-1 SPEAKER_00: see.", "1.4-1.6 SPEAKER_01: And", "1.6-1.7 SPEAKER_01: the",
				"1.7-2.1 SPEAKER_01: school", "2.1-2.4 : run", "2.4-2.5 SPEAKER_01: in", "4-4.5 : Mm."}, "en"}, // "2024?" has no times
		{"speaches: words at the top and in segments", speachesAnswer,
			[]string{"0-1.2 : Yes please."}, []string{"0-0.5 :  Yes", "0.5-1.2 :  please."}, "en"},
		{"json", `{"text":"Hello there."}`, []string{"0-12.5 : Hello there."}, nil, ""},
		{"json with usage", `{"text":" Hi. ","usage":{"type":"tokens","input_tokens":14,"output_tokens":3,"total_tokens":17}}`, []string{"0-12.5 : Hi."}, nil, ""},
		{"a numeric speaker", `{"segments":[{"start":1,"end":2,"text":"Hi","speaker":1}]}`, []string{"1-2 1: Hi"}, nil, ""},
		{"nothing said", `{"text":"","segments":[]}`, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseTranscription([]byte(tt.answer), 12.5)
			if err != nil {
				t.Fatal(err)
			}
			var segs, words []string
			for _, s := range r.segments {
				segs = append(segs, fmt.Sprintf("%g-%g %s: %s", s.Start, s.End, s.Speaker, s.Text))
			}
			for _, w := range r.words {
				words = append(words, fmt.Sprintf("%.3g-%.3g %s: %s", w.Start, w.End, w.Speaker, w.Text))
			}
			if fmt.Sprint(segs) != fmt.Sprint(tt.segs) || fmt.Sprint(words) != fmt.Sprint(tt.words) || r.language != tt.lang {
				t.Errorf("segments %q\nwords %q\nlanguage %q\nwant %q\n%q\n%q", segs, words, r.language, tt.segs, tt.words, tt.lang)
			}
		})
	}
	r, _ := parseTranscription([]byte(whisper1Answer), 0)
	if c := r.segments[0].Confidence; math.Abs(c-math.Exp(-0.25)) > 1e-9 {
		t.Errorf("confidence %v, want exp(avg_logprob)", c)
	}
	for _, bad := range []string{"<html>Welcome to nginx!</html>", `{"segments":{}}`, `{"segments":[{"speaker":{"name":"A"}}]}`, ""} {
		if _, err := parseTranscription([]byte(bad), 1); err == nil {
			t.Errorf("parseTranscription(%q): no error", bad)
		}
	}
}

// FuzzParseTranscription: whatever a server answers, hark does not panic,
// and what it keeps has times in order.
func FuzzParseTranscription(f *testing.F) {
	for _, a := range []string{whisper1Answer, diarizedAnswer, whisperXAnswer, speachesAnswer, `{"text":"x"}`} {
		f.Add([]byte(a))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := parseTranscription(raw, 10)
		if err != nil {
			return
		}
		for _, s := range r.segments {
			if s.End < s.Start || strings.TrimSpace(s.Text) == "" {
				t.Errorf("segment %+v", s)
			}
		}
		for _, w := range r.words {
			if w.End < w.Start {
				t.Errorf("word %+v", w)
			}
		}
	})
}

func TestEngineName(t *testing.T) {
	for label, want := range map[string]string{"A": "Speaker A", "B": "Speaker B", "SPEAKER_00": "Speaker 1", "speaker_11": "Speaker 12",
		"SPK_2": "Speaker 3", "agent": "agent", "Dr Patel": "Dr Patel", "3": "Speaker 3"} {
		if got := engineName(label); got != want {
			t.Errorf("engineName(%q) = %q, want %q", label, got, want)
		}
	}
}

// TestEngineSpeakerNames matches the engine's per-chunk labels by voice
// through hark's turns.
func TestEngineSpeakerNames(t *testing.T) {
	turns := []diarize.Turn{{Start: 0, End: 10, Speaker: "S1"}, {Start: 10, End: 20, Speaker: "S2"}, {Start: 20, End: 30, Speaker: "S1"}}
	seg := func(start, end float64, key string) hark.Segment {
		return hark.Segment{Start: start, End: end, Speaker: key, Text: "x"}
	}
	twoChunks := []hark.Segment{seg(1, 9, "0/A"), seg(11, 14, "0/B"), seg(16, 19, "1/A"), seg(21, 29, "1/B")}
	tests := []struct {
		name     string
		segs     []hark.Segment
		words    []spokenWord
		turns    []diarize.Turn
		names    map[string]string
		byVoice  bool
		conf     float64
		problem  string
		unlinked bool
	}{
		{"labels of two chunks matched by voice", twoChunks, nil, turns,
			map[string]string{"0/A": "Speaker 1", "0/B": "Speaker 2", "1/A": "Speaker 2", "1/B": "Speaker 1"}, true, 1, "", false},
		{"one chunk: the engine's labels", []hark.Segment{seg(1, 9, "0/SPEAKER_00"), seg(9, 14, "0/SPEAKER_01")}, nil, turns,
			map[string]string{"0/SPEAKER_00": "Speaker 1", "0/SPEAKER_01": "Speaker 2"}, false, 12.0 / 13, "", false}, // 9–10 is S1's
		{"no diarization: named by part", twoChunks, nil, nil,
			map[string]string{"0/A": "Speaker A (part 1)", "0/B": "Speaker B (part 1)", "1/A": "Speaker A (part 2)", "1/B": "Speaker B (part 2)"},
			false, 0, "hark could not match them from one part to the next (no speech was found)", true},
		{"a label where hark heard no one", append(twoChunks[:3:3], seg(40, 42, "1/C")), nil, turns,
			map[string]string{"0/A": "Speaker 1", "0/B": "Speaker 2", "1/A": "Speaker 2", "1/C": "Speaker C (part 2)"}, true, 1, "1 of the speakers", false},
		{"words' labels count, not the segments'", []hark.Segment{seg(8, 12, "0/A"), seg(12, 20, "1/A")},
			[]spokenWord{{Start: 8, End: 9.5, Speaker: "0/A"}, {Start: 10.5, End: 12, Speaker: "0/B"}, {Start: 12, End: 20, Speaker: "1/A"}}, turns,
			map[string]string{"0/A": "Speaker 1", "0/B": "Speaker 2", "1/A": "Speaker 2"}, true, 1, "", false},
		{"no labels", []hark.Segment{{Start: 1, End: 2, Text: "x"}}, nil, turns, nil, false, 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, byVoice, info := engineSpeakers(tt.segs, tt.words, tt.turns, "no speech was found")
			if fmt.Sprint(names) != fmt.Sprint(tt.names) || byVoice != tt.byVoice {
				t.Fatalf("names %v (by voice %v), want %v (%v)", names, byVoice, tt.names, tt.byVoice)
			}
			if names == nil {
				if info != nil {
					t.Errorf("info %+v for no labels", info)
				}
				return
			}
			if info.Source != hark.SpeakersEngine || math.Abs(info.Confidence-tt.conf) > 1e-9 || !strings.Contains(info.Problem, tt.problem) || (tt.problem == "") != (info.Problem == "") {
				t.Errorf("info %+v, want confidence %v and a problem with %q", info, tt.conf, tt.problem)
			}
		})
	}
}

// TestAssignEngineSpeakers names segments by the engine's labels, cut
// where its words change speaker; what it did not label goes by hark's
// turns.
func TestAssignEngineSpeakers(t *testing.T) {
	turns := []diarize.Turn{{Start: 0, End: 30, Speaker: "S2"}}
	names := map[string]string{"0/SPEAKER_00": "Speaker 1", "0/SPEAKER_01": "Speaker 2"}
	words := timed(1, 0.5, "i", "see", "and", "the", "school", "run")
	for i, sp := range []string{"0/SPEAKER_00", "0/SPEAKER_00", "0/SPEAKER_01", "0/SPEAKER_01", "", "0/SPEAKER_01"} {
		words[i].Speaker = sp // "school" has no speaker: it goes with its neighbours
	}
	segs := []hark.Segment{
		{Start: 1, End: 4.5, Speaker: "0/SPEAKER_00", Text: "I see. And the school run?"},
		{Start: 6, End: 8, Speaker: "0/SPEAKER_01", Text: "Mm."}, // no words: the segment's label
		{Start: 10, End: 12, Text: "Right."},                     // no label: hark's speaker
	}
	got := assignSpeakers(segs, words, turns, names)
	var pieces []string
	for _, s := range got {
		pieces = append(pieces, fmt.Sprintf("%d %g-%g %s: %s", s.Index, s.Start, s.End, s.Speaker, s.Text))
	}
	want := []string{"0 1-2.1 Speaker 1: I see.", "1 2.2-4.5 Speaker 2: And the school run?", "2 6-8 Speaker 2: Mm.", "3 10-12 Speaker 2: Right."}
	if fmt.Sprint(pieces) != fmt.Sprint(want) {
		t.Errorf("segments %q,\nwant %q", pieces, want)
	}
}

// When diarization fails, the engine's speakers are kept, named by part,
// and the transcript says why they are not matched across parts; without
// the engine's speakers, the segments are kept with speakers unknown.
func TestNameSpeakersWithoutDiarization(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	segs := []hark.Segment{{Start: 1, End: 2, Speaker: "0/A", Text: "Hello."}, {Start: 8, End: 9, Speaker: "1/A", Text: "Hi."}}
	got, info := nameSpeakers(segs, nil, nil, 0, nil, quiet) // a nil diarizer panics
	if got[0].Speaker != "Speaker A (part 1)" || got[1].Speaker != "Speaker A (part 2)" || info.Source != hark.SpeakersEngine || info.Count != 2 ||
		!strings.Contains(info.Problem, "could not match them from one part to the next (telling the speakers apart failed (an internal error))") {
		t.Errorf("segments %+v, speakers %+v", got, info)
	}
	got, info = nameSpeakers([]hark.Segment{{Start: 1, End: 2, Text: "Hello."}}, nil, nil, 0, nil, quiet)
	if len(got) != 1 || got[0].Speaker != "" || info.Source != hark.SpeakersNone ||
		info.Problem != "telling the speakers apart failed (an internal error); the speakers are unknown" {
		t.Errorf("segments %+v, speakers %+v", got, info)
	}
}
