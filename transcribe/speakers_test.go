package transcribe

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

func TestAssignSpeakers(t *testing.T) {
	turns := []diarize.Turn{
		{Start: 0, End: 4, Speaker: "S1"},
		{Start: 4.2, End: 4.5, Speaker: "S2"}, // a blip inside S1's talk
		{Start: 4.5, End: 8, Speaker: "S1"},
		{Start: 8.3, End: 12, Speaker: "S2"},
	}
	segs := []hark.Segment{
		{Start: 0.5, End: 3.5, Text: "one two three"},
		{Start: 3.8, End: 7.9, Text: "a b c d"},                     // across the blip: stays S1
		{Start: 6, End: 12, Text: "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10"}, // S1 6–8, S2 from 8 (the pause goes to the next speaker)
		{Start: 20, End: 21, Text: "after every turn"},
	}
	got := assignSpeakers(segs, nil, turns, nil)
	want := []hark.Segment{
		{Index: 0, Start: 0.5, End: 3.5, Speaker: "Speaker 1", Text: "one two three"},
		{Index: 1, Start: 3.8, End: 7.9, Speaker: "Speaker 1", Text: "a b c d"},
		{Index: 2, Start: 6, End: 8, Speaker: "Speaker 1", Text: "w1 w2 w3"}, // 10 words × 2 s of 6
		{Index: 3, Start: 8, End: 12, Speaker: "Speaker 2", Text: "w4 w5 w6 w7 w8 w9 w10"},
		{Index: 4, Start: 20, End: 21, Speaker: "", Text: "after every turn"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d segments, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Index != w.Index || g.Speaker != w.Speaker || g.Text != w.Text || !near(g.Start, w.Start) || !near(g.End, w.End) {
			t.Errorf("segment %d: %+v, want %+v", i, g, w)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// timed gives each word length seconds, from start, with a fifth of that
// as a pause before the next.
func timed(start, length float64, text ...string) []spokenWord {
	var ws []spokenWord
	for i, w := range text {
		at := start + float64(i)*1.2*length
		ws = append(ws, spokenWord{Start: at, End: at + length, Text: w})
	}
	return ws
}

// TestAssignSpeakersByWords cuts segments at changes of speaker between
// words, each word to the speaker talking at its midpoint.
func TestAssignSpeakersByWords(t *testing.T) {
	turns := []diarize.Turn{
		{Start: 0, End: 4.1, Speaker: "S1"},
		{Start: 4.1, End: 8, Speaker: "S2"},
		{Start: 8.2, End: 8.5, Speaker: "S1"}, // a blip in S2's talk
		{Start: 8.5, End: 12, Speaker: "S2"},
		{Start: 12, End: 12.5, Speaker: "S1"}, // two quick words
		{Start: 12.5, End: 16, Speaker: "S2"},
		{Start: 20, End: 24, Speaker: "S1"},
	}
	type piece struct {
		start, end float64
		speaker    string
		text       string
	}
	tests := []struct {
		name  string
		seg   hark.Segment
		words []spokenWord
		want  []piece
	}{
		{"cut between the words either side of the change",
			hark.Segment{Start: 2.3, End: 5.8, Text: "Yes, we can. And then what?"},
			timed(2.3, 0.5, "yes", "we", "can", "and", "then", "what"), // midpoints 2.55, 3.15, 3.75 | 4.35 …
			[]piece{{2.3, 4.0, "Speaker 1", "Yes, we can."}, {4.1, 5.8, "Speaker 2", "And then what?"}}},
		{"a word across the change goes by its midpoint",
			hark.Segment{Start: 2.7, End: 5.6, Text: "one two three four five"},
			timed(2.7, 0.5, "one", "two", "three", "four", "five"), // "three" is 3.9–4.4, its midpoint after the change
			[]piece{{2.7, 3.8, "Speaker 1", "one two"}, {3.9, 5.6, "Speaker 2", "three four five"}}},
		{"a one-word blip is absorbed",
			hark.Segment{Start: 7, End: 9.9, Text: "a b c d e"},
			timed(7, 0.5, "a", "b", "c", "d", "e"), // "c" (8.2–8.7) falls in the blip
			[]piece{{7, 9.9, "Speaker 2", "a b c d e"}}},
		{"two words under minSplitSeconds are absorbed",
			hark.Segment{Start: 11, End: 13.6, Text: "p q r s t u v w x y z"},
			timed(11, 0.2, "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z"), // "t", "u" in S1's half second
			[]piece{{11, 13.6, "Speaker 2", "p q r s t u v w x y z"}}},
		{"a word no one is heard in goes with its neighbours",
			hark.Segment{Start: 19.4, End: 21.7, Text: "So I said no."},
			timed(19.4, 0.5, "so", "i", "said", "no"), // "so" lies in the silence before S1's turn
			[]piece{{19.4, 21.7, "Speaker 1", "So I said no."}}},
		{"the text has a word the engine did not time",
			hark.Segment{Start: 1.9, End: 6.1, Text: "So, um, yes, we can. And then what?"},
			timed(1.9, 0.5, "so", "yes", "we", "can", "and", "then", "what"),
			[]piece{{1.9, 4.2, "Speaker 1", "So, um, yes, we can."}, {4.3, 6.1, "Speaker 2", "And then what?"}}},
		{"words that match no word of the text: shared in proportion",
			hark.Segment{Start: 2.3, End: 5.8, Text: "one-two three four-five six"},
			timed(2.3, 0.5, "one", "two", "three", "four", "five", "six"),
			[]piece{{2.3, 4.0, "Speaker 1", "one-two three"}, {4.1, 5.8, "Speaker 2", "four-five six"}}},
		{"words timed a little outside the segment are its own",
			hark.Segment{Start: 2.7, End: 5.4, Text: "yes we can and then what"},
			timed(2.3, 0.5, "yes", "we", "can", "and", "then", "what"),
			[]piece{{2.7, 4.0, "Speaker 1", "yes we can"}, {4.1, 5.4, "Speaker 2", "and then what"}}},
		{"no words: shared in proportion to time",
			hark.Segment{Start: 2, End: 6, Text: "yes we can and then what"},
			nil,
			[]piece{{2, 4.1, "Speaker 1", "yes we can"}, {4.1, 6, "Speaker 2", "and then what"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A word of a segment the engine dropped, far from this one, is no one's.
			words := append(tt.words, spokenWord{Start: 30, End: 30.5, Text: "thanks"})
			got := assignSpeakers([]hark.Segment{tt.seg}, words, turns, nil)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Index != i || g.Speaker != w.speaker || g.Text != w.text || math.Abs(g.Start-w.start) > 1e-6 || math.Abs(g.End-w.end) > 1e-6 {
					t.Errorf("piece %d: %.3f–%.3f %s %q, want %.3f–%.3f %s %q", i, g.Start, g.End, g.Speaker, g.Text, w.start, w.end, w.speaker, w.text)
				}
			}
		})
	}
}

// TestWordsOf shares words among neighbouring segments by their midpoints.
func TestWordsOf(t *testing.T) {
	segs := []hark.Segment{{Start: 0, End: 2}, {Start: 2.1, End: 4}, {Start: 10, End: 12}}
	words := []spokenWord{
		{Start: 1.9, End: 2.05, Text: "a"}, // midpoint 1.975: the first's
		{Start: 2.0, End: 2.3, Text: "b"},  // 2.15: the second's
		{Start: 4.1, End: 4.3, Text: "c"},  // 4.2: just after the second
		{Start: 6, End: 7, Text: "d"},      // near none
		{Start: 9.5, End: 9.8, Text: "e"},  // 9.65: too far before the third
		{Start: 11, End: 11.5, Text: "f"},
	}
	got := wordsOf(segs, words)
	want := [][]string{{"a"}, {"b", "c"}, {"f"}}
	for i := range want {
		var texts []string
		for _, w := range got[i] {
			texts = append(texts, w.Text)
		}
		if strings.Join(texts, " ") != strings.Join(want[i], " ") {
			t.Errorf("segment %d: words %q, want %q", i, texts, want[i])
		}
	}
}

// The roles of the role-play meetings' speakers, guessed from what they say
// in the reference transcripts with the voices' names taken away: the
// worker must be found in at least nine of the ten.
func TestGuessRolesRolePlay(t *testing.T) {
	dir := filepath.Join("..", "testdata", "speakers")
	f, err := os.Open(filepath.Join(dir, "roles.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]map[string]hark.Role{}
	for _, r := range rows[1:] {
		if truth[r[0]] == nil {
			truth[r[0]] = map[string]hark.Role{}
		}
		truth[r[0]][r[1]] = hark.Role(r[2])
	}
	found := 0
	for meeting, roles := range truth {
		data, err := os.ReadFile(filepath.Join(dir, meeting+".vtt"))
		if err != nil {
			t.Fatal(err)
		}
		segs, err := ParseVTT(meeting+".vtt", data)
		if err != nil {
			t.Fatal(err)
		}
		anon := map[string]string{}
		for i := range segs {
			if _, ok := anon[segs[i].Speaker]; !ok {
				anon[segs[i].Speaker] = "Speaker " + string(rune('1'+len(anon)))
			}
			segs[i].Speaker, segs[i].Role = anon[segs[i].Speaker], hark.RoleUnknown
		}
		guessed := guessRoles(segs)
		var worker string
		for label, a := range anon {
			if roles[label] == hark.RoleWorker {
				worker = a
			}
		}
		ok := false
		for _, g := range guessed {
			if g.Role == hark.RoleWorker && g.Speaker == worker {
				ok = true
			}
			if g.Confidence <= 0 || g.Confidence > 1 || g.Source != hark.RoleFromWords {
				t.Errorf("%s: %+v", meeting, g)
			}
		}
		if ok {
			found++
		} else {
			t.Logf("%s: the worker (%s) was not found: %+v", meeting, worker, guessed)
		}
	}
	if len(truth) < 10 || found < 9 {
		t.Errorf("the worker found in %d of %d meetings, want at least 9 of 10", found, len(truth))
	}
}

func TestSettleRoles(t *testing.T) {
	tr := &hark.Transcript{Segments: []hark.Segment{
		{Speaker: "Speaker 1", Text: "Can you tell me how the mornings have been with your children? It sounds like it's been hard."},
		{Speaker: "Speaker 2", Text: "I'm trying my best, my kids are everything to me."},
		{Speaker: "Speaker 1", Text: "We need to explain what happens next with the child protection plan."},
	}}
	settleRoles(tr, "")
	if tr.Segments[0].Role != hark.RoleWorker || tr.Segments[1].Role != hark.RoleParent || tr.Segments[2].Role != hark.RoleWorker {
		t.Fatalf("roles %+v", tr.Segments)
	}
	if tr.Speakers == nil || len(tr.Speakers.Roles) != 2 || tr.Speakers.Roles[0].Source != hark.RoleFromWords || tr.Speakers.Count != 2 {
		t.Fatalf("speakers %+v", tr.Speakers)
	}
	// A named worker is the upload's word, not a guess.
	tr2 := &hark.Transcript{Segments: []hark.Segment{{Speaker: "Sam", Text: "my kids"}, {Speaker: "Jo", Text: "your rights"}}}
	settleRoles(tr2, "sam")
	if tr2.Segments[0].Role != hark.RoleWorker || tr2.Speakers.Roles[0] != (hark.SpeakerRole{Speaker: "Sam", Role: hark.RoleWorker, Confidence: 1, Source: hark.RoleFromMetadata}) {
		t.Fatalf("named worker: %+v %+v", tr2.Segments, tr2.Speakers.Roles)
	}
	if !strings.EqualFold(string(tr2.Segments[1].Role), "parent") {
		t.Fatalf("the other speaker: %+v", tr2.Segments[1])
	}
}

// A mono meeting through a speech engine: the engine's segments come back
// with the speakers told apart in the audio, in agreement with the
// reference, and the transcript says how they were found.
func TestEngineDiarizesMono(t *testing.T) {
	dir := filepath.Join("..", "testdata", "speakers")
	audio, err := os.ReadFile(filepath.Join(dir, "home-visit.wav"))
	if err != nil {
		t.Fatal(err)
	}
	refs, err := diarize.ReadRTTMFile(filepath.Join(dir, "home-visit.rttm"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeWhisper(t)
	e, _ := testOpenAI(t, f, OpenAIConfig{MaxChunkBytes: DefaultMaxChunkBytes})
	tr, err := e.Transcribe(context.Background(), input("home-visit.wav", "", audio))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Speakers == nil || tr.Speakers.Source != hark.SpeakersDiarization || tr.Speakers.Count != 2 || tr.Speakers.Problem != "" {
		t.Fatalf("speakers %+v, want two found by diarization", tr.Speakers)
	}
	var hyp []diarize.Turn
	for _, s := range tr.Segments {
		if !strings.HasPrefix(s.Speaker, "Speaker ") {
			t.Fatalf("segment %d has speaker %q", s.Index, s.Speaker)
		}
		hyp = append(hyp, diarize.Turn{Start: s.Start, End: s.End, Speaker: s.Speaker})
	}
	ref := refs["home-visit"]
	m := diarize.MapSpeakers(ref, hyp, nil, 0)
	var agree, total float64
	for _, h := range hyp {
		total += h.End - h.Start
		for _, r := range ref {
			if m[h.Speaker] == r.Speaker {
				agree += max(0, min(h.End, r.End)-max(h.Start, r.Start))
			}
		}
	}
	if total == 0 || agree/total < 0.85 {
		t.Errorf("segments agree with the reference speakers for %.0f%% of their time, want at least 85%%", 100*agree/total)
	}
}

// dialogue is a mono meeting of two voices as the fake tells them apart:
// one speaker's words are low tones (from 300 Hz), the other's high ones
// (from 2 kHz).
type dialogue struct {
	words []word
	turns []string // "Speaker <voice+1>: text" for each turn
	at    float64
}

// turn adds n words of voice, each length seconds with 0.15 s between,
// and a pause after.
func (d *dialogue) turn(voice, n int, length, pauseAfter float64) {
	if d.at == 0 {
		d.at = 0.5
	}
	var text []string
	for i := range n {
		w := word{0, d.at, d.at + length, []float64{300, 2000}[voice] + float64(i)*100}
		d.words = append(d.words, w)
		text = append(text, w.text())
		d.at += length + 0.15
	}
	d.at += pauseAfter - 0.15
	d.turns = append(d.turns, fmt.Sprintf("Speaker %d: %s", voice+1, strings.Join(text, " ")))
}

func (d *dialogue) input() hark.EngineInput {
	in := input("m.wav", "", wordsAudio(d.words, 1, d.at+0.5))
	in.Recording.Speakers = 2
	return in
}

// voiceOf is who says a word the fake named: "w3." is a low tone's.
func voiceOf(text string) int {
	if n, _ := strconv.Atoi(strings.Trim(text, "w.")); n >= 10 {
		return 1
	}
	return 0
}

// checkVoices checks that every word is in the transcript once, in order,
// that no segment mixes the voices, and that each voice has a speaker of
// its own throughout.
func checkVoices(t *testing.T, segs []hark.Segment, d *dialogue) {
	t.Helper()
	checkAllWords(t, segs, d)
	speaker := map[int]string{}
	for _, s := range segs {
		tokens := strings.Fields(s.Text)
		v := voiceOf(tokens[0])
		if slices.ContainsFunc(tokens, func(tok string) bool { return voiceOf(tok) != v }) {
			t.Errorf("segment %d (%s) mixes the voices: %q", s.Index, s.Speaker, s.Text)
		}
		if speaker[v] == "" {
			speaker[v] = s.Speaker
		}
		if s.Speaker == "" || s.Speaker != speaker[v] || speaker[1-v] == s.Speaker {
			t.Errorf("segment %d %q: speaker %q, but voice %d is %q and voice %d %q", s.Index, s.Text, s.Speaker, v, speaker[v], 1-v, speaker[1-v])
		}
	}
}

// TestEngineCutsAtWords sends a mono meeting of two voices to the openai
// engine; where one speaker runs straight on from the other, the fake puts
// both in one segment, and the engine must cut it at the word where the
// speaker changes. The first speaker's words are long and the second's
// short, so a cut in proportion to time would give the first speaker words
// of the second. A server that gives no word times still gives every word,
// shared in proportion.
func TestEngineCutsAtWords(t *testing.T) {
	var d dialogue
	d.turn(0, 5, 0.6, 1)
	d.turn(1, 6, 0.5, 1)
	d.turn(0, 3, 1.0, 0.15) // straight on into the other's turn: one segment
	d.turn(1, 6, 0.3, 1)
	d.turn(0, 5, 0.6, 1)
	d.turn(1, 4, 0.5, 0.15) // and back
	d.turn(0, 4, 0.6, 1)
	for _, noWords := range []bool{false, true} {
		t.Run(fmt.Sprint("no words ", noWords), func(t *testing.T) {
			f := newFakeWhisper(t)
			f.noWords = noWords
			e, _ := testOpenAI(t, f, OpenAIConfig{MaxChunkBytes: DefaultMaxChunkBytes})
			tr, err := e.Transcribe(context.Background(), d.input())
			if err != nil {
				t.Fatal(err)
			}
			if tr.Speakers == nil || tr.Speakers.Source != hark.SpeakersDiarization || tr.Speakers.Count != 2 {
				t.Fatalf("speakers %+v", tr.Speakers)
			}
			if len(f.reqs()) != 1 || !slices.Contains(f.reqs()[0].Granularities, "word") {
				t.Errorf("requests %+v, want one asking for word times", f.reqs())
			}
			if noWords {
				checkAllWords(t, tr.Segments, &d)
				return
			}
			var got []string
			for _, s := range tr.Segments {
				got = append(got, s.Speaker+": "+s.Text)
			}
			if strings.Join(got, "\n") != strings.Join(d.turns, "\n") {
				t.Errorf("segments\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(d.turns, "\n"))
			}
			// The pieces of a cut segment end and start with their words.
			for i, s := range tr.Segments {
				if i > 0 && s.Start < tr.Segments[i-1].End {
					t.Errorf("segment %d starts at %.2f, before the one before ends (%.2f)", i, s.Start, tr.Segments[i-1].End)
				}
			}
		})
	}
}

// checkAllWords checks that every word is in the transcript once, in
// order.
func checkAllWords(t *testing.T, segs []hark.Segment, d *dialogue) {
	t.Helper()
	var got, want []string
	for _, s := range segs {
		got = append(got, s.Text)
	}
	for _, w := range d.words {
		want = append(want, w.text())
	}
	if strings.Join(strings.Fields(strings.Join(got, " ")), " ") != strings.Join(want, " ") {
		t.Errorf("words %q, want %q", strings.Join(got, " "), strings.Join(want, " "))
	}
}

// TestEngineSpeakers keeps the speakers a diarizing engine gives: OpenAI's
// gpt-4o-transcribe-diarize (diarized_json) and a WhisperX-based server
// (speakers on verbose_json's segments and words). Labels are per request,
// so across chunks they are matched by voice through hark's diarization;
// within one chunk they are the engine's own.
func TestEngineSpeakers(t *testing.T) {
	var d dialogue
	for i := range 16 {
		pause := 0.8
		if i%3 == 2 {
			pause = 0.15 // straight on into the other's turn
		}
		d.turn(i%2, 2+(i*5)%4, 0.5-0.05*float64(i%2), pause)
	}
	if d.at < 35 {
		t.Fatalf("the meeting is %.1f s long; it should be over 30 s", d.at)
	}
	tests := []struct {
		name     string
		whisperx bool
		cfg      OpenAIConfig
		names    [2]string // each voice's speaker; "" for any
	}{
		{"diarized_json in chunks", false, OpenAIConfig{Model: "gpt-4o-transcribe-diarize"}, [2]string{}},
		{"diarized_json in one chunk", false, OpenAIConfig{Model: "gpt-4o-transcribe-diarize", MaxChunkBytes: DefaultMaxChunkBytes}, [2]string{"Speaker A", "Speaker B"}},
		{"WhisperX in chunks", true, OpenAIConfig{Model: "large-v3"}, [2]string{}},
		{"WhisperX in one chunk", true, OpenAIConfig{Model: "large-v3", MaxChunkBytes: DefaultMaxChunkBytes}, [2]string{"Speaker 1", "Speaker 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeWhisper(t)
			f.whisperx = tt.whisperx
			e, _ := testOpenAI(t, f, tt.cfg)
			tr, err := e.Transcribe(context.Background(), d.input())
			if err != nil {
				t.Fatal(err)
			}
			sp := tr.Speakers
			if sp == nil || sp.Source != hark.SpeakersEngine || sp.Count != 2 || sp.Problem != "" || sp.Confidence < 0.9 {
				t.Fatalf("speakers %+v, want two from the engine", sp)
			}
			checkVoices(t, tr.Segments, &d)
			for _, s := range tr.Segments {
				if v := voiceOf(strings.Fields(s.Text)[0]); tt.names[v] != "" && s.Speaker != tt.names[v] {
					t.Errorf("segment %d %q: speaker %q, want %q", s.Index, s.Text, s.Speaker, tt.names[v])
				}
			}
			reqs := f.reqs()
			relabelled := false // a chunk whose first voice is the high one: its "A" is the other chunks' "B"
			for _, r := range reqs {
				relabelled = relabelled || len(r.Voices) > 0 && r.Voices[0] == 1
				switch {
				case tt.whisperx && (r.ResponseFormat != "verbose_json" || r.ChunkingStrategy != ""):
					t.Errorf("request %+v, want verbose_json", r)
				case !tt.whisperx && (r.ResponseFormat != "diarized_json" || r.ChunkingStrategy != "auto" || r.Prompt != "" || r.Granularities != nil):
					t.Errorf("request %+v, want diarized_json, chunking_strategy auto, no prompt and no granularities", r)
				}
			}
			if len(reqs) > 1 && !relabelled {
				t.Errorf("no chunk starts with the other voice: the test does not show labels matched across chunks")
			}
		})
	}
}

// Channels come before an engine's speakers: a stereo recording with the
// worker's channel named has Worker and Parent, whatever a WhisperX server
// says.
func TestEngineSpeakersAfterChannels(t *testing.T) {
	f := newFakeWhisper(t)
	f.whisperx = true
	words := []word{{0, 0.5, 1.5, 400}, {1, 2.0, 3.0, 2500}, {0, 3.5, 4.5, 600}}
	e, _ := testOpenAI(t, f, OpenAIConfig{})
	tr, err := e.Transcribe(context.Background(), input("m.wav", "left", wordsAudio(words, 2, 5)))
	if err != nil {
		t.Fatal(err)
	}
	checkWords(t, tr.Segments, words)
	if tr.Speakers.Source != hark.SpeakersChannels {
		t.Errorf("speakers %+v, want channels", tr.Speakers)
	}
	for i, s := range tr.Segments {
		if want := []string{"Worker", "Parent"}[words[i].channel]; s.Speaker != want {
			t.Errorf("segment %d: speaker %q, want %q", i, s.Speaker, want)
		}
	}
}
