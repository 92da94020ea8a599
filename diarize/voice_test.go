package diarize

import (
	"encoding/json"
	"math/rand/v2"
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
