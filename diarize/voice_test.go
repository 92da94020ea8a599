package diarize

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// enrol learns a voice from seconds of v speaking alone.
func enrol(t *testing.T, v voice, seconds float64, seed uint64) (Voice, error) {
	t.Helper()
	x, _ := meeting([]voice{v}, [][2]float64{{0, seconds / 2}, {0, seconds / 2}}, 0.4, seed)
	d := New(Config{})
	d.Write(x)
	return d.Voice()
}

func TestVoice(t *testing.T) {
	high1, err := enrol(t, high, 16, 21)
	if err != nil {
		t.Fatal(err)
	}
	if high1.Seconds < MinEnrolSeconds || len(high1.Mean) != Dims || len(high1.Cov) != Dims*Dims {
		t.Fatalf("voice %+v", high1)
	}
	// A voice survives JSON, as it is stored.
	data, _ := json.Marshal(high1)
	var back Voice
	if err := json.Unmarshal(data, &back); err != nil || back.Distance(high1) > 1e-9 {
		t.Fatalf("a voice through JSON: %v, distance %v", err, back.Distance(high1))
	}
	high2, _ := enrol(t, high, 16, 22) // the same voice, other words
	low1, _ := enrol(t, low, 16, 23)
	same, other := high1.Distance(high2), high1.Distance(low1)
	if same >= sameVoice || other <= sameVoice || high1.Distance(high1) > 1e-9 {
		t.Errorf("distance to the same voice %.3f, to another %.3f; want under and over %.2f", same, other, sameVoice)
	}

	// The worker's enrolled voice picks them out of a meeting.
	x, ref := meeting([]voice{low, high}, [][2]float64{{0, 3}, {1, 4}, {0, 2.5}, {1, 3}, {0, 3}}, 0.6, 24)
	d := New(Config{})
	d.Write(x)
	res, err := d.Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Voices) != 2 {
		t.Fatalf("voices of %d speakers, want 2: %v", len(res.Voices), res.Turns)
	}
	who, conf := MatchVoice(high2, res.Voices)
	m := MapSpeakers(ref, res.Turns, nil, 0)
	if m[who] != "B" || conf < 0.5 {
		t.Errorf("the high voice matched %q (reference %q) with confidence %.2f; want the reference's B, over 0.5", who, m[who], conf)
	}
	// A voice that is not in the meeting matches no one.
	mid1, _ := enrol(t, mid, 16, 25)
	if who, conf := MatchVoice(mid1, res.Voices); who != "" && conf > 0.3 {
		t.Errorf("a voice not in the meeting matched %q with confidence %.2f", who, conf)
	}
	if who, conf := MatchVoice(high1, nil); who != "" || conf != 0 {
		t.Errorf("no speakers: %q %.2f", who, conf)
	}
}

func TestVoiceTooShort(t *testing.T) {
	_, err := enrol(t, high, 6, 26)
	if hark.ErrorCode(err) != hark.EINVALID {
		t.Fatalf("a 6 s clip: %v, want EINVALID", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	d := New(Config{})
	d.Write(low.speak(12, rng))
	if _, err := d.Voice(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Voice(); err == nil {
		t.Fatal("Voice twice: no error")
	}
}

// VoiceIn learns only the voice of the turns given: in a meeting of two
// voices, the turns of one give that voice, not a blend; Merge pools two
// learnings of one voice into one as near it.
func TestVoiceIn(t *testing.T) {
	x, ref := meeting([]voice{low, high}, [][2]float64{{0, 4}, {1, 5}, {0, 4}, {1, 5}, {0, 4}, {1, 5}}, 0.5, 31)
	var spans [][2]float64
	for _, r := range ref {
		if r.Speaker == "B" {
			spans = append(spans, [2]float64{r.Start, r.End})
		}
	}
	d := New(Config{})
	d.Write(x)
	got, err := d.VoiceIn(spans)
	if err != nil {
		t.Fatal(err)
	}
	highV, _ := enrol(t, high, 16, 32)
	lowV, _ := enrol(t, low, 16, 33)
	d = New(Config{})
	d.Write(x)
	blend, err := d.Voice() // the whole meeting
	if err != nil {
		t.Fatal(err)
	}
	dh, dl, db := got.Distance(highV), got.Distance(lowV), blend.Distance(highV)
	if dh > dl/5 || dh > db/2 {
		t.Errorf("the high voice's turns: distance %.3f to the high voice, %.3f to the low; the whole meeting's %.3f to the high", dh, dl, db)
	}
	if got.Seconds > 16 || got.Seconds < MinEnrolSeconds {
		t.Errorf("learned from %.1f s; the high voice speaks 15 s", got.Seconds)
	}
	again, _ := enrol(t, high, 16, 34)
	m := Merge(got, again)
	if m.Seconds != got.Seconds+again.Seconds || m.Distance(highV) >= dh || Merge(m).Distance(m) > 1e-9 {
		t.Errorf("merged: %.1f s, distance %.3f", m.Seconds, m.Distance(highV))
	}
	d = New(Config{})
	d.Write(x)
	if _, err := d.VoiceIn([][2]float64{{0, 3}}); hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), "the turns have") {
		t.Errorf("3 s of turns: %v", err)
	}
}
