package redact

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/harkworks/hark"
)

func TestFind(t *testing.T) {
	r := New(Config{Names: []string{"Kayleigh Dunn", "Kayleigh", "Jayden"}})
	for _, tt := range []struct {
		text string
		want []string // "kind:text"
	}{
		{"You can ring me on 07700 900123 or 0161 496 0000.", []string{"phone:07700 900123", "phone:0161 496 0000"}},
		{"Or +44 7700 900456, whichever.", []string{"phone:+44 7700 900456"}},
		{"Email me at kay.dunn@example.co.uk please", []string{"email:kay.dunn@example.co.uk"}},
		{"We moved to M14 5RT in June.", []string{"postcode:M14 5RT"}},
		{"His NHS number is 943 476 5919.", []string{"nhs_number:943 476 5919"}},
		{"That's 943 476 5918, not an NHS number.", nil},
		{"She was born on 3rd March 2019, a Sunday.", []string{"date_of_birth:3rd March 2019"}},
		{"His date of birth is 14/02/2016.", []string{"date_of_birth:14/02/2016"}},
		{"We're at 12 Acacia Avenue now, by the school.", []string{"address:12 Acacia Avenue"}},
		{"My son Leo has been late eleven times.", []string{"name:Leo"}},
		{"and she's called Mia, she's four", []string{"name:Mia"}},
		{"kayleigh said jayden was sick", []string{"name:kayleigh", "name:jayden"}},
		{"Kayleigh Dunn is here.", []string{"name:Kayleigh Dunn"}},
		{"Leo has been late eleven times this term.", nil},    // a name no one listed, said without a cue
		{"The review is at ten on the 14th, in room 2.", nil}, // a date that is no birthday
		{"We need 3 things: a plan, a date and a place.", nil},
	} {
		var got []string
		for _, s := range r.Find(tt.text) {
			got = append(got, s.Kind+":"+tt.text[s.Start:s.End])
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%q: %q, want %q", tt.text, got, tt.want)
		}
	}
}

// Masking keeps every offset: the same length, the same runes where nothing
// was found, spaces kept inside what was.
func TestMaskKeepsOffsets(t *testing.T) {
	r := New(Config{Names: []string{"Zoë"}})
	text := "Zoë rang from 07700 900123 — ask Zoë."
	got, spans := r.Redact(text)
	if len(got) != len(text) || !utf8.ValidString(got) || len(spans) != 3 {
		t.Fatalf("%q (%d bytes, %d spans) from %q (%d bytes)", got, len(got), len(spans), text, len(text))
	}
	if want := "**** rang from ***** ****** — ask ****."; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if i := strings.Index(text, "rang"); got[i:i+4] != "rang" {
		t.Error("an offset moved")
	}
}

// A name introduced once is masked wherever it is said.
func TestLearn(t *testing.T) {
	r := New(Config{}).Learn("How is Leo?", "My son Leo is fine, and Mia too.")
	if got, _ := r.Redact("How is Leo?"); got != "How is ***?" {
		t.Errorf("%q", got)
	}
	if got, _ := r.Redact("Mia is three."); got != "Mia is three." {
		t.Errorf("a name never introduced was masked: %q", got)
	}
	if New(Config{}).Learn("nothing here") == nil {
		t.Error("nil")
	}
}

func TestTranscript(t *testing.T) {
	r := New(Config{Names: []string{"Donna", "Sam"}})
	tr := &hark.Transcript{Segments: []hark.Segment{
		{Speaker: "Sam", Role: hark.RoleWorker, Text: "Hello Donna, how is Kai?"},
		{Speaker: "Donna", Role: hark.RoleParent, Text: "My son Kai is fine. Ring 07700 900123."},
	}, Speakers: &hark.SpeakerInfo{Source: hark.SpeakersTranscript, Roles: []hark.SpeakerRole{{Speaker: "Sam", Role: hark.RoleWorker}, {Speaker: "Donna", Role: hark.RoleParent}}}}
	got, counts := r.Transcript(tr)
	if got.Segments[0].Text != "Hello *****, how is ***?" || got.Segments[1].Text != "My son *** is fine. Ring ***** ******." {
		t.Errorf("texts %q %q", got.Segments[0].Text, got.Segments[1].Text)
	}
	if got.Segments[0].Speaker != "Worker 1" || got.Segments[1].Speaker != "Parent 1" || got.Speakers.Roles[1].Speaker != "Parent 1" {
		t.Errorf("speakers %q %q %+v", got.Segments[0].Speaker, got.Segments[1].Speaker, got.Speakers.Roles)
	}
	if counts[KindName] != 5 || counts[KindPhone] != 1 {
		t.Errorf("counts %v", counts)
	}
	if tr.Segments[0].Text != "Hello Donna, how is Kai?" || tr.Speakers.Roles[0].Speaker != "Sam" {
		t.Error("the transcript given was changed")
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"My son Leo, 07700 900123, M14 5RT", "born on 1/2/2020", "", "\xff\xfe Zoë"} {
		f.Add(s)
	}
	r := New(Config{Names: []string{"Leo", "Zoë"}})
	f.Fuzz(func(t *testing.T, text string) {
		got, spans := r.Redact(text)
		if len(got) != len(text) {
			t.Fatalf("length %d, want %d", len(got), len(text))
		}
		if utf8.ValidString(text) && !utf8.ValidString(got) {
			t.Fatal("masking broke the UTF-8")
		}
		for i, s := range spans {
			if s.Start < 0 || s.End > len(text) || s.Start >= s.End || i > 0 && s.Start < spans[i-1].End {
				t.Fatalf("span %+v out of order or place", s)
			}
		}
	})
}
